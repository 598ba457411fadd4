/** Load generation and statistics shared by the benchmarks. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Latencies in ms: nearest-rank percentiles. */
export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sortedMs.length);
  return sortedMs[Math.min(sortedMs.length, Math.max(1, rank)) - 1]!;
}

export interface LoadResult {
  /** Operations completed (each may carry several items, e.g. 100 events per batch). */
  operations: number;
  items: number;
  errors: number;
  seconds: number;
  /** Items per second over the whole run. */
  rate: number;
  p50: number;
  p99: number;
  /** The first few error messages. */
  errorSamples: string[];
}

function summarize(latencies: number[], items: number, errors: string[], ms: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    operations: latencies.length,
    items,
    errors: errors.length,
    seconds: ms / 1000,
    rate: items / (ms / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errorSamples: errors.slice(0, 3),
  };
}

/**
 * Closed loop (saturation): `concurrency` callers run `op(i)` for i in 0..count-1 back to back.
 * `op` returns how many items it carried; a throw counts as an error (its latency is not kept).
 */
export async function closedLoop(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<number>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let items = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const start = performance.now();
        try {
          const carried = await op(i); // not `items += await op(i)`: that reads `items` before awaiting
          items += carried;
          latencies.push(performance.now() - start);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }),
  );
  return summarize(latencies, items, errors, performance.now() - t0);
}

/**
 * Open loop at a fixed rate: starts `op(i)` every 1/rate s for `seconds`, whether earlier calls have
 * answered or not, so a slow answer cannot slow the offered load (no coordinated omission). Latency
 * counts from the scheduled start.
 */
export async function openLoop(
  ratePerSecond: number,
  seconds: number,
  op: (i: number) => Promise<number>,
): Promise<LoadResult & { offered: number }> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let items = 0;
  const total = Math.round(ratePerSecond * seconds);
  const interval = 1000 / ratePerSecond;
  const t0 = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    running.push(
      op(i).then(
        (n) => {
          items += n;
          latencies.push(performance.now() - scheduled);
        },
        (err: unknown) => void errors.push((err as Error).message),
      ),
    );
  }
  await Promise.all(running);
  return { ...summarize(latencies, items, errors, performance.now() - t0), offered: ratePerSecond };
}

/** A fixed-width text table: the first row is the header. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Number.isInteger(n) || Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Polls until `probe` is true; returns the elapsed ms. */
export async function until(
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
  intervalMs = 100,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`gave up waiting (${timeoutMs} ms): ${what}`);
    await sleep(intervalMs);
  }
}
