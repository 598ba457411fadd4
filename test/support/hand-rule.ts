/**
 * SPEC section 1 worked by hand, in integers, independent of `src/billing`: tests derive the figures
 * they expect from their scenario's own dates with it, and compare both this and `prorata simulate`
 * with what the workflows stored.
 *
 *   prorated_units = ceil(seatDays / D, 5 decimals);  amount = prorated_units × price, half up to cents.
 */

const SCALE = 100_000; // 5 decimals

export interface HandCharge {
  /** As invoices show it: `"0.33334"`, an integer as `"2.0"`. */
  proratedUnits: string;
  amountCents: number;
}

/** One prorated standard fee: `seatDays` of a period of `periodDays` days at `priceCents` a seat. */
export function handProratedCharge(seatDays: number, periodDays: number, priceCents: number): HandCharge {
  // Integer ceiling division and half-up rounding; every operand stays far below 2^53.
  const scaled = Math.floor((seatDays * SCALE + periodDays - 1) / periodDays);
  const amountCents = Math.floor((scaled * priceCents * 2 + SCALE) / (2 * SCALE));
  const whole = Math.floor(scaled / SCALE);
  const fraction = String(scaled % SCALE)
    .padStart(5, '0')
    .replace(/0+$/, '');
  return { proratedUnits: `${whole}.${fraction || '0'}`, amountCents };
}
