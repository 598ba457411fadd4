/**
 * Current usage (SPEC section 4): the current period's charge fees as if every active seat stayed to
 * the end of the period (Lago's projection), so the invoice equals the last current usage when
 * nothing changes. Every charge is listed, even at zero. No subscription fee (Lago leaves it out).
 */
import type { BillableMetric } from './billable-metric';
import type { BillingPeriod, ChargeWindow } from './billing-period';
import { computeChargeFee, type ChargeFee } from './charge-fee';
import type { LocalDate } from './local-time';
import { periodDayTable } from './billing-period';
import type { Plan } from './plan';
import type { SeatLedger } from './seat-ledger';

export interface CurrentUsage {
  period: BillingPeriod;
  /** Charge window: F (clamped to `started_at`) to the last millisecond of the period. */
  fromAt: number;
  toAt: number;
  /** Lago: the period's last local date (`next_end_of_period` as a date, in the customer's zone). */
  issuingLocalDate: LocalDate;
  currency: string;
  amountCents: number;
  taxesAmountCents: number;
  totalAmountCents: number;
  charges: ChargeFee[];
}

export function computeCurrentUsage(
  plan: Plan,
  metrics: readonly BillableMetric[],
  ledger: SeatLedger,
  period: BillingPeriod,
  startedAt: number,
  timeZone: string,
  explain = false,
): CurrentUsage {
  const window: ChargeWindow = {
    period,
    fromAt: Math.max(period.startAt, startedAt),
    toAt: period.endAt - 1,
  };
  const table = periodDayTable(period, timeZone);
  const charges = plan.charges.map((charge) =>
    computeChargeFee(
      charge,
      metricFor(metrics, charge.billableMetricCode),
      ledger,
      window,
      table,
      plan.currency,
      explain,
    ),
  );
  const amountCents = charges.reduce((sum, fee) => sum + fee.amountCents, 0);
  return {
    period,
    fromAt: window.fromAt,
    toAt: window.toAt,
    issuingLocalDate: period.endLocalDate,
    currency: plan.currency,
    amountCents,
    taxesAmountCents: 0,
    totalAmountCents: amountCents,
    charges,
  };
}

export function metricFor(metrics: readonly BillableMetric[], code: string): BillableMetric {
  const metric = metrics.find((candidate) => candidate.code === code);
  if (!metric) throw new Error(`the plan charges unknown billable metric ${code}`);
  return metric;
}
