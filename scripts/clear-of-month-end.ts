/**
 * Tests, drills and benchmarks on the Temporal dev server run on the real clock, and their scenarios
 * sit in "this month" (expectations come from `prorata simulate` as of now). One that started minutes
 * before a month ends would see its subscriptions close a period mid-run, whatever the code does:
 * a dependence on the day it runs. So such a run starts only when the next month boundary of every
 * zone its customers use is further away than the run can last; closer, it waits past the boundary
 * (at most `marginMs`, once a month), then runs in the new month.
 */
import { addMonths, localDateOf, startOfLocalDay } from '../src/billing/local-time';

/**
 * The zones whose months the real-clock scenarios bill in: their customers are on UTC (a Paris
 * customer in the API tests is never billed). A scenario billed in another zone adds it here.
 */
const ZONES = ['UTC'];

/** The first instant of the next local month in `timeZone`, after `at`. */
export function nextMonthStart(at: number, timeZone: string): number {
  const today = localDateOf(at, timeZone);
  return startOfLocalDay(addMonths(`${today.slice(0, 8)}01`, 1), timeZone);
}

export async function clearOfMonthEnd(marginMs: number, now: () => number = Date.now): Promise<void> {
  for (;;) {
    const at = now();
    const boundary = Math.min(...ZONES.map((zone) => nextMonthStart(at, zone)));
    if (boundary - at > marginMs) return;
    // Two minutes past it: scenarios also place events "a minute ago", which must fall in the new month.
    const waitMs = boundary - at + 120_000;
    console.log(
      `[clock] a month ends at ${new Date(boundary).toISOString()}: waiting ${Math.ceil(waitMs / 1000)} s so no test straddles it`,
    );
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
