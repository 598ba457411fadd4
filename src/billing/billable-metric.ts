/**
 * Billable metrics as billing sees them, and the one place where an event's Lago `properties` are
 * read: the seat key (`properties[field_name]`), the operation and the summed value.
 */
import { Dec, isDecimalString } from './money';
import type { MeteredEvent, SeatOp } from './seat-ledger';

/** Aggregations prorata bills. Recurring applies to unique counts (seats carry over). */
export const AGGREGATION_TYPES = ['unique_count_agg', 'count_agg', 'sum_agg'] as const;
export type AggregationType = (typeof AGGREGATION_TYPES)[number];

export interface BillableMetric {
  code: string;
  /** Display name (Lago sorts current usage by it); defaults to the code. */
  name: string;
  lagoId: string | null;
  aggregationType: AggregationType;
  /** Property holding the seat key (unique count) or the value (sum); null for count. */
  fieldName: string | null;
  /** Recurring unique count: seats carry over from period to period (and can be prorated). */
  recurring: boolean;
}

/** An event as received (Lago's shape, camelCase), before it is tied to a metric. */
export interface ReceivedEvent {
  /** Billable metric code. */
  code: string;
  /** Timestamp, epoch ms. */
  at: number;
  /** Ingestion sequence number, unique per subscription; breaks timestamp ties. */
  seq: number;
  properties: Readonly<Record<string, unknown>>;
}

export type MeteringError = 'unknown_metric' | 'missing_field' | 'invalid_value';
export type MeteringResult = { ok: true; event: MeteredEvent } | { ok: false; error: MeteringError };

function ownProperty(properties: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(properties, name) ? properties[name] : undefined;
}

/**
 * Lago's operation: `add` when absent; any value other than `add` acts as a removal (Lago's SQL
 * treats every non-add as a remove; the API documents `add` and `remove`).
 */
export function seatOpOf(properties: Readonly<Record<string, unknown>>): SeatOp {
  const op = ownProperty(properties, 'operation_type');
  return op === undefined || op === null || op === 'add' ? 'add' : 'remove';
}

/** The seat key: `properties[field_name]` as a string (numbers are keyed by their decimal text). */
export function seatKeyOf(properties: Readonly<Record<string, unknown>>, fieldName: string): string | null {
  const value = ownProperty(properties, fieldName);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A summed value: a decimal string or a finite number, normalised to a plain decimal string. */
export function usageValueOf(
  properties: Readonly<Record<string, unknown>>,
  fieldName: string,
): string | null {
  const value = ownProperty(properties, fieldName);
  if (typeof value === 'string' && isDecimalString(value.trim())) return new Dec(value.trim()).toFixed();
  if (typeof value === 'number' && Number.isFinite(value)) return new Dec(String(value)).toFixed();
  return null;
}

/**
 * Ties an event to its metric. Events of unknown metrics never bill (SPEC section 3), nor do events
 * missing the metric's field or carrying a non-numeric value to sum (Lago reports those through
 * `events.errors` and bills nothing for them).
 */
export function meteredEventOf(metrics: readonly BillableMetric[], event: ReceivedEvent): MeteringResult {
  const metric = metrics.find((candidate) => candidate.code === event.code);
  if (!metric) return { ok: false, error: 'unknown_metric' };
  const base = { metricCode: metric.code, at: event.at, seq: event.seq };
  switch (metric.aggregationType) {
    case 'unique_count_agg': {
      const seatKey = metric.fieldName === null ? null : seatKeyOf(event.properties, metric.fieldName);
      if (seatKey === null) return { ok: false, error: 'missing_field' };
      return { ok: true, event: { kind: 'seat', ...base, seatKey, op: seatOpOf(event.properties) } };
    }
    case 'count_agg':
      return { ok: true, event: { kind: 'usage', ...base, value: '1' } };
    case 'sum_agg': {
      if (metric.fieldName === null) return { ok: false, error: 'missing_field' };
      const value = usageValueOf(event.properties, metric.fieldName);
      if (value === null) {
        return {
          ok: false,
          error:
            ownProperty(event.properties, metric.fieldName) === undefined ? 'missing_field' : 'invalid_value',
        };
      }
      return { ok: true, event: { kind: 'usage', ...base, value } };
    }
  }
}
