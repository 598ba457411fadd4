/**
 * Trials (SPEC section 8; Lago `Subscription#trial_end_datetime`, `Fees::SubscriptionService`):
 * a plan's `trial_period` of N days exempts the subscription fee for the first N local days of the
 * subscription (from `started_at`'s local date); the day the trial ends is paid, as Lago bills from
 * the trial's end instant and counts that day. Charges are billed as usual (not here).
 *
 * The trial's last exempt day and the first paid day are local dates (SPEC section 7: day
 * arithmetic on local calendar dates, a DST day is an ordinary day), so a trial always covers
 * exactly N days of the fee; `endAt` (Lago's `trial_ended_at`) is `started_at` plus N days in UTC
 * as Lago computes it, for display only.
 */
import type { ChargeWindow } from './billing-period';
import { addDays, daysBetween, localDateOf, startOfLocalDay, type LocalDate } from './local-time';
import type { Plan } from './plan';
import { computeSubscriptionFee, subscriptionFeeOf, type SubscriptionFee } from './subscription-fee';

const DAY_MS = 86_400_000;

export interface Trial {
  /** Lago's `trial_end_datetime`: `started_at + N days` (UTC arithmetic), epoch ms. */
  endAt: number;
  /** First local date whose subscription fee is paid. */
  firstPaidLocalDate: LocalDate;
}

/** The trial of a subscription started at `startedAt` on a plan with `trialPeriodDays` (a whole number ≥ 0). */
export function trialOf(startedAt: number, trialPeriodDays: number, timeZone: string): Trial {
  if (!Number.isSafeInteger(trialPeriodDays) || trialPeriodDays < 0)
    throw new RangeError(`trial_period must be a whole number of days, got ${trialPeriodDays}`);
  return {
    endAt: startedAt + trialPeriodDays * DAY_MS,
    firstPaidLocalDate: addDays(localDateOf(startedAt, timeZone), trialPeriodDays),
  };
}

/**
 * The subscription fee of a window with the trial days left out: the paid days are the window's
 * local dates on or after the trial's first paid date, `round_half_up(amount_cents × paid / D)`
 * (the full amount when every day of the period is paid, 0 when none is).
 */
export function subscriptionFeeAfterTrial(
  plan: Plan,
  window: ChargeWindow,
  timeZone: string,
  trial: Pick<Trial, 'firstPaidLocalDate'>,
  inAdvance = false,
): SubscriptionFee {
  const windowFirst = localDateOf(window.fromAt, timeZone);
  const windowLast = localDateOf(window.toAt, timeZone);
  const firstPaid =
    daysBetween(windowFirst, trial.firstPaidLocalDate) > 0 ? trial.firstPaidLocalDate : windowFirst;
  const paidDays = Math.max(0, daysBetween(firstPaid, windowLast) + 1);
  const fromAt = startOfLocalDay(paidDays > 0 ? firstPaid : windowFirst, timeZone);
  return subscriptionFeeOf(plan, window, fromAt, paidDays, inAdvance);
}

/**
 * A plan's subscription fee over a window, trial days left out (SPEC section 8): the trial counts
 * from `anchorLocalDate`, the local date of `subscription_at` (= `started_at`). No trial: the plain
 * prorated fee.
 */
export function planSubscriptionFee(
  plan: Plan,
  window: ChargeWindow,
  timeZone: string,
  anchorLocalDate: LocalDate,
  inAdvance = false,
): SubscriptionFee {
  const trialDays = plan.trialPeriodDays ?? 0;
  if (trialDays === 0) return computeSubscriptionFee(plan, window, timeZone, inAdvance);
  const firstPaidLocalDate = addDays(anchorLocalDate, trialDays);
  return subscriptionFeeAfterTrial(plan, window, timeZone, { firstPaidLocalDate }, inAdvance);
}

/** The instant a plan's trial ends for a subscription started at `startedAt` (Lago's `trial_ended_at`), or null without trial. */
export function trialEndOf(plan: Plan, startedAt: number, timeZone: string): number | null {
  const trialDays = plan.trialPeriodDays ?? 0;
  return trialDays === 0 ? null : trialOf(startedAt, trialDays, timeZone).endAt;
}
