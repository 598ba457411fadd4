import { z } from 'zod';
import { text, requiredText, jsonObject } from './fields';

/** Latest accepted instant (year 9999) for an event timestamp. */
const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/**
 * Lago's event `timestamp`: Unix seconds as a number or a numeric string, fractions allowed
 * (`1763631119`, `"1763631119.123"`). Parsed from its decimal text to integer milliseconds (no float
 * arithmetic): fractions beyond milliseconds are truncated. Anything else is `invalid_format`.
 */
export function parseUnixSecondsToMs(value: unknown): number | null {
  const textValue = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  if (typeof textValue !== 'string') return null;
  const m = /^\s*(\d{1,15})(?:\.(\d*))?\s*$/.exec(textValue);
  if (!m) return null;
  const ms = Number(m[1]) * 1000 + Number(((m[2] ?? '') + '000').slice(0, 3));
  return Number.isSafeInteger(ms) && ms <= MAX_TIMESTAMP_MS ? ms : null;
}

export const eventInput = z.object({
  transaction_id: requiredText().pipe(z.string().max(255, 'value_is_invalid')),
  external_subscription_id: requiredText().pipe(z.string().max(255, 'value_is_invalid')),
  code: requiredText().pipe(z.string().max(255, 'value_is_invalid')),
  timestamp: z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null || parseUnixSecondsToMs(v) !== null, 'invalid_format'),
  properties: jsonObject().nullable().optional(),
  precise_total_amount_cents: z
    .union([text(), z.number()])
    .nullable()
    .optional()
    .refine(
      (v) => v === undefined || v === null || /^-?\d{1,20}(\.\d{1,20})?$/.test(String(v)),
      'value_is_invalid',
    ),
});

export type EventInput = z.infer<typeof eventInput>;

export const MAX_BATCH_EVENTS = 100;

export const eventListQuery = z.object({
  external_subscription_id: text().optional(),
  code: text().optional(),
  timestamp_from: text().optional(),
  timestamp_to: text().optional(),
});
