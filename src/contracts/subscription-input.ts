import type { BillableMetric } from '../billing/billable-metric';
import type { Plan } from '../billing/plan';

/** A plan as billing prices it, with the metrics of its charges (a workflow snapshot). */
export interface PlanWithMetricsSnapshot {
  plan: Plan;
  metrics: BillableMetric[];
}
