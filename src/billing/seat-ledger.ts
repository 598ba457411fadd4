/**
 * The seat ledger: what the subscription workflow remembers of its events, per billable metric code
 * and (for unique counts) per seat key. It is plain JSON (arrays and plain objects only: no Map, Set,
 * Date or class), so it can live in workflow state and cross continue-as-new as is.
 *
 * - Marks are kept sorted by `(at, seq)`: timestamp, then ingestion sequence. Applying an event is
 *   an insertion into that order, so the ledger's meaning never depends on arrival order.
 * - Compaction (`rollLedger`, at a period roll): everything before the horizon H (a local midnight,
 *   the start of the next period to compute) collapses to each seat's `carry`, the last mark before H
 *   by `(at, seq)`. That mark alone decides whether the seat is active at H: after SPEC rule 2 the
 *   state is the last operation, and rule 1 (same-day remove then add) never crosses a local
 *   midnight. A late event before H merges with `carry` by the same `(at, seq)` comparison.
 * - Non-recurring usage marks (count, sum) before H belong to finished periods and are dropped.
 * - Seats inactive at H with nothing after it are kept as tombstones while their last mark is recent
 *   (after `forgetInactiveBefore`), so a late add older than their removal still loses to it. Older
 *   tombstones are dropped and `forgottenBefore` remembers the limit: a late event for an unknown seat
 *   older than that is refused (`'forgotten'`), rather than guessed.
 *
 * Ownership: `applySeatEvent` and `rollLedger` MUTATE the ledger they are given (it is a working
 * copy owned by one caller, the workflow state or a simulation); `copyLedger` makes an independent
 * copy. A transient lookup index is cached beside each metric (in a WeakMap, never serialised).
 */

export type SeatOp = 'add' | 'remove';
/** One seat operation: `[timestamp ms, ingestion sequence, op]`. */
export type SeatMark = [at: number, seq: number, op: SeatOp];
/** One count/sum event: `[timestamp ms, ingestion sequence, value as a decimal string]`. */
export type UsageMark = [at: number, seq: number, value: string];

export interface SeatHistory {
  key: string;
  /** The last mark before the ledger's `compactedBefore`, or null. */
  carry: SeatMark | null;
  /** Marks at or after `compactedBefore`, sorted by (at, seq). */
  marks: SeatMark[];
}

export interface MetricLedger {
  /** Billable metric code. */
  code: string;
  /** unique_count_agg seats, sorted by key after each roll (new seats are appended in between). */
  seats: SeatHistory[];
  /** count_agg / sum_agg events at or after `compactedBefore`, sorted by (at, seq). */
  usage: UsageMark[];
}

export interface SeatLedger {
  version: 1;
  /** Horizon of the last compaction (a local midnight, epoch ms), or null if never compacted. */
  compactedBefore: number | null;
  /** Seats inactive since before this instant may have been dropped (epoch ms), or null. */
  forgottenBefore: number | null;
  metrics: MetricLedger[];
}

/** One event as billing sees it, mapped once from Lago's event (see `meteredEventOf`). */
export type MeteredEvent =
  | { kind: 'seat'; metricCode: string; at: number; seq: number; seatKey: string; op: SeatOp }
  | { kind: 'usage'; metricCode: string; at: number; seq: number; value: string };

/**
 * What applying an event did: `recorded` (kept as a mark), `carried` (a late event that became a
 * seat's carried state), `duplicate` (same metric, seat, timestamp and sequence already applied),
 * `stale` (before the horizon and superseded, or non-recurring usage of a finished period),
 * `forgotten` (late event for a seat whose history was dropped, see the module comment).
 */
export type LedgerApplyOutcome = 'recorded' | 'carried' | 'duplicate' | 'stale' | 'forgotten';

export function emptyLedger(): SeatLedger {
  return { version: 1, compactedBefore: null, forgottenBefore: null, metrics: [] };
}

export function copyLedger(ledger: SeatLedger): SeatLedger {
  return {
    version: 1,
    compactedBefore: ledger.compactedBefore,
    forgottenBefore: ledger.forgottenBefore,
    metrics: ledger.metrics.map((metric) => ({
      code: metric.code,
      seats: metric.seats.map((seat) => ({
        key: seat.key,
        carry: seat.carry ? [...seat.carry] : null,
        marks: seat.marks.map((mark): SeatMark => [...mark]),
      })),
      usage: metric.usage.map((mark): UsageMark => [...mark]),
    })),
  };
}

/** Compares two marks by (at, seq). */
export function compareMarks(
  a: readonly [number, number, ...unknown[]],
  b: readonly [number, number, ...unknown[]],
): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

const seatIndexes = new WeakMap<MetricLedger, Map<string, SeatHistory>>();

function seatIndex(metric: MetricLedger): Map<string, SeatHistory> {
  let index = seatIndexes.get(metric);
  if (!index) {
    index = new Map();
    for (const seat of metric.seats) index.set(seat.key, seat);
    seatIndexes.set(metric, index);
  }
  return index;
}

export function metricLedgerOf(ledger: SeatLedger, metricCode: string): MetricLedger | null {
  for (const metric of ledger.metrics) if (metric.code === metricCode) return metric;
  return null;
}

function metricLedgerFor(ledger: SeatLedger, metricCode: string): MetricLedger {
  const existing = metricLedgerOf(ledger, metricCode);
  if (existing) return existing;
  const created: MetricLedger = { code: metricCode, seats: [], usage: [] };
  ledger.metrics.push(created);
  return created;
}

/** The seat history of a key, or null. */
export function seatHistoryOf(metric: MetricLedger, seatKey: string): SeatHistory | null {
  return seatIndex(metric).get(seatKey) ?? null;
}

/** Inserts `mark` into a list sorted by (at, seq); false if a mark with the same (at, seq) is there. */
function insertSorted<M extends [number, number, unknown]>(list: M[], mark: M): boolean {
  let high = list.length;
  // Events mostly arrive in order: check the tail first.
  const last = list[high - 1];
  if (last === undefined || compareMarks(last, mark) < 0) {
    list.push(mark);
    return true;
  }
  let low = 0;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareMarks(list[mid] as M, mark) < 0) low = mid + 1;
    else high = mid;
  }
  const found = list[low];
  if (found !== undefined && compareMarks(found, mark) === 0) return false;
  list.splice(low, 0, mark);
  return true;
}

/** Applies one event to the ledger (mutating it). Order-independent: see the module comment. */
export function applySeatEvent(ledger: SeatLedger, event: MeteredEvent): LedgerApplyOutcome {
  const metric = metricLedgerFor(ledger, event.metricCode);
  const late = ledger.compactedBefore !== null && event.at < ledger.compactedBefore;
  if (event.kind === 'usage') {
    if (late) return 'stale';
    return insertSorted(metric.usage, [event.at, event.seq, event.value]) ? 'recorded' : 'duplicate';
  }
  const mark: SeatMark = [event.at, event.seq, event.op];
  const index = seatIndex(metric);
  const seat = index.get(event.seatKey);
  if (!seat) {
    if (late && ledger.forgottenBefore !== null && event.at < ledger.forgottenBefore) return 'forgotten';
    const created: SeatHistory = late
      ? { key: event.seatKey, carry: mark, marks: [] }
      : { key: event.seatKey, carry: null, marks: [mark] };
    metric.seats.push(created);
    index.set(created.key, created);
    return late ? 'carried' : 'recorded';
  }
  if (!late) return insertSorted(seat.marks, mark) ? 'recorded' : 'duplicate';
  if (seat.carry === null) {
    seat.carry = mark;
    return 'carried';
  }
  const order = compareMarks(mark, seat.carry);
  if (order === 0) return 'duplicate';
  if (order < 0) return 'stale';
  seat.carry = mark;
  return 'carried';
}

export interface RollSummary {
  /** Seats kept (active at the horizon, with later marks, or recent tombstones). */
  seats: number;
  /** Seats dropped (inactive since before `forgetInactiveBefore`). */
  forgotten: number;
  /** Non-recurring usage marks dropped. */
  usageDropped: number;
}

/**
 * Compacts the ledger (mutating it) at `horizon`, the start of the next period to compute (a local
 * midnight; never before a previous horizon, never after the start of a period still to compute).
 * Seats inactive at the horizon whose last mark is before `forgetInactiveBefore` (≤ horizon) are
 * dropped; pass the previous period's start to keep one period of tombstones for late events.
 */
export function rollLedger(
  ledger: SeatLedger,
  horizon: number,
  forgetInactiveBefore: number = horizon,
): RollSummary {
  if (ledger.compactedBefore !== null && horizon < ledger.compactedBefore) {
    throw new RangeError('rollLedger: the horizon cannot move back');
  }
  const forgetBefore = Math.min(forgetInactiveBefore, horizon);
  const summary: RollSummary = { seats: 0, forgotten: 0, usageDropped: 0 };
  for (const metric of ledger.metrics) {
    const kept: SeatHistory[] = [];
    for (const seat of metric.seats) {
      let carry = seat.carry;
      let first = 0;
      while (first < seat.marks.length && (seat.marks[first] as SeatMark)[0] < horizon) {
        carry = seat.marks[first] as SeatMark;
        first += 1;
      }
      const marks = first === 0 ? seat.marks : seat.marks.slice(first);
      if (marks.length === 0 && carry === null) continue;
      if (marks.length === 0 && carry !== null && carry[2] === 'remove' && carry[0] < forgetBefore) {
        summary.forgotten += 1;
        continue;
      }
      kept.push({ key: seat.key, carry, marks });
    }
    kept.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    metric.seats = kept;
    seatIndexes.delete(metric);
    summary.seats += kept.length;
    let firstUsage = 0;
    while (firstUsage < metric.usage.length && (metric.usage[firstUsage] as UsageMark)[0] < horizon)
      firstUsage += 1;
    if (firstUsage > 0) metric.usage = metric.usage.slice(firstUsage);
    summary.usageDropped += firstUsage;
  }
  ledger.metrics = ledger.metrics.filter((metric) => metric.seats.length > 0 || metric.usage.length > 0);
  ledger.compactedBefore = horizon;
  if (summary.forgotten > 0)
    ledger.forgottenBefore = Math.max(ledger.forgottenBefore ?? forgetBefore, forgetBefore);
  return summary;
}

/** Whether a seat is active at instant `at` (after every mark with timestamp < at). */
function activeAt(seat: SeatHistory, at: number): boolean {
  let last = seat.carry;
  for (const mark of seat.marks) {
    if (mark[0] >= at) break;
    last = mark;
  }
  return last !== null && last[2] === 'add';
}

/** Seat keys active just before `at` (for views and explanations), sorted. */
export function seatsActiveAt(ledger: SeatLedger, metricCode: string, at: number): string[] {
  const metric = metricLedgerOf(ledger, metricCode);
  if (!metric) return [];
  return metric.seats
    .filter((seat) => activeAt(seat, at))
    .map((seat) => seat.key)
    .sort();
}
