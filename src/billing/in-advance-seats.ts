/**
 * Pay-in-advance prorated seats (SPEC section 8, first bullet; Lago's
 * `ProratedAggregations::BaseService#compute_pay_in_advance_aggregation`), as plans:
 *
 * - **Renewal**: the invoice that opens a period bills every seat active at its start in full
 *   (units = seats, no proration), `round_half_up(seats × price)`.
 * - **Adds**: each seat whose first effective add of the period comes after the period start is
 *   billed once, at that add, for the whole local days from the add's local date to the period's
 *   last local date (both included): `ceil5(days / D) × price`, rounded half up once.
 *
 * A seat is billed at most once per period: re-adding it (after a removal) bills nothing more, and
 * removals never refund. For a first partial period (subscription started after the period start)
 * there is no renewal: a seat already active when the subscription starts is billed like an add at
 * `started_at`.
 *
 * "Effective add" is SPEC section 1's: a second add while active, and a remove followed by an add
 * on the same local day, change nothing. The functions are pure over the seat ledger: the caller
 * (workflow, simulation) passes the seats it already billed in the period, and executes the plan.
 */
import type { ChargeWindow } from './billing-period';
import { dayIndexOf, localDateAtIndex, type DayTable, type LocalDate } from './local-time';
import { Dec, ceil5Ratio, formatQuantity, roundHalfUpToMinor } from './money';
import { measureSeats } from './seat-days';
import type { MetricLedger } from './seat-ledger';

export interface InAdvanceRenewal {
  /** Seats active at the period start, sorted. */
  seatKeys: string[];
  units: string;
  preciseAmount: string;
  amountCents: number;
}

export interface InAdvanceSeatFee {
  seatKey: string;
  /** The effective add (epoch ms) and its local date. */
  addAt: number;
  addLocalDate: LocalDate;
  /** Local days from the add's date to the period's last date, both included; and D. */
  days: number;
  durationDays: number;
  /** `ceil5(days / D)`, formatted like every quantity ("0.48388", "1.0"). */
  proratedUnits: string;
  preciseAmount: string;
  amountCents: number;
}

interface FirstAdd {
  seatKey: string;
  at: number;
  seq: number;
}

/** Each seat's first effective add opening a stint in the window (carried-over seats: before F). */
function firstAdds(metric: MetricLedger | null, window: ChargeWindow, table: DayTable): FirstAdd[] {
  const steps =
    measureSeats(metric, window, table, { recurring: true, explain: false, steps: true }).steps ?? [];
  const first = new Map<string, FirstAdd>();
  for (const step of steps) {
    if (step.op !== 'add') continue;
    const known = first.get(step.seatKey);
    if (!known || step.at < known.at || (step.at === known.at && step.seq < known.seq))
      first.set(step.seatKey, { seatKey: step.seatKey, at: step.at, seq: step.seq });
  }
  return [...first.values()];
}

/** True when the window opens its period (a renewal bills the seats active then). */
function opensPeriod(window: ChargeWindow): boolean {
  return window.fromAt === window.period.startAt;
}

/** The renewal fee of a period: seats active at its start, in full. Empty for a first partial period. */
export function inAdvanceRenewal(
  metric: MetricLedger | null,
  window: ChargeWindow,
  table: DayTable,
  price: string,
  currency: string,
): InAdvanceRenewal {
  const seatKeys = opensPeriod(window)
    ? firstAdds(metric, window, table)
        .filter((add) => add.at < window.fromAt)
        .map((add) => add.seatKey)
        .sort()
    : [];
  const amount = new Dec(seatKeys.length).times(new Dec(price));
  return {
    seatKeys,
    units: formatQuantity(new Dec(seatKeys.length)),
    preciseAmount: amount.toFixed(),
    amountCents: roundHalfUpToMinor(amount, currency),
  };
}

/**
 * The in-advance fees still due in a period: one per seat whose first effective add in the window
 * is not covered by the renewal and whose key is not in `alreadyBilled` (seats billed earlier in
 * the period, renewal included). With `renewed` false (a first period that starts on its first
 * instant: nothing renewed it), seats active at the start are billed like adds then. Sorted by add
 * time, then seat key.
 */
export function inAdvanceSeatFees(
  metric: MetricLedger | null,
  window: ChargeWindow,
  table: DayTable,
  price: string,
  currency: string,
  alreadyBilled: ReadonlySet<string>,
  renewed = true,
): InAdvanceSeatFee[] {
  const durationDays = window.period.durationDays;
  const lastDay = durationDays - 1;
  // `renewed: false`: a first period that starts on its first instant had no renewal.
  const renewing = opensPeriod(window) && renewed;
  const fees: InAdvanceSeatFee[] = [];
  for (const add of firstAdds(metric, window, table)) {
    if (alreadyBilled.has(add.seatKey)) continue;
    // A seat active at the period start belongs to the renewal; in a first partial period it is
    // billed from the subscription's start.
    if (add.at < window.fromAt && renewing) continue;
    const addAt = Math.max(add.at, window.fromAt);
    const addDay = dayIndexOf(table, addAt);
    const days = lastDay - addDay + 1;
    const ratio = ceil5Ratio(days, durationDays);
    const amount = ratio.times(new Dec(price));
    fees.push({
      seatKey: add.seatKey,
      addAt,
      addLocalDate: localDateAtIndex(table, addDay),
      days,
      durationDays,
      proratedUnits: formatQuantity(ratio),
      preciseAmount: amount.toFixed(),
      amountCents: roundHalfUpToMinor(amount, currency),
    });
  }
  return fees.sort(
    (a, b) => a.addAt - b.addAt || (a.seatKey < b.seatKey ? -1 : a.seatKey > b.seatKey ? 1 : 0),
  );
}
