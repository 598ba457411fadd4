/**
 * The plan's subscription fee (SPEC section 2): `amount_cents` per period, prorated for a partial
 * first or last period as `round_half_up(amount_cents × used_days / D)`, days counted inclusively
 * on local dates.
 *
 * In arrears (default) the fee of a period is on that period's invoice. With `pay_in_advance` the
 * fee of a period is billed when it starts: the first (possibly partial) period on a
 * `subscription_starting` invoice at `started_at`, each following period in full on the invoice
 * that closes the period before it, and nothing on a terminating invoice (the terminated period was
 * already paid; Lago's refund credit note is not modelled).
 */
import type { ChargeWindow } from './billing-period';
import { daysBetween, localDateOf, startOfLocalDay } from './local-time';
import { minorToAmount, prorateHalfUp } from './money';
import type { Plan } from './plan';

export interface SubscriptionFee {
  feeType: 'subscription';
  planCode: string;
  /** Covered span, epoch ms, both inclusive; `fromAt` is the local midnight of the first day. */
  fromAt: number;
  toAt: number;
  /** Local days covered (inclusive) and D. */
  usedDays: number;
  durationDays: number;
  /** Always "1.0" (Lago bills one subscription unit). */
  units: string;
  eventsCount: number;
  /** The fee in currency units (already a whole number of minor units). */
  preciseAmount: string;
  amountCents: number;
  currency: string;
  /** True when this fee pays for a period that has not happened yet. */
  inAdvance: boolean;
}

export function computeSubscriptionFee(
  plan: Plan,
  window: ChargeWindow,
  timeZone: string,
  inAdvance = false,
): SubscriptionFee {
  const firstLocalDate = localDateOf(window.fromAt, timeZone);
  const usedDays = daysBetween(firstLocalDate, localDateOf(window.toAt, timeZone)) + 1;
  return subscriptionFeeOf(plan, window, startOfLocalDay(firstLocalDate, timeZone), usedDays, inAdvance);
}

/**
 * The fee for `usedDays` paid local days of a window, the first starting at `fromAt`:
 * `round_half_up(amount_cents × usedDays / D)`, the full amount from D days on.
 */
export function subscriptionFeeOf(
  plan: Plan,
  window: ChargeWindow,
  fromAt: number,
  usedDays: number,
  inAdvance: boolean,
): SubscriptionFee {
  const durationDays = window.period.durationDays;
  const amountCents =
    usedDays >= durationDays ? plan.amountCents : prorateHalfUp(plan.amountCents, usedDays, durationDays);
  return {
    feeType: 'subscription',
    planCode: plan.code,
    fromAt,
    toAt: window.toAt,
    usedDays,
    durationDays,
    units: '1.0',
    eventsCount: 0,
    preciseAmount: minorToAmount(amountCents, plan.currency).toFixed(),
    amountCents,
    currency: plan.currency,
    inAdvance,
  };
}
