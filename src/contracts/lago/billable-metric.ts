import { z } from 'zod';
import { addDetail, type LagoErrorDetails } from './error-details';
import { nullableText, requiredText } from './fields';

/** lago-api.md section 4.1; `custom_agg` is server-side only in Lago and is not accepted. */
export const AGGREGATION_TYPES = [
  'count_agg',
  'sum_agg',
  'max_agg',
  'unique_count_agg',
  'weighted_sum_agg',
  'latest_agg',
] as const;
export type AggregationType = (typeof AGGREGATION_TYPES)[number];

export const ROUNDING_FUNCTIONS = ['round', 'ceil', 'floor'] as const;
export type RoundingFunction = (typeof ROUNDING_FUNCTIONS)[number];

export const WEIGHTED_INTERVALS = ['seconds'] as const;
export type WeightedInterval = (typeof WEIGHTED_INTERVALS)[number];

/** Aggregations whose result cannot carry over periods (Lago `BillableMetric#validate_recurring`). */
const NEVER_RECURRING: ReadonlySet<AggregationType> = new Set(['count_agg', 'max_agg', 'latest_agg']);

export const billableMetricFilterInput = z.object({
  key: requiredText(),
  values: z.array(requiredText()).min(1, 'value_is_mandatory'),
});
export type BillableMetricFilter = z.infer<typeof billableMetricFilterInput>;

const fields = {
  name: requiredText(),
  code: requiredText(),
  description: nullableText(),
  // Lago's enum setter turns an unknown (or missing) type into nil, which fails `inclusion`.
  aggregation_type: z.enum(AGGREGATION_TYPES, { error: 'value_is_invalid' }),
  field_name: nullableText(),
  recurring: z.boolean().nullable().optional(),
  weighted_interval: z.enum(WEIGHTED_INTERVALS, { error: 'value_is_invalid' }).nullable().optional(),
  expression: nullableText(),
  rounding_function: z.enum(ROUNDING_FUNCTIONS, { error: 'value_is_invalid' }).nullable().optional(),
  rounding_precision: z.number().int().nullable().optional(),
  filters: z.array(billableMetricFilterInput).nullable().optional(),
};

/** `POST /billable_metrics` body under `billable_metric`. */
export const billableMetricCreateInput = z.object(fields);
/** `PUT /billable_metrics/{code}`: the same fields, any subset. */
export const billableMetricUpdateInput = z.object(fields).partial();

export type BillableMetricCreateInput = z.infer<typeof billableMetricCreateInput>;
export type BillableMetricUpdateInput = z.infer<typeof billableMetricUpdateInput>;

/** The fields the cross-field rules read, after create defaults or update merging. */
export interface BillableMetricRuleInput {
  aggregation_type: AggregationType;
  field_name: string | null;
  recurring: boolean;
  weighted_interval: WeightedInterval | null;
}

/**
 * Lago's model rules that involve more than one field: `field_name` for every aggregation but
 * count; no `recurring` count/max/latest; `weighted_interval` for weighted sums.
 */
export function billableMetricRuleErrors(metric: BillableMetricRuleInput): LagoErrorDetails {
  const details: LagoErrorDetails = {};
  if (metric.aggregation_type !== 'count_agg' && !metric.field_name?.trim()) {
    addDetail(details, 'field_name', 'value_is_mandatory');
  }
  if (metric.recurring && NEVER_RECURRING.has(metric.aggregation_type)) {
    addDetail(details, 'recurring', 'not_compatible_with_aggregation_type');
  }
  if (metric.aggregation_type === 'weighted_sum_agg' && metric.weighted_interval !== 'seconds') {
    addDetail(details, 'weighted_interval', 'value_is_invalid');
  }
  return details;
}

/**
 * Lago defaults `weighted_interval` to `seconds` for weighted sums (the client documents the
 * default) and keeps it null for every other aggregation.
 */
export function weightedIntervalFor(
  aggregationType: AggregationType,
  requested: WeightedInterval | null | undefined,
): WeightedInterval | null {
  return aggregationType === 'weighted_sum_agg' ? (requested ?? 'seconds') : null;
}
