/**
 * Top-up money (SPEC section 6, lago-semantics section 7): credits are floored to 5 decimals, then
 * `amount = round_half_up(credits × rate_amount)` to the currency's minor unit. A top-up whose
 * amount rounds to zero is refused (Lago's `amount_rounds_to_zero`).
 */
import { Dec, floor5, isDecimalString } from './money';
import { creditsToCents } from './wallet';

export type TopUpError = 'invalid_credits' | 'invalid_rate_amount' | 'amount_rounds_to_zero';

export type TopUpResult =
  { ok: true; credits: string; amountCents: number } | { ok: false; error: TopUpError };

export function topUpAmount(credits: string, rateAmount: string, currency: string): TopUpResult {
  if (!isDecimalString(credits) || new Dec(credits).isNegative())
    return { ok: false, error: 'invalid_credits' };
  if (!isDecimalString(rateAmount) || !new Dec(rateAmount).isPositive() || new Dec(rateAmount).isZero()) {
    return { ok: false, error: 'invalid_rate_amount' };
  }
  const floored = floor5(new Dec(credits));
  const amountCents = creditsToCents(floored, rateAmount, currency);
  if (amountCents <= 0) return { ok: false, error: 'amount_rounds_to_zero' };
  return { ok: true, credits: floored.toFixed(), amountCents };
}
