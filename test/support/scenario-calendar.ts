/**
 * Scenario dates for tests that run against a real clock (the time-skipping server starts at the
 * real "now", the dev server runs in real time). A scenario placed in the months *after* the current
 * one lies ahead of the clock whatever day the suite runs; its expected figures then follow from
 * those months' own lengths (see hand-rule.ts), never from the month a test was written in.
 */

/** `(k, day, hour)` -> the UTC instant of `day` at `hour` in the k-th month after the one holding `now`. */
export type MonthClock = (k: number, day?: number, hour?: number) => number;

/** Month 0 is the month holding `now` (may be in the past on its early days). */
export function monthsFrom(now: number): MonthClock {
  const d = new Date(now);
  return (k, day = 1, hour = 0) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k, day, hour);
}

/** Month 0 is the month after the one holding `now`: every day of it lies ahead. */
export function monthsAhead(now: number): MonthClock {
  const next = monthsFrom(now);
  return (k, day = 1, hour = 0) => next(k + 1, day, hour);
}

/** Days of the UTC calendar month that contains `at` (28 to 31). */
export function daysInUtcMonth(at: number): number {
  const d = new Date(at);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}
