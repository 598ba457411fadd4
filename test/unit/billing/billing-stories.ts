/**
 * Small builders for billing stories: a per-seat plan, seat events written as
 * `['u1', 'add', '2024-03-01T09:00:00Z']`, and one-call fee computations.
 */
import {
  applySeatEvent,
  chargeWindow,
  computeChargeFee,
  emptyLedger,
  openCycle,
  parseIsoInstant,
  periodContainingDate,
  periodDayTable,
  type BillableMetric,
  type BillingCycle,
  type BillingPeriod,
  type BillingSchedule,
  type BillingTerms,
  type BillingTime,
  type ChargeFee,
  type Interval,
  type LocalDate,
  type MeteredEvent,
  type Plan,
  type SeatLedger,
} from '../../../src/billing';

/** An ISO-8601 instant with offset, as epoch ms (throws on a typo, so stories fail loudly). */
export function at(iso: string): number {
  const parsed = parseIsoInstant(iso);
  if (parsed === null) throw new Error(`bad instant ${iso}`);
  return parsed;
}

export type SeatStory = [seat: string, op: 'add' | 'remove', iso: string];

/** Seat events in the order written; `seq` is the position (ingestion order). */
export function seatEvents(story: readonly SeatStory[], metricCode = 'seats', firstSeq = 0): MeteredEvent[] {
  return story.map(([seatKey, op, iso], i) => ({
    kind: 'seat',
    metricCode,
    at: at(iso),
    seq: firstSeq + i,
    seatKey,
    op,
  }));
}

export function ledgerOf(events: readonly MeteredEvent[]): SeatLedger {
  const ledger = emptyLedger();
  for (const event of events) applySeatEvent(ledger, event);
  return ledger;
}

export const seatsMetric: BillableMetric = {
  code: 'seats',
  name: 'Seats',
  lagoId: null,
  aggregationType: 'unique_count_agg',
  fieldName: 'user_id',
  recurring: true,
};

export function seatPlan(
  options: {
    price?: string;
    currency?: string;
    interval?: Interval;
    amountCents?: number;
    prorated?: boolean;
  } = {},
): Plan {
  return {
    code: 'team',
    interval: options.interval ?? 'monthly',
    amountCents: options.amountCents ?? 0,
    currency: options.currency ?? 'USD',
    payInAdvance: false,
    charges: [
      {
        code: 'seat_fee',
        lagoId: null,
        billableMetricCode: 'seats',
        chargeModel: 'standard',
        prorated: options.prorated ?? true,
        properties: { amount: options.price ?? '10' },
        invoiceDisplayName: null,
      },
    ],
  };
}

export function schedule(
  timeZone = 'UTC',
  interval: Interval = 'monthly',
  billingTime: BillingTime = 'calendar',
  anchorLocalDate: LocalDate = '2020-01-01',
): BillingSchedule {
  return { interval, billingTime, timeZone, anchorLocalDate };
}

export interface SeatFeeStory {
  /** Any local date inside the billing period. */
  period: LocalDate;
  events: readonly SeatStory[];
  timeZone?: string;
  interval?: Interval;
  billingTime?: BillingTime;
  anchor?: LocalDate;
  startedAt?: string;
  terminatedAt?: string;
  price?: string;
  currency?: string;
  prorated?: boolean;
}

export function billingPeriodOf(story: SeatFeeStory): BillingPeriod {
  return periodContainingDate(
    schedule(story.timeZone, story.interval, story.billingTime, story.anchor),
    story.period,
  );
}

/** The seat charge fee of one period, with per-seat explanation (from `ledger` when given). */
export function seatFee(story: SeatFeeStory, ledger?: SeatLedger): ChargeFee {
  const timeZone = story.timeZone ?? 'UTC';
  const period = billingPeriodOf(story);
  const window = chargeWindow(
    period,
    story.startedAt ? at(story.startedAt) : period.startAt,
    story.terminatedAt ? at(story.terminatedAt) : null,
  );
  const plan = seatPlan({ price: story.price, currency: story.currency, prorated: story.prorated });
  return computeChargeFee(
    plan.charges[0]!,
    seatsMetric,
    ledger ?? ledgerOf(seatEvents(story.events)),
    window,
    periodDayTable(period, timeZone),
    plan.currency,
    true,
  );
}

export function seatTerms(options: {
  timeZone?: string;
  graceDays?: number;
  billingTime?: BillingTime;
  anchor?: LocalDate;
  plan?: Plan;
}): BillingTerms {
  return {
    timeZone: options.timeZone ?? 'UTC',
    graceDays: options.graceDays ?? 0,
    billingTime: options.billingTime ?? 'calendar',
    anchorLocalDate: options.anchor ?? '2024-01-01',
    plan: options.plan ?? seatPlan(),
    metrics: [seatsMetric],
  };
}

export function seatCycle(startedAt: string, options: Parameters<typeof seatTerms>[0] = {}): BillingCycle {
  return openCycle(seatTerms(options), at(startedAt));
}
