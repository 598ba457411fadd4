import type { Db } from 'mongodb';
import { isDuplicateKey } from './database';
import { claimKey, pointKey, readKey } from './keys';

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
  /**
   * Plan changes (docs/plan-changes.md): the subscription of the same external id this one
   * replaced, and Lago's `previous_plan_code`, `next_plan_code`, `downgrade_plan_date` (a local
   * date). Absent on subscriptions never changed.
   */
  previous_subscription_id?: string | null;
  previous_plan_code?: string | null;
  next_plan_code?: string | null;
  downgrade_plan_date?: string | null;
  /** Workflow time of the last projection (older projections never overwrite newer ones). */
  projected_at?: number;
}

export function subscriptions(db: Db) {
  return db.collection<SubscriptionDoc>('subscriptions');
}

/** The index that made an external id unique, before plan changes kept several subscriptions per id. */
const UNIQUE_EXTERNAL_ID = 'organization_id_1_external_id_1';

export async function ensureSubscriptionIndexes(db: Db): Promise<void> {
  // A plan change stores a second subscription under the same external id (the key document names
  // the newest): the unique index of older databases becomes a plain one.
  const existing = await subscriptions(db)
    .indexes()
    .catch(() => []); // no collection yet: nothing to replace
  if (existing.some((index) => index.name === UNIQUE_EXTERNAL_ID && index.unique)) {
    await subscriptions(db)
      .dropIndex(UNIQUE_EXTERNAL_ID)
      .catch(() => undefined); // another process dropped it first
  }
  await subscriptions(db).createIndex({ organization_id: 1, external_id: 1 });
  await subscriptions(db).createIndex({ organization_id: 1, external_customer_id: 1 });
  await subscriptions(db).createIndex({ organization_id: 1, plan_code: 1, status: 1 });
}

/**
 * The newest subscription with this external id (any status), or null: its key document, then the
 * subscription, both by `_id` (docs/scaling.md). External ids are never reused within an
 * organization, so the key is never released; a plan change points it to the new subscription.
 */
export async function findSubscription(
  db: Db,
  organizationId: string,
  externalId: string,
): Promise<SubscriptionDoc | null> {
  const id = await readKey(db, 'subscription', organizationId, externalId);
  if (!id) return null;
  const doc = await subscriptions(db).findOne({ _id: id });
  return doc?.organization_id === organizationId && doc.external_id === externalId ? doc : null;
}

/**
 * Inserts a new subscription under the `_id` its key names (claimed here if nobody had; `doc._id` is
 * set to it), so a
 * retried or concurrent create finds it by key. Returns 'inserted', or 'exists' when a subscription
 * with this external id is already stored (then `findSubscription` returns it).
 */
export async function insertSubscription(db: Db, doc: SubscriptionDoc): Promise<'inserted' | 'exists'> {
  const targetId = await claimKey(db, 'subscription', doc.organization_id, doc.external_id, doc._id);
  doc._id = targetId;
  try {
    await subscriptions(db).insertOne(doc);
    return 'inserted';
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    if (!(await findSubscription(db, doc.organization_id, doc.external_id))) {
      // A subscription the key does not name holds the unique (organization, external_id): data
      // from before key documents whose migration was interrupted. Repair the key, once.
      const stored = await subscriptions(db).findOne({
        organization_id: doc.organization_id,
        external_id: doc.external_id,
      });
      if (stored) await pointKey(db, 'subscription', doc.organization_id, doc.external_id, stored._id);
    }
    return 'exists';
  }
}

/**
 * The subscription of this external id in `status` (Lago: `active` unless asked otherwise): the
 * newest, then back along its plan changes (`previous_subscription_id`), each a read by `_id`.
 */
export async function findSubscriptionWithStatus(
  db: Db,
  organizationId: string,
  externalId: string,
  statuses: readonly SubscriptionStatus[],
): Promise<SubscriptionDoc | null> {
  let doc = await findSubscription(db, organizationId, externalId);
  for (let hops = 0; doc && hops < MAX_PLAN_CHANGES_FOLLOWED; hops++) {
    if (statuses.includes(doc.status)) return doc;
    doc = doc.previous_subscription_id
      ? await subscriptions(db).findOne({ _id: doc.previous_subscription_id })
      : null;
  }
  return null;
}

/** Plan changes followed back from the newest subscription of an external id. */
const MAX_PLAN_CHANGES_FOLLOWED = 50;

/**
 * Stores the subscription a plan change creates (its `_id` derived from the change, so a retried
 * request stores it once) and points the external id's key to it. Returns it as stored.
 */
export async function insertPlanChange(db: Db, doc: SubscriptionDoc): Promise<SubscriptionDoc> {
  try {
    await subscriptions(db).insertOne(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  await pointKey(db, 'subscription', doc.organization_id, doc.external_id, doc._id);
  return (await subscriptions(db).findOne({ _id: doc._id })) ?? doc;
}
