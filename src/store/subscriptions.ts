import type { Db } from 'mongodb';
import { subscriptionStatusValues } from '../contracts/lago/subscription';
import { isDuplicateKey } from './database';
import { claimKey, pointKey, readKey } from './keys';
import {
  addCountedListEntry,
  countedListLength,
  hasListEntry,
  readItems,
  readMergedListPage,
  removeCountedListEntry,
  type ListEntry,
} from './list-entries';

export type SubscriptionStatus = (typeof subscriptionStatusValues)[number];

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
  /** Lago's `trial_ended_at`, set by the workflow when the plan's trial ends (absent: null). */
  trial_ended_at?: Date | null;
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
 * `keyTarget`: the key, when the caller read it already (`readKeys`).
 */
export async function findSubscription(
  db: Db,
  organizationId: string,
  externalId: string,
  keyTarget?: string | null,
): Promise<SubscriptionDoc | null> {
  const id =
    keyTarget === undefined ? await readKey(db, 'subscription', organizationId, externalId) : keyTarget;
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
    await listSubscription(db, doc._id);
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
    const existing = await findSubscription(db, doc.organization_id, doc.external_id);
    if (existing) await listSubscription(db, existing._id); // a create that crashed before listing it
    return 'exists';
  }
}

/*
 * Lists (docs/scaling.md, "Lists"): a subscription has one entry in its organization's list of its
 * status, and one in its customer's. A status change moves both (counted lists, so each list's
 * length is two point reads).
 */
function subscriptionListScope(
  organizationId: string,
  externalCustomerId: string | undefined,
  status: SubscriptionStatus,
): string[] {
  return externalCustomerId === undefined
    ? [organizationId, status]
    : [organizationId, `customer:${externalCustomerId}`, status];
}

/** The customer's entry, then the organization's (written in that order, removed in reverse). */
function subscriptionListEntries(doc: SubscriptionDoc, status: SubscriptionStatus): ListEntry[] {
  return [doc.external_customer_id, undefined].map((customer) => ({
    list: 'subscriptions',
    scope: subscriptionListScope(doc.organization_id, customer, status),
    createdAt: doc.created_at,
    itemId: doc._id,
  }));
}

/**
 * Puts the subscription in the lists of its status and takes it out of the others. The
 * organization's entry for its status is written last, so its presence means the move is complete
 * and an unchanged status costs one point read. Callers that read an older status converge: each
 * re-reads the status after moving and moves again when it changed, and an entry is counted only
 * by the write that took effect.
 */
export async function listSubscription(db: Db, id: string): Promise<void> {
  let doc = await subscriptions(db).findOne({ _id: id });
  for (let round = 0; doc && round < subscriptionStatusValues.length; round++) {
    const current = subscriptionListEntries(doc, doc.status);
    if (await hasListEntry(db, current[1]!)) return;
    for (const status of subscriptionStatusValues) {
      if (status === doc.status) continue;
      for (const e of subscriptionListEntries(doc, status).reverse()) await removeCountedListEntry(db, e);
    }
    for (const e of current) await addCountedListEntry(db, e);
    const again = await subscriptions(db).findOne({ _id: id });
    if (!again || again.status === doc.status) return;
    doc = again;
  }
}

/**
 * One page of an organization's (or one customer's) subscriptions in some statuses, newest first,
 * and their count: list entries (`_id` ranges) and sequence tops, whatever the number stored.
 */
export async function listSubscriptionPage(
  db: Db,
  organizationId: string,
  filter: { externalCustomerId?: string; statuses: readonly SubscriptionStatus[] },
  page: { skip: number; limit: number },
): Promise<{ docs: SubscriptionDoc[]; totalCount: number }> {
  const statuses = [...new Set(filter.statuses)];
  const scopes = statuses.map((status) =>
    subscriptionListScope(organizationId, filter.externalCustomerId, status),
  );
  const [ids, counts] = await Promise.all([
    readMergedListPage(db, 'subscriptions', scopes, page),
    Promise.all(scopes.map((scope) => countedListLength(db, 'subscriptions', scope))),
  ]);
  const docs = await readItems(subscriptions(db), ids);
  return {
    // A subscription moving between statuses may be read once in its new status already.
    docs: docs.filter((d) => statuses.includes(d.status)),
    totalCount: counts.reduce((a, b) => a + b, 0),
  };
}

/**
 * The subscription of this external id in `status` (Lago: `active` unless asked otherwise): the
 * newest, then back along its plan changes (`previous_subscription_id`), each a read by `_id`.
 * `keyTarget` as for `findSubscription`.
 */
export async function findSubscriptionWithStatus(
  db: Db,
  organizationId: string,
  externalId: string,
  statuses: readonly SubscriptionStatus[],
  keyTarget?: string | null,
): Promise<SubscriptionDoc | null> {
  let doc = await findSubscription(db, organizationId, externalId, keyTarget);
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
  await listSubscription(db, doc._id);
  await pointKey(db, 'subscription', doc.organization_id, doc.external_id, doc._id);
  return (await subscriptions(db).findOne({ _id: doc._id })) ?? doc;
}
