import type { BillableMetricDoc } from '../../../store/billable-metrics';
import { isoSeconds } from './iso';

/**
 * Lago's billable metric object (lago-api.md section 4.1). The three deprecated `*_count` fields
 * (always 0 in Lago) appear on create, update, delete and list, but not on GET by code.
 */
export function serializeBillableMetric(metric: BillableMetricDoc, options: { counts?: boolean } = {}) {
  const counts = options.counts ?? true;
  return {
    lago_id: metric._id,
    name: metric.name,
    code: metric.code,
    description: metric.description,
    aggregation_type: metric.aggregation_type,
    weighted_interval: metric.weighted_interval,
    recurring: metric.recurring,
    rounding_function: metric.rounding_function,
    rounding_precision: metric.rounding_precision,
    created_at: isoSeconds(metric.created_at),
    field_name: metric.field_name,
    expression: metric.expression,
    ...(counts ? { active_subscriptions_count: 0, draft_invoices_count: 0, plans_count: 0 } : {}),
    filters: metric.filters.map((f) => ({ key: f.key, values: [...f.values] })),
  };
}

export type BillableMetricJson = ReturnType<typeof serializeBillableMetric>;
