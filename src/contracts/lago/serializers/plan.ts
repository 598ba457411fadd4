import type { BillableMetricDoc } from '../../../store/billable-metrics';
import {
  chargeFiltersOf,
  chargePropertiesOf,
  planMetadataOf,
  type ChargeDoc,
  type PlanDoc,
} from '../../../store/plans';
import { isoSeconds } from './iso';

/** Lago's charge object, as embedded in a plan (lago-api.md section 4.2). */
export function serializeCharge(charge: ChargeDoc, metric: Pick<BillableMetricDoc, 'code'> | undefined) {
  return {
    lago_id: charge.lago_id,
    lago_billable_metric_id: charge.billable_metric_id,
    code: charge.code,
    invoice_display_name: charge.invoice_display_name,
    billable_metric_code: metric?.code ?? null,
    created_at: isoSeconds(charge.created_at),
    charge_model: charge.charge_model,
    invoiceable: charge.invoiceable,
    regroup_paid_fees: charge.regroup_paid_fees,
    pay_in_advance: charge.pay_in_advance,
    prorated: charge.prorated,
    min_amount_cents: charge.min_amount_cents,
    accepts_target_wallet: charge.accepts_target_wallet,
    properties: chargePropertiesOf(charge),
    applied_pricing_unit: null,
    lago_parent_id: null,
    filters: chargeFiltersOf(charge),
    taxes: [],
  };
}

/**
 * Lago's plan object with its charges. `metrics` are the billable metrics of the charges (as
 * `findPlanWithMetrics` returns them). Subscription and invoice counts are not tracked by the
 * catalog and are rendered 0. `metadata` appears only when the plan has some, as in Lago.
 */
export function serializePlan(
  plan: PlanDoc,
  metrics: readonly Pick<BillableMetricDoc, '_id' | 'code'>[],
  options: { pendingDeletion?: boolean } = {},
) {
  const byId = new Map(metrics.map((m) => [m._id, m]));
  const metadata = planMetadataOf(plan);
  return {
    lago_id: plan._id,
    name: plan.name,
    invoice_display_name: plan.invoice_display_name,
    created_at: isoSeconds(plan.created_at),
    code: plan.code,
    interval: plan.interval,
    description: plan.description,
    amount_cents: plan.amount_cents,
    amount_currency: plan.amount_currency,
    trial_period: plan.trial_period,
    pay_in_advance: plan.pay_in_advance,
    bill_charges_monthly: plan.bill_charges_monthly,
    bill_fixed_charges_monthly: plan.bill_fixed_charges_monthly,
    customers_count: 0,
    active_subscriptions_count: 0,
    draft_invoices_count: 0,
    parent_id: null,
    pending_deletion: options.pendingDeletion ?? false,
    charges: plan.charges.map((charge) => serializeCharge(charge, byId.get(charge.billable_metric_id))),
    fixed_charges: [],
    entitlements: [],
    usage_thresholds: [],
    applicable_usage_thresholds: [],
    taxes: [],
    ...(metadata ? { metadata } : {}),
  };
}

export type PlanJson = ReturnType<typeof serializePlan>;
