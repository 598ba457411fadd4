/**
 * Instants: epoch milliseconds (integer `number`) inside prorata; ISO-8601 text only at the edges.
 */
import { Dec } from './money';
import { dayNumberOf, daysInMonth } from './local-time';

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const UNIX_SECONDS = /^-?\d+(\.\d+)?$/;

const MS_PER_DAY = 86_400_000;

/**
 * Parses an ISO-8601 instant with an explicit offset (`2024-06-05T00:00:00Z`,
 * `2024-06-05T02:00:00.5+02:00`). Fractions below the millisecond are truncated. Text without an
 * offset is refused: its meaning would depend on the machine's zone.
 */
export function parseIsoInstant(text: string): number | null {
  const match = ISO_INSTANT.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (zulu === undefined) {
    const offsetHours = Number(oh);
    const offsetMins = Number(om);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  return (
    dayNumberOf(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute) * 60 + second) * 1000 +
    millis -
    offsetMinutes * 60_000
  );
}

/**
 * Unix seconds (a number or a numeric string, fractions allowed, as Lago's events API takes them)
 * to epoch milliseconds, truncating below the millisecond. Computed in decimal, not binary floating
 * point, so `"1717200000.123"` is exactly 1717200000123.
 */
export function parseUnixSeconds(value: number | string): number | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim();
  if (typeof value === 'number' ? !/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text) : !UNIX_SECONDS.test(text))
    return null;
  const millis = new Dec(text).times(1000).floor();
  const result = Number(millis.toFixed(0));
  return Number.isSafeInteger(result) ? result : null;
}

/** Lago's rendering of an instant: ISO-8601 UTC without fraction (`2024-03-31T23:59:59Z`). */
export function isoSeconds(at: number): string {
  return new Date(Math.floor(at / 1000) * 1000).toISOString().slice(0, 19) + 'Z';
}

/** ISO-8601 UTC with milliseconds (`2024-03-31T23:59:59.999Z`). */
export function isoMillis(at: number): string {
  return new Date(at).toISOString();
}
