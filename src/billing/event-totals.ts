/**
 * Non-recurring aggregations over a charge window `[F, T]`: `count_agg` counts the events,
 * `sum_agg` adds their values exactly (decimal).
 */
import type { ChargeWindow } from './billing-period';
import { Dec } from './money';
import type { MetricLedger, UsageMark } from './seat-ledger';

export interface EventTotals {
  eventsCount: number;
  /** Σ values (sum) or the count (count), exact. */
  total: Dec;
}

/** First index of a sorted mark list whose timestamp is ≥ at. */
function lowerBound(marks: readonly UsageMark[], at: number): number {
  let low = 0;
  let high = marks.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((marks[mid] as UsageMark)[0] < at) low = mid + 1;
    else high = mid;
  }
  return low;
}

export function measureEvents(metric: MetricLedger | null, window: ChargeWindow, sum: boolean): EventTotals {
  if (!metric) return { eventsCount: 0, total: new Dec(0) };
  const begin = lowerBound(metric.usage, window.fromAt);
  const end = lowerBound(metric.usage, window.toAt + 1);
  const eventsCount = Math.max(0, end - begin);
  if (!sum) return { eventsCount, total: new Dec(eventsCount) };
  let total = new Dec(0);
  for (let i = begin; i < end; i += 1) total = total.plus((metric.usage[i] as UsageMark)[2]);
  return { eventsCount, total };
}
