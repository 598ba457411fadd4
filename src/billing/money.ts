/**
 * Money and exact decimals. Every computation that reaches a bill goes through `Dec` (decimal.js,
 * 50 significant digits, half-up) or through integer BigInt arithmetic; JavaScript numbers appear
 * only as final, safe-integer-checked minor-unit amounts (`*_amount_cents`).
 */
import Decimal from 'decimal.js';

/**
 * The billing decimal: a private clone so the global Decimal configuration is never touched. 50
 * significant digits keep every product of a price (at most 30 digits, see `isDecimalString`) by
 * units exact; half-up is Lago's rounding (Ruby BigDecimal#round, Money-Rails).
 */
export const Dec = Decimal.clone({
  precision: 50,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -60,
  toExpPos: 60,
});
export type Dec = Decimal;

/** A plain decimal string: optional minus, digits, optional fraction (`"10"`, `"0.5"`, `"-3.25"`). */
const DECIMAL_STRING = /^-?(0|[1-9]\d*)(\.\d+)?$/;
const MAX_SIGNIFICANT_DIGITS = 30;

/** True for decimal strings prorata accepts as prices, credits or metric values (no exponent, ≤ 30 digits). */
export function isDecimalString(value: string): boolean {
  if (!DECIMAL_STRING.test(value)) return false;
  const digits = value.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= MAX_SIGNIFICANT_DIGITS;
}

/** Parses a decimal string already validated by `isDecimalString`. */
export function decimal(value: string | number | bigint): Dec {
  return new Dec(typeof value === 'bigint' ? value.toString() : value);
}

/**
 * ISO 4217 minor units (exponents) of the currencies whose exponent is not 2. Every other currency
 * (USD, EUR, GBP, CHF, CAD, AUD, INR, BRL, ...) has 2 decimals.
 */
const NON_DEFAULT_MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
});
const DEFAULT_MINOR_UNITS = 2;

/** Number of decimals of the currency's minor unit (USD 2, JPY 0, KWD 3). */
export function minorUnitsOf(currency: string): number {
  return Object.prototype.hasOwnProperty.call(NON_DEFAULT_MINOR_UNITS, currency)
    ? (NON_DEFAULT_MINOR_UNITS[currency] as number)
    : DEFAULT_MINOR_UNITS;
}

/** Converts an integer decimal to a JS number, refusing anything a double cannot hold exactly. */
export function toSafeInteger(value: Dec): number {
  if (!value.isInteger()) throw new RangeError(`not an integer: ${value.toFixed()}`);
  const result = Number(value.toFixed(0));
  if (!Number.isSafeInteger(result))
    throw new RangeError(`amount out of the safe integer range: ${value.toFixed()}`);
  return result;
}

/** An amount in currency units, rounded half up once to the minor unit, as integer minor units (cents). */
export function roundHalfUpToMinor(amount: Dec, currency: string): number {
  const exponent = minorUnitsOf(currency);
  return toSafeInteger(amount.toDecimalPlaces(exponent, Dec.ROUND_HALF_UP).times(new Dec(10).pow(exponent)));
}

/** Integer minor units back to currency units (`1355`, USD → `13.55`). */
export function minorToAmount(amountCents: number, currency: string): Dec {
  return new Dec(amountCents).div(new Dec(10).pow(minorUnitsOf(currency)));
}

/** Rounds up (toward +∞) to 5 decimals: Lago's `ceil(5)` on prorated units. */
export function ceil5(value: Dec): Dec {
  return value.toDecimalPlaces(5, Dec.ROUND_CEIL);
}

/** Truncates toward -∞ to 5 decimals: wallet credits are floored to 5 decimals. */
export function floor5(value: Dec): Dec {
  return value.toDecimalPlaces(5, Dec.ROUND_FLOOR);
}

/**
 * `ceil(numerator / denominator, 5 decimals)` for non-negative integers, computed exactly as a
 * rational: `ceil(numerator × 100000 / denominator) / 100000`.
 */
export function ceil5Ratio(numerator: number, denominator: number): Dec {
  if (!Number.isSafeInteger(numerator) || numerator < 0) throw new RangeError(`bad numerator ${numerator}`);
  if (!Number.isSafeInteger(denominator) || denominator <= 0)
    throw new RangeError(`bad denominator ${denominator}`);
  const scaled = BigInt(numerator) * 100_000n;
  const d = BigInt(denominator);
  const quotient = (scaled + d - 1n) / d;
  return new Dec(quotient.toString()).div(100_000);
}

/**
 * `round_half_up(amount × numerator / denominator)` for non-negative integers, exactly (used to
 * prorate the plan's `amount_cents` over `used_days / D`).
 */
export function prorateHalfUp(amount: number, numerator: number, denominator: number): number {
  for (const value of [amount, numerator]) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`bad proration input ${value}`);
  }
  if (!Number.isSafeInteger(denominator) || denominator <= 0)
    throw new RangeError(`bad denominator ${denominator}`);
  const product = BigInt(amount) * BigInt(numerator);
  const d = BigInt(denominator);
  const rounded = (2n * product + d) / (2n * d);
  return toSafeInteger(new Dec(rounded.toString()));
}

/**
 * How prorata renders a decimal quantity (units, prorated units, credits): Lago's BigDecimal#to_s
 * style, an integer keeps one decimal (`"2.0"`, `"0.0"`), anything else is written in full without
 * trailing zeros or exponent (`"1.35484"`, `"0.5"`).
 */
export function formatQuantity(value: Dec): string {
  const normalized = value.isZero() ? new Dec(0) : value;
  return normalized.isInteger() ? normalized.toFixed(1) : normalized.toFixed();
}
