import type { Db } from 'mongodb';

export type SubscriptionStatus = 'pending' | 'active' | 'terminated' | 'canceled';

/**
 * A subscription's document: written by the API at creation, then kept current by the workflow's
 * projection activity (status, current period, seats). Reads never wait on a workflow.
 */
export interface SubscriptionDoc {
  _id: string; // lago_id
  organization_id: string;
  external_id: string;
  external_customer_id: string;
  customer_id: string;
  plan_id: string;
  plan_code: string;
  name: string | null;
  status: SubscriptionStatus;
  billing_time: 'calendar' | 'anniversary';
  subscription_at: Date;
  started_at: Date | null;
  ending_at: Date | null;
  terminated_at: Date | null;
  canceled_at: Date | null;
  created_at: Date;
  updated_at: Date;
  current_billing_period_started_at: Date | null;
  current_billing_period_ending_at: Date | null;
  /** Seats active now per billable metric code, as last projected by the workflow. */
  active_units: Record<string, string>;
  workflow_id: string;
  /** Workflow time of the last projection (older projections never overwrite newer ones). */
  projected_at?: number;
}

export function subscriptions(db: Db) {
  return db.collection<SubscriptionDoc>('subscriptions');
}

export async function ensureSubscriptionIndexes(db: Db): Promise<void> {
  await subscriptions(db).createIndex({ organization_id: 1, external_id: 1 }, { unique: true });
  await subscriptions(db).createIndex({ organization_id: 1, external_customer_id: 1 });
  await subscriptions(db).createIndex({ organization_id: 1, plan_code: 1, status: 1 });
}
