/**
 * One fee per charge over a charge window (SPEC sections 1 and 5): aggregate, prorate (seats by the
 * day), price with the charge model, then round half up ONCE to the currency's minor unit.
 */
import type { BillableMetric } from './billable-metric';
import type { ChargeWindow } from './billing-period';
import { chargeAmount, type ChargeModelName } from './charge-models';
import type { ProratedStep } from './graduated-charge';
import { measureEvents } from './event-totals';
import type { DayTable } from './local-time';
import { Dec, ceil5Ratio, formatQuantity, roundHalfUpToMinor } from './money';
import type { Charge } from './plan';
import { measureSeats, type SeatDays, type SeatStep } from './seat-days';
import { metricLedgerOf, type SeatLedger } from './seat-ledger';

export interface ChargeFee {
  feeType: 'charge';
  chargeCode: string;
  chargeLagoId: string | null;
  chargeModel: ChargeModelName;
  invoiceDisplayName: string | null;
  billableMetricCode: string;
  /** Charge window, epoch ms, both inclusive. */
  fromAt: number;
  toAt: number;
  /** D: days of the whole billing period. */
  durationDays: number;
  /**
   * Lago's `units`: seats active at T for unique counts (never prorated), the number of events for
   * count, the sum for sum. Decimal string (`formatQuantity`: "2.0", "12.5").
   */
  units: string;
  /** `ceil(Σ days / D, 5 dp)` for prorated charges, else null. */
  proratedUnits: string | null;
  /** Σ days of every seat for unique counts, else null. */
  seatDays: number | null;
  /** Seats with at least one billed day, for unique counts, else null. */
  seatsEverActive: number | null;
  /** Events of the metric with timestamp in [F, T]. */
  eventsCount: number;
  /** Exact amount in currency units, before the one rounding. */
  preciseAmount: string;
  amountCents: number;
  currency: string;
  /** Per seat stints and days when an explanation was asked for. */
  seats: SeatDays[] | null;
  /** A pay-in-advance charge's fee (an add, or a renewal); absent: in arrears. */
  payInAdvance?: boolean;
}

export function computeChargeFee(
  charge: Charge,
  metric: BillableMetric,
  ledger: SeatLedger,
  window: ChargeWindow,
  table: DayTable,
  currency: string,
  explain = false,
): ChargeFee {
  if (ledger.compactedBefore !== null && window.fromAt < ledger.compactedBefore) {
    // A programming error, not a domain failure: the ledger was rolled past a period still computed.
    throw new Error('computeChargeFee: the ledger was compacted after the start of this charge window');
  }
  const metricLedger = metricLedgerOf(ledger, metric.code);
  let units: Dec;
  let billedUnits: Dec;
  let proratedUnits: Dec | null = null;
  let seatDays: number | null = null;
  let seatsEverActive: number | null = null;
  let eventsCount: number;
  let seats: SeatDays[] | null = null;
  let proratedSteps: ProratedStep[] | null = null;
  if (metric.aggregationType === 'unique_count_agg') {
    // Only prorated graduated prices each add on its own (Lago's per-event breakdown).
    const steps = charge.prorated && charge.chargeModel === 'graduated';
    const measure = measureSeats(metricLedger, window, table, {
      recurring: metric.recurring,
      explain,
      steps,
    });
    units = new Dec(measure.activeAtEnd);
    seatDays = measure.seatDays;
    seatsEverActive = measure.seatsEverActive;
    eventsCount = measure.eventsCount;
    seats = measure.seats;
    if (charge.prorated) proratedUnits = ceil5Ratio(measure.seatDays, window.period.durationDays);
    billedUnits = proratedUnits ?? units;
    if (measure.steps) proratedSteps = proratedStepsOf(measure.steps, window.period.durationDays);
  } else {
    const totals = measureEvents(metricLedger, window, metric.aggregationType === 'sum_agg');
    // Lago resets negative aggregations to 0.
    units = totals.total.isNegative() ? new Dec(0) : totals.total;
    billedUnits = units;
    eventsCount = totals.eventsCount;
  }
  const amount = chargeAmount(charge.chargeModel, { billedUnits, units, proratedSteps }, charge.properties);
  return {
    feeType: 'charge',
    chargeCode: charge.code,
    chargeLagoId: charge.lagoId,
    chargeModel: charge.chargeModel,
    invoiceDisplayName: charge.invoiceDisplayName,
    billableMetricCode: metric.code,
    fromAt: window.fromAt,
    toAt: window.toAt,
    durationDays: window.period.durationDays,
    units: formatQuantity(units),
    proratedUnits: proratedUnits === null ? null : formatQuantity(proratedUnits),
    seatDays,
    seatsEverActive,
    eventsCount,
    preciseAmount: amount.toFixed(),
    amountCents: roundHalfUpToMinor(amount, currency),
    currency,
    seats,
  };
}

/**
 * Stint ends in time order (ties: ingestion sequence, then seat key), each add with its own
 * `ceil5(days / D)` as Lago's prorated breakdown rounds each event; removes carry no days.
 */
function proratedStepsOf(steps: SeatStep[], durationDays: number): ProratedStep[] {
  const ordered = [...steps].sort(
    (a, b) => a.at - b.at || a.seq - b.seq || (a.seatKey < b.seatKey ? -1 : a.seatKey > b.seatKey ? 1 : 0),
  );
  return ordered.map((step) =>
    step.op === 'add'
      ? { fullUnits: new Dec(1), proratedUnits: ceil5Ratio(step.days, durationDays) }
      : { fullUnits: new Dec(-1), proratedUnits: new Dec(0) },
  );
}

/**
 * Lago's `should_persist_fee?`: a charge fee goes on an invoice when its units, amount or events
 * count is not zero (current usage still lists every charge).
 */
export function isPersistableFee(fee: ChargeFee): boolean {
  return !new Dec(fee.units).isZero() || fee.amountCents !== 0 || fee.eventsCount !== 0;
}
