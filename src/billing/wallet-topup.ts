/**
 * Top-up money (SPEC section 6, lago-semantics section 7): credits are floored to 5 decimals, then
 * `amount = round_half_up(credits × rate_amount)` to the currency's minor unit. A top-up whose
 * amount rounds to zero is refused (Lago's `amount_rounds_to_zero`), and so is one too large to be an
 * exact integer of minor units (`value_is_out_of_range`).
 */
import { Dec, floor5, isDecimalString, minorUnitsOf } from './money';
import { creditsToCents } from './wallet';

export type TopUpError =
  'invalid_credits' | 'invalid_rate_amount' | 'amount_rounds_to_zero' | 'value_is_out_of_range';

export type TopUpResult =
  { ok: true; credits: string; amountCents: number } | { ok: false; error: TopUpError };

export function topUpAmount(credits: string, rateAmount: string, currency: string): TopUpResult {
  if (!isDecimalString(credits) || new Dec(credits).isNegative())
    return { ok: false, error: 'invalid_credits' };
  if (!isDecimalString(rateAmount) || !new Dec(rateAmount).isPositive() || new Dec(rateAmount).isZero()) {
    return { ok: false, error: 'invalid_rate_amount' };
  }
  const floored = floor5(new Dec(credits));
  // Money stays an exact integer of minor units (2^53 - 1 cents is about 90 trillion dollars).
  const money = floored.times(new Dec(rateAmount)).times(new Dec(10).pow(minorUnitsOf(currency)));
  if (money.greaterThan(Number.MAX_SAFE_INTEGER)) return { ok: false, error: 'value_is_out_of_range' };
  const amountCents = creditsToCents(floored, rateAmount, currency);
  if (amountCents <= 0) return { ok: false, error: 'amount_rounds_to_zero' };
  return { ok: true, credits: floored.toFixed(), amountCents };
}
