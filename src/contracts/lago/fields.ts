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

/** A free-form JSON object (stored as JSON text). */
export const jsonObject = () => z.record(z.string(), z.unknown());

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
