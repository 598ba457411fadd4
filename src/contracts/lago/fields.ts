import { z } from 'zod';

/**
 * Field types shared by the Lago request schemas. Error messages are Lago error codes
 * (`config/locales/en.yml` of lago-api): the API copies them into `error_details`.
 *
 * Strings are refused when they hold a NUL character: PostgreSQL (Lago) and FerretDB both reject
 * it, and an error at the database would be a 5xx. Free-form maps (`properties`, `metadata`) are
 * stored as JSON text instead, so they may hold anything JSON can.
 */
export const text = () => z.string().refine((value) => !value.includes('\u0000'), 'value_is_invalid');

/** Lago's `presence: true`: missing, null, empty and blank strings are `value_is_mandatory`. */
export const requiredText = () => text().refine((value) => value.trim() !== '', 'value_is_mandatory');

/** An optional string that may be sent as null. */
export const nullableText = () => text().nullable().optional();

/** An integer in the safe range, at least 0 (`value_is_out_of_range` below). */
export const nonNegativeInteger = () => z.number().int().min(0, 'value_is_out_of_range');

/** An optional boolean that may be sent as null (null then means the default). */
export const nullableFlag = () => z.boolean().nullable().optional();

/** How deep a free-form map may nest (MongoDB documents stop at 100 levels; nobody needs 64). */
export const JSON_MAX_DEPTH = 64;

/** The nesting depth of a JSON value, without recursion (a 100,000-deep value must not blow the stack). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, depth);
    if (max > JSON_MAX_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

/** A free-form JSON object (stored as JSON text), at most JSON_MAX_DEPTH levels deep. */
export const jsonObject = () =>
  z.record(z.string(), z.unknown()).refine((v) => jsonDepth(v) <= JSON_MAX_DEPTH, 'value_is_invalid');

/** A non-negative decimal written as a string, as Lago charge prices are: "10", "0.5". */
export const DECIMAL_STRING = /^\d{1,20}(\.\d{1,20})?$/;

export function isNonNegativeDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_STRING.test(value);
}

/** An ISO-8601 date-time with a zone (`2026-11-20T10:02:11Z`), as Lago accepts (`invalid_date` otherwise). */
export const isoDateTime = () =>
  text().refine(
    (v) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) &&
      !Number.isNaN(Date.parse(v)),
    'invalid_date',
  );
