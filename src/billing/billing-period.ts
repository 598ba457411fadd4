/**
 * Billing periods (SPEC section 2). A period is a run of whole local days in the customer's zone;
 * its boundaries are local midnights stored as UTC instants. Calendar periods start on Mondays, the
 * 1st of the month, quarter and half-year starts and Jan 1; anniversary periods start on the
 * `subscription_at` local date (its day of month is kept and clamped in short months, so an anchor
 * on Jan 31 gives Feb 29 then Mar 31).
 */
import {
  addDays,
  addMonths,
  buildDayTable,
  dayNumberOfDate,
  daysBetween,
  localDateOf,
  parseLocalDate,
  startOfLocalDay,
  type DayTable,
  type LocalDate,
} from './local-time';

export const INTERVALS = ['weekly', 'monthly', 'quarterly', 'semiannual', 'yearly'] as const;
export type Interval = (typeof INTERVALS)[number];
export const BILLING_TIMES = ['calendar', 'anniversary'] as const;
export type BillingTime = (typeof BILLING_TIMES)[number];

/** How a subscription's periods are laid out. */
export interface BillingSchedule {
  interval: Interval;
  billingTime: BillingTime;
  /** IANA zone of the customer: every boundary is a local midnight there. */
  timeZone: string;
  /** Local date of `subscription_at`: the anniversary anchor (ignored by calendar billing). */
  anchorLocalDate: LocalDate;
}

/** One whole billing period. */
export interface BillingPeriod {
  /** First instant (local midnight of `startLocalDate`). */
  startAt: number;
  /** Exclusive end: the next period's `startAt`. */
  endAt: number;
  startLocalDate: LocalDate;
  /** Last local date of the period (inclusive). */
  endLocalDate: LocalDate;
  /** D: days of the whole period (never shortened by a late start or a termination). */
  durationDays: number;
}

/**
 * The part of a period that a fee covers: `[fromAt, toAt]`, both inclusive, in epoch ms. `fromAt`
 * is the period start or `started_at` (exact instant) for a first partial period; `toAt` is the last
 * millisecond of the period (`endAt - 1`) or `terminated_at`.
 */
export interface ChargeWindow {
  period: BillingPeriod;
  fromAt: number;
  toAt: number;
}

const MONTHS_PER_PERIOD: Readonly<Record<Exclude<Interval, 'weekly'>, number>> = {
  monthly: 1,
  quarterly: 3,
  semiannual: 6,
  yearly: 12,
};

/** Calendar billing is anniversary billing anchored on a date that starts every calendar period. */
const CALENDAR_MONTH_ANCHOR: LocalDate = '2000-01-01';
/** A Monday. */
const CALENDAR_WEEK_ANCHOR: LocalDate = '2000-01-03';

function anchorOf(schedule: BillingSchedule): LocalDate {
  if (schedule.billingTime === 'anniversary') return schedule.anchorLocalDate;
  return schedule.interval === 'weekly' ? CALENDAR_WEEK_ANCHOR : CALENDAR_MONTH_ANCHOR;
}

/** Start date of period number `index` (0 = the one starting on the anchor; negative ones before). */
function periodStartDate(schedule: BillingSchedule, index: number): LocalDate {
  const anchor = anchorOf(schedule);
  if (schedule.interval === 'weekly') return addDays(anchor, 7 * index);
  // Always computed from the anchor, so a clamped month (Feb 29) does not shift later ones.
  return addMonths(anchor, MONTHS_PER_PERIOD[schedule.interval] * index, parseLocalDate(anchor).day);
}

/** Index of the period containing a local date. */
function periodIndexOf(schedule: BillingSchedule, date: LocalDate): number {
  const anchor = anchorOf(schedule);
  if (schedule.interval === 'weekly') return Math.floor(daysBetween(anchor, date) / 7);
  const a = parseLocalDate(anchor);
  const d = parseLocalDate(date);
  const months = d.year * 12 + d.month - (a.year * 12 + a.month);
  let index = Math.floor(months / MONTHS_PER_PERIOD[schedule.interval]);
  const target = dayNumberOfDate(date);
  while (dayNumberOfDate(periodStartDate(schedule, index)) > target) index -= 1;
  while (dayNumberOfDate(periodStartDate(schedule, index + 1)) <= target) index += 1;
  return index;
}

function periodAt(schedule: BillingSchedule, index: number): BillingPeriod {
  const startLocalDate = periodStartDate(schedule, index);
  const nextStartLocalDate = periodStartDate(schedule, index + 1);
  return {
    startAt: startOfLocalDay(startLocalDate, schedule.timeZone),
    endAt: startOfLocalDay(nextStartLocalDate, schedule.timeZone),
    startLocalDate,
    endLocalDate: addDays(nextStartLocalDate, -1),
    durationDays: daysBetween(startLocalDate, nextStartLocalDate),
  };
}

/** The billing period containing a local date. */
export function periodContainingDate(schedule: BillingSchedule, date: LocalDate): BillingPeriod {
  return periodAt(schedule, periodIndexOf(schedule, date));
}

/** The billing period containing an instant. */
export function periodContaining(schedule: BillingSchedule, at: number): BillingPeriod {
  return periodContainingDate(schedule, localDateOf(at, schedule.timeZone));
}

/**
 * Lago's `current_billing_period_*` of a subscription active since `startedAt`, seen at `at`: the
 * period in force then, its start clamped to `startedAt` (a first period starts with the
 * subscription). `endAt` is exclusive, as every period's.
 */
export function currentBillingPeriod(
  schedule: BillingSchedule,
  startedAt: number,
  at: number,
): { startAt: number; endAt: number } {
  const period = periodContaining(schedule, Math.max(at, startedAt));
  return { startAt: Math.max(period.startAt, startedAt), endAt: period.endAt };
}

/** The period right after `period`. */
export function nextPeriod(schedule: BillingSchedule, period: BillingPeriod): BillingPeriod {
  return periodContainingDate(schedule, addDays(period.endLocalDate, 1));
}

/** The period right before `period`. */
export function previousPeriod(schedule: BillingSchedule, period: BillingPeriod): BillingPeriod {
  return periodContainingDate(schedule, addDays(period.startLocalDate, -1));
}

/** The charge window of a period for a subscription started at `startedAt`, up to the period end or a termination. */
export function chargeWindow(
  period: BillingPeriod,
  startedAt: number,
  terminatedAt: number | null = null,
): ChargeWindow {
  const fromAt = Math.max(period.startAt, startedAt);
  const toAt = terminatedAt === null ? period.endAt - 1 : Math.min(period.endAt - 1, terminatedAt);
  return { period, fromAt, toAt };
}

/** Local midnights of every day of the period, built once per computation (≤ 367 entries). */
export function periodDayTable(period: BillingPeriod, timeZone: string): DayTable {
  return buildDayTable(period.startLocalDate, period.durationDays, timeZone);
}

/**
 * Days of a charge window, counted on local dates with both ends included (a partial first period
 * from 06-05 in June is 26 days; a termination on the 15th is 15 days).
 */
export function usedDays(window: ChargeWindow, timeZone: string): number {
  return daysBetween(localDateOf(window.fromAt, timeZone), localDateOf(window.toAt, timeZone)) + 1;
}

/**
 * Lago's `issuing_date` for a periodic invoice: the first local date after the period (the billing
 * day), plus the customer's grace days (`subscription_invoice_issuing_date_adjustment =
 * align_with_finalization_date`, lago-semantics section 6).
 */
export function periodicIssuingDate(period: BillingPeriod, graceDays: number): LocalDate {
  return addDays(period.endLocalDate, 1 + graceDays);
}
