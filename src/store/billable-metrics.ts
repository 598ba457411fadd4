import { randomUUID } from 'node:crypto';
import { findByCode, pointKey, releaseKey } from './keys';
import { readItems } from './list-entries';
import type { Db } from 'mongodb';
import type {
  AggregationType,
  BillableMetricFilter,
  RoundingFunction,
  WeightedInterval,
} from '../contracts/lago/billable-metric';

/**
 * A billable metric (Lago `billable_metrics`). Soft-deleted like Lago: `deleted_at` is set and
 * `deletion_key` (empty while live) takes the lago_id, so the unique index
 * (organization_id, code, deletion_key) frees the code for reuse without a partial index.
 */
export interface BillableMetricDoc {
  _id: string; // lago_id
  organization_id: string;
  name: string;
  code: string;
  description: string | null;
  aggregation_type: AggregationType;
  field_name: string | null;
  recurring: boolean;
  weighted_interval: WeightedInterval | null;
  expression: string | null;
  rounding_function: RoundingFunction | null;
  rounding_precision: number | null;
  filters: BillableMetricFilter[];
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  deletion_key: string;
}

export type NewBillableMetric = Omit<
  BillableMetricDoc,
  '_id' | 'organization_id' | 'created_at' | 'updated_at' | 'deleted_at' | 'deletion_key'
>;

export const LIVE = '';

export function billableMetrics(db: Db) {
  return db.collection<BillableMetricDoc>('billable_metrics');
}

export async function ensureBillableMetricIndexes(db: Db): Promise<void> {
  await billableMetrics(db).createIndex(
    { organization_id: 1, code: 1, deletion_key: 1 },
    { unique: true, name: 'unique_live_code' },
  );
  await billableMetrics(db).createIndex({ organization_id: 1, deletion_key: 1, created_at: -1 });
}

/** Inserts a metric; a live metric with the same code makes it throw a duplicate-key error (11000). */
export async function insertBillableMetric(
  db: Db,
  organizationId: string,
  metric: NewBillableMetric,
): Promise<BillableMetricDoc> {
  const now = new Date();
  const doc: BillableMetricDoc = {
    _id: randomUUID(),
    organization_id: organizationId,
    ...metric,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    deletion_key: LIVE,
  };
  // The key first (docs/scaling.md): a key naming a metric that was never inserted is repaired by
  // the next lookup.
  await pointKey(db, 'metric', organizationId, doc.code, doc._id);
  await billableMetrics(db).insertOne(doc);
  return doc;
}

/** The live metric with this code: its key, then the metric, both by `_id`. */
export async function findBillableMetric(
  db: Db,
  organizationId: string,
  code: string,
): Promise<BillableMetricDoc | null> {
  return findByCode(db, 'metric', billableMetrics(db), organizationId, code);
}

/** Live metrics of the organization among `ids` (unknown, foreign and deleted ids are left out). */
export async function findLiveBillableMetricsByIds(
  db: Db,
  organizationId: string,
  ids: readonly string[],
): Promise<BillableMetricDoc[]> {
  return (await findBillableMetricsByIds(db, organizationId, ids)).filter((m) => m.deletion_key === LIVE);
}

/**
 * Metrics by id, deleted ones included (a plan may still be rendered after its metric is gone): reads
 * by `_id` (FerretDB does not serve `_id: {$in}` from its index).
 */
export async function findBillableMetricsByIds(
  db: Db,
  organizationId: string,
  ids: readonly string[],
): Promise<BillableMetricDoc[]> {
  const docs = await readItems(billableMetrics(db), [...new Set(ids)]);
  return docs.filter((m) => m.organization_id === organizationId);
}

export async function listBillableMetrics(
  db: Db,
  organizationId: string,
  page: { skip: number; limit: number },
): Promise<{ items: BillableMetricDoc[]; totalCount: number }> {
  const filter = { organization_id: organizationId, deletion_key: LIVE };
  const [items, totalCount] = await Promise.all([
    billableMetrics(db)
      .find(filter)
      .sort({ created_at: -1, _id: 1 })
      .skip(page.skip)
      .limit(page.limit)
      .toArray(),
    billableMetrics(db).countDocuments(filter),
  ]);
  return { items, totalCount };
}

/** Sets fields of a live metric; null when it no longer exists. May throw a duplicate-key error. */
export async function updateBillableMetric(
  db: Db,
  organizationId: string,
  id: string,
  changes: Partial<NewBillableMetric>,
): Promise<BillableMetricDoc | null> {
  // A new code's key first; the old code's key, left naming a renamed metric, is released by its
  // next lookup.
  if (changes.code !== undefined) await pointKey(db, 'metric', organizationId, changes.code, id);
  return billableMetrics(db).findOneAndUpdate(
    { _id: id, organization_id: organizationId, deletion_key: LIVE },
    { $set: { ...changes, updated_at: new Date() } },
    { returnDocument: 'after' },
  );
}

/** Soft-deletes a live metric; returns it as it was, or null when it was not live. */
export async function softDeleteBillableMetric(
  db: Db,
  organizationId: string,
  id: string,
): Promise<BillableMetricDoc | null> {
  const now = new Date();
  const deleted = await billableMetrics(db).findOneAndUpdate(
    { _id: id, organization_id: organizationId, deletion_key: LIVE },
    { $set: { deleted_at: now, updated_at: now, deletion_key: id } },
    { returnDocument: 'after' },
  );
  if (deleted) await releaseKey(db, 'metric', organizationId, deleted.code, id);
  return deleted;
}
