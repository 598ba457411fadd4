/**
 * The day split of a plan change (SPEC section 8, our answer to Lago's open question Q1): each
 * local day of a period is billed once, at the plan in force at the END of that day. An upgrade at
 * 14:00 on the 16th makes the 16th a day of the new plan; the old plan's charges and subscription
 * fee cover the days before it. Lago bills the switch day on both plans; we do not.
 *
 * The split happens at local midnights, so SPEC section 1's same-day rules (a remove then an add
 * the same day is no gap) never straddle it, and each span is an ordinary charge window of the
 * same period (same D): `computeChargeFee` and `computeSubscriptionFee` price it unchanged.
 */
import type { BillableMetric } from './billable-metric';
import {
  closePeriod,
  openCycle,
  terminate,
  type BillingCycle,
  type ComputeOptions,
  type TerminationError,
} from './billing-cycle';
import type { ChargeWindow } from './billing-period';
import type { Invoice } from './invoice';
import {
  dayIndexOf,
  localDateAtIndex,
  localDateOf,
  startOfLocalDay,
  type DayTable,
  type LocalDate,
} from './local-time';
import type { Plan } from './plan';
import { copyLedger } from './seat-ledger';

/** The days of a window billed on one plan. */
export interface PlanSpan {
  /** 0 = the plan before the first change; i = the plan after change i (1-based in time order). */
  planIndex: number;
  window: ChargeWindow;
  firstLocalDate: LocalDate;
  lastLocalDate: LocalDate;
  days: number;
}

/**
 * Splits a charge window by plan changes (instants, any order; those outside the window only
 * decide which plan is in force). Spans without a day are left out; the spans are in time order,
 * contiguous, and cover every local day of the window once.
 */
export function splitByPlanChanges(
  window: ChargeWindow,
  table: DayTable,
  changesAt: readonly number[],
): PlanSpan[] {
  const changes = [...changesAt].sort((a, b) => a - b);
  const firstDay = dayIndexOf(table, window.fromAt);
  const lastDay = dayIndexOf(table, window.toAt);
  // Plan in force at the end of day k: the number of changes made before the next local midnight.
  const planAtEndOf = (day: number): number => {
    const endOfDay = table.starts[day + 1] as number;
    let count = 0;
    while (count < changes.length && (changes[count] as number) < endOfDay) count += 1;
    return count;
  };
  const spans: PlanSpan[] = [];
  let spanFirst = firstDay;
  let plan = planAtEndOf(firstDay);
  for (let day = firstDay + 1; day <= lastDay + 1; day += 1) {
    const next = day <= lastDay ? planAtEndOf(day) : -1;
    if (next === plan) continue;
    spans.push({
      planIndex: plan,
      window: {
        period: window.period,
        fromAt: Math.max(window.fromAt, table.starts[spanFirst] as number),
        toAt: Math.min(window.toAt, (table.starts[day] as number) - 1),
      },
      firstLocalDate: localDateAtIndex(table, spanFirst),
      lastLocalDate: localDateAtIndex(table, day - 1),
      days: day - spanFirst,
    });
    spanFirst = day;
    plan = next;
  }
  return spans;
}

// --- plan changes on a billing cycle (the workflow and `prorata simulate` run these) -----------

/** Lago's `yearly_amount_cents`: the subscription fee times the periods in a year. */
export function yearlyAmountCents(plan: Plan): number {
  return plan.amountCents * PERIODS_PER_YEAR[plan.interval];
}

const PERIODS_PER_YEAR: Record<Plan['interval'], number> = {
  weekly: 52,
  monthly: 12,
  quarterly: 4,
  semiannual: 2,
  yearly: 1,
};

/** SPEC section 8: an upgrade when the new plan's yearly amount is at least the old one's. */
export function planChangeKind(from: Plan, to: Plan): 'upgrade' | 'downgrade' {
  return yearlyAmountCents(to) >= yearlyAmountCents(from) ? 'upgrade' : 'downgrade';
}

/**
 * An upgrade at `switchAt` (inside the current period, at or after `started_at`): the current
 * cycle is terminated at `switchAt` and its `subscription_terminating` invoice bills charges and
 * subscription fee up to the end of the day before the switch's local day (SPEC section 8: each
 * day at the plan in force at its end); the new plan's cycle bills from that local midnight, with
 * the same terms otherwise (time zone, anchor, billing time: the period and its D are unchanged)
 * and the seats carried over (a copy of the ledger). Drafts of the old cycle are the caller's to
 * finalize at once (a terminated subscription has no grace).
 */
export function upgradeCycle(
  cycle: BillingCycle,
  switchAt: number,
  plan: Plan,
  metrics: BillableMetric[],
  options: ComputeOptions = {},
): { ok: true; invoice: Invoice; next: BillingCycle } | { ok: false; error: TerminationError } {
  const { timeZone } = cycle.terms;
  const switchDayAt = startOfLocalDay(localDateOf(switchAt, timeZone), timeZone);
  const ended = terminate(cycle, switchAt, options, switchDayAt - 1);
  if (!ended.ok) return ended;
  const next = openCycle(
    { ...cycle.terms, plan, metrics },
    Math.max(switchDayAt, cycle.startedAt),
    copyLedger(cycle.ledger),
  );
  return { ok: true, invoice: ended.invoice, next };
}

/**
 * A pending downgrade switched at the end of the current period (call at or after
 * `cycle.period.endAt`): the old cycle's last period is closed (its whole-period invoice) and the
 * cycle terminated at that instant; the new plan's cycle starts then, with the seats carried over.
 */
export function downgradeCycleAtPeriodEnd(
  cycle: BillingCycle,
  plan: Plan,
  metrics: BillableMetric[],
  options: ComputeOptions = {},
): { invoice: Invoice; next: BillingCycle } {
  const endAt = cycle.period.endAt;
  const invoice = closePeriod(cycle, options);
  cycle.terminatedAt = endAt;
  const next = openCycle({ ...cycle.terms, plan, metrics }, endAt, copyLedger(cycle.ledger));
  return { invoice, next };
}
