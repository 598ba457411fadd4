/**
 * Lago catalog documents -> billing's domain types, mapped once here. What billing cannot price yet
 * (charge models other than standard, graduated and volume; aggregations other than
 * unique/count/sum) is reported, never silently billed as zero.
 */
import type { BillableMetricDoc } from '../store/billable-metrics';
import type { CustomerDoc } from '../store/customers';
import type { PlanWithMetrics } from '../store/plans';
import { chargePropertiesOf } from '../store/plans';
import type { BillableMetric } from '../billing/billable-metric';
import { AGGREGATION_TYPES } from '../billing/billable-metric';
import type { Plan } from '../billing/plan';
import { isChargeModelName, type ChargeProperties } from '../billing/charge-models';
import { tierRangesOf } from './lago/charge-ranges';
import { isDecimalString } from '../billing/money';

export type SnapshotResult =
  | { ok: true; plan: Plan; metrics: BillableMetric[] }
  | {
      ok: false;
      problems: {
        charge: string;
        problem:
          | 'unsupported_charge_model'
          | 'unsupported_pay_in_advance_charge'
          | 'unsupported_trial_period'
          | 'unsupported_aggregation_type'
          | 'invalid_amount'
          | 'invalid_graduated_ranges'
          | 'invalid_volume_ranges';
      }[];
    };

export function billingMetricOf(doc: BillableMetricDoc): BillableMetric | null {
  const aggregation = (AGGREGATION_TYPES as readonly string[]).includes(doc.aggregation_type)
    ? (doc.aggregation_type as BillableMetric['aggregationType'])
    : null;
  if (!aggregation) return null;
  return {
    code: doc.code,
    name: doc.name,
    lagoId: doc._id,
    aggregationType: aggregation,
    fieldName: doc.field_name,
    recurring: doc.recurring,
  };
}

export function billingSnapshotOf({ plan, billableMetrics }: PlanWithMetrics): SnapshotResult {
  const problems: Extract<SnapshotResult, { ok: false }>['problems'] = [];
  const metrics: BillableMetric[] = [];
  const charges: Plan['charges'] = [];
  for (const charge of plan.charges) {
    const doc = billableMetrics.find((m) => m._id === charge.billable_metric_id);
    const metric = doc ? billingMetricOf(doc) : null;
    if (!metric) {
      problems.push({ charge: charge.code, problem: 'unsupported_aggregation_type' });
      continue;
    }
    if (!isChargeModelName(charge.charge_model)) {
      problems.push({ charge: charge.code, problem: 'unsupported_charge_model' });
      continue;
    }
    // Billed per add when it happens (SPEC section 8, src/billing/in-advance-cycle.ts): prorated
    // standard seats only. Other pay-in-advance charges (per event, unprorated) are not priced yet,
    // and billing them in arrears instead would send a wrong bill: refused.
    if (
      charge.pay_in_advance &&
      !(
        charge.prorated &&
        charge.charge_model === 'standard' &&
        metric.aggregationType === 'unique_count_agg' &&
        metric.recurring
      )
    ) {
      problems.push({ charge: charge.code, problem: 'unsupported_pay_in_advance_charge' });
      continue;
    }
    const stored = chargePropertiesOf(charge);
    let properties: ChargeProperties;
    if (charge.charge_model === 'standard') {
      const amount = stored.amount;
      if (typeof amount !== 'string' || !isDecimalString(amount)) {
        problems.push({ charge: charge.code, problem: 'invalid_amount' });
        continue;
      }
      properties = { amount };
    } else {
      const ranges = tierRangesOf(charge.charge_model, stored);
      if (!ranges) {
        problems.push({ charge: charge.code, problem: `invalid_${charge.charge_model}_ranges` });
        continue;
      }
      properties =
        charge.charge_model === 'graduated' ? { graduatedRanges: ranges } : { volumeRanges: ranges };
    }
    if (!metrics.some((m) => m.code === metric.code)) metrics.push(metric);
    charges.push({
      code: charge.code,
      lagoId: charge.lago_id,
      billableMetricCode: metric.code,
      chargeModel: charge.charge_model,
      prorated: charge.prorated,
      properties,
      invoiceDisplayName: charge.invoice_display_name,
      payInAdvance: charge.pay_in_advance,
    });
  }
  // Lago takes a fractional trial_period; the fee is billed by whole local days (trial.ts).
  const trialPeriodDays = plan.trial_period ?? 0;
  if (!Number.isSafeInteger(trialPeriodDays))
    problems.push({ charge: 'trial_period', problem: 'unsupported_trial_period' });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    plan: {
      code: plan.code,
      interval: plan.interval,
      amountCents: plan.amount_cents,
      currency: plan.amount_currency,
      payInAdvance: plan.pay_in_advance,
      charges,
      trialPeriodDays,
    },
    metrics,
  };
}

export function customerTermsOf(customer: Pick<CustomerDoc, 'timezone' | 'billing_configuration'>): {
  timeZone: string;
  graceDays: number;
} {
  return {
    timeZone: customer.timezone ?? 'UTC',
    graceDays: customer.billing_configuration.invoice_grace_period ?? 0,
  };
}
