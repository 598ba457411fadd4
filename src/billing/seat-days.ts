/**
 * Seat days (SPEC section 1): per seat, its marks in time order are normalised into toggles
 * (a remove followed later the same local day by an add is dropped; a second add while active or a
 * remove while inactive does nothing) and then into stints. A stint counts whole local days, both
 * ends included, clamped to the charge window `[F, T]`; seats active at F (recurring) start on F's
 * day, seats still active at T end on T's day.
 *
 * Days are found with the period's day table (local midnights, binary search): no `Intl` call per
 * event. "Later" means later in the `(timestamp, ingestion sequence)` order.
 */
import type { ChargeWindow } from './billing-period';
import { dayIndexOf, localDateAtIndex, type DayTable, type LocalDate } from './local-time';
import type { MetricLedger, SeatHistory, SeatMark } from './seat-ledger';

export interface SeatStint {
  fromLocalDate: LocalDate;
  toLocalDate: LocalDate;
  days: number;
}

/** One seat's billed days in a window (for explanations). */
export interface SeatDays {
  seatKey: string;
  stints: SeatStint[];
  days: number;
  activeAtEnd: boolean;
}

export interface SeatMeasure {
  /** Σ days over every seat and stint. */
  seatDays: number;
  /** Seats active at T (Lago's non-prorated `units`). */
  activeAtEnd: number;
  /** Seats with at least one billed day. */
  seatsEverActive: number;
  /** Events of the metric with timestamp in [F, T] (every event, even those without effect). */
  eventsCount: number;
  /** Per seat detail when asked for, sorted by seat key; else null. */
  seats: SeatDays[] | null;
  /** The effective adds and removes of the window's stints when asked for (unsorted), else null. */
  steps: SeatStep[] | null;
}

/**
 * One end of a stint, for charges priced per add (prorated graduated, Lago's per-event breakdown):
 * an add carries its stint's days; the remove that closes a stint carries none. `at`/`seq` are
 * the effective mark's (an add from before F keeps its own timestamp: Lago orders by it).
 */
export interface SeatStep {
  at: number;
  seq: number;
  seatKey: string;
  op: 'add' | 'remove';
  days: number;
}

export interface SeatMeasureOptions {
  /** Recurring metrics carry seats over from before F; non-recurring ones only see [F, T]. */
  recurring: boolean;
  explain: boolean;
  /** Also list each stint's add and closing remove (`SeatMeasure.steps`). */
  steps?: boolean;
}

// Scratch buffers reused across seats (a computation is synchronous, so sharing is safe).
let scratchDays = new Int32Array(64);
let scratchDropped = new Uint8Array(64);

function ensureScratch(size: number): void {
  if (scratchDays.length >= size) return;
  let length = scratchDays.length;
  while (length < size) length *= 2;
  scratchDays = new Int32Array(length);
  scratchDropped = new Uint8Array(length);
}

/**
 * Measures one metric's seats over a charge window. `table` is the day table of the window's whole
 * billing period (`periodDayTable`).
 */
export function measureSeats(
  metric: MetricLedger | null,
  window: ChargeWindow,
  table: DayTable,
  options: SeatMeasureOptions,
): SeatMeasure {
  const measure: SeatMeasure = {
    seatDays: 0,
    activeAtEnd: 0,
    seatsEverActive: 0,
    eventsCount: 0,
    seats: options.explain ? [] : null,
    steps: options.steps ? [] : null,
  };
  if (!metric) return measure;
  const firstDay = dayIndexOf(table, window.fromAt);
  const lastDay = dayIndexOf(table, window.toAt);
  for (const seat of metric.seats) measureSeat(seat, window, table, firstDay, lastDay, options, measure);
  if (measure.seats)
    measure.seats.sort((a, b) => (a.seatKey < b.seatKey ? -1 : a.seatKey > b.seatKey ? 1 : 0));
  return measure;
}

function measureSeat(
  seat: SeatHistory,
  window: ChargeWindow,
  table: DayTable,
  firstDay: number,
  lastDay: number,
  options: SeatMeasureOptions,
  measure: SeatMeasure,
): void {
  const marks = seat.marks;
  // State at F: the last operation before F (rule 2 makes the state the last op).
  let last: SeatMark | null = options.recurring ? seat.carry : null;
  // The add that opened the stint still running at F (a second add while active changes nothing).
  let openedBy: SeatMark | null = last !== null && last[2] === 'add' ? last : null;
  let begin = 0;
  while (begin < marks.length && (marks[begin] as SeatMark)[0] < window.fromAt) {
    if (options.recurring) {
      const mark = marks[begin] as SeatMark;
      if (mark[2] === 'remove') openedBy = null;
      else if (openedBy === null) openedBy = mark;
      last = mark;
    }
    begin += 1;
  }
  let end = begin;
  while (end < marks.length && (marks[end] as SeatMark)[0] <= window.toAt) end += 1;
  measure.eventsCount += end - begin;

  let active = last !== null && last[2] === 'add';
  if (!active && begin === end) return;

  const count = end - begin;
  ensureScratch(count);
  for (let i = 0; i < count; i += 1) scratchDays[i] = dayIndexOf(table, (marks[begin + i] as SeatMark)[0]);
  // Rule 1: a remove is dropped when an add follows it on the same local day. Later adds have a
  // day ≥ the remove's, so looking at the nearest later add is enough.
  let nextAddDay = -2;
  for (let i = count - 1; i >= 0; i -= 1) {
    const day = scratchDays[i] as number;
    if ((marks[begin + i] as SeatMark)[2] === 'add') {
      scratchDropped[i] = 0;
      nextAddDay = day;
    } else {
      scratchDropped[i] = nextAddDay === day ? 1 : 0;
    }
  }

  let days = 0;
  let openDay = firstDay;
  let openMark: SeatMark | null = active ? openedBy : null;
  const stints: SeatStint[] | null = options.explain ? [] : null;
  const steps = measure.steps;
  const close = (toDay: number, removeMark: SeatMark | null): void => {
    const stintDays = toDay - openDay + 1;
    days += stintDays;
    if (steps && openMark) {
      steps.push({ at: openMark[0], seq: openMark[1], seatKey: seat.key, op: 'add', days: stintDays });
      if (removeMark)
        steps.push({ at: removeMark[0], seq: removeMark[1], seatKey: seat.key, op: 'remove', days: 0 });
    }
    stints?.push({
      fromLocalDate: localDateAtIndex(table, openDay),
      toLocalDate: localDateAtIndex(table, toDay),
      days: stintDays,
    });
  };
  for (let i = 0; i < count; i += 1) {
    const op = (marks[begin + i] as SeatMark)[2];
    if (op === 'add') {
      if (!active) {
        active = true;
        openDay = scratchDays[i] as number;
        openMark = marks[begin + i] as SeatMark;
      }
    } else if (active && scratchDropped[i] === 0) {
      close(scratchDays[i] as number, marks[begin + i] as SeatMark);
      active = false;
    }
  }
  if (active) close(lastDay, null);

  measure.seatDays += days;
  if (active) measure.activeAtEnd += 1;
  if (days > 0) measure.seatsEverActive += 1;
  if (measure.seats && (days > 0 || count > 0)) {
    measure.seats.push({ seatKey: seat.key, stints: stints ?? [], days, activeAtEnd: active });
  }
}
