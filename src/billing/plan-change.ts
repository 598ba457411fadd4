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
import type { ChargeWindow } from './billing-period';
import { dayIndexOf, localDateAtIndex, type DayTable, type LocalDate } from './local-time';

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
