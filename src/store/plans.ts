import { randomUUID } from 'node:crypto';
import { findByCode, pointKey, releaseKey } from './keys';
import type { Db } from 'mongodb';
import type { Currency } from '../contracts/lago/currency';
import type { ChargeModel, PlanInterval } from '../contracts/lago/plan';
import { LIVE, findBillableMetricsByIds, type BillableMetricDoc } from './billable-metrics';

/**
 * A charge, embedded in its plan (Lago `charges`). Its customer-supplied maps are kept as JSON
 * text: property and filter keys may contain '.' or start with '$', which FerretDB refuses.
 */
export interface ChargeDoc {
  lago_id: string;
  billable_metric_id: string;
  /** Unique within the plan; defaults to the metric code. */
  code: string;
  invoice_display_name: string | null;
  charge_model: ChargeModel;
  pay_in_advance: boolean;
  invoiceable: boolean;
  regroup_paid_fees: 'invoice' | null;
  prorated: boolean;
  min_amount_cents: number;
  accepts_target_wallet: boolean;
  /** e.g. `{"amount":"10"}` for a standard charge; read it with `chargePropertiesOf`. */
  properties_json: string;
  /** Charge filters `[{invoice_display_name, properties, values: {key: [..]}}]` as JSON text. */
  filters_json: string;
  created_at: Date;
  updated_at: Date;
}

/**
 * A plan (Lago `plans`), soft-deleted like billable metrics (see `deletion_key` there).
 * `revision` grows by one at every update, so a snapshot can tell whether it is stale.
 */
export interface PlanDoc {
  _id: string; // lago_id
  organization_id: string;
  name: string;
  code: string;
  interval: PlanInterval;
  description: string | null;
  invoice_display_name: string | null;
  amount_cents: number;
  amount_currency: Currency;
  pay_in_advance: boolean;
  trial_period: number;
  bill_charges_monthly: boolean | null;
  bill_fixed_charges_monthly: boolean | null;
  /** Plan `metadata` object as JSON text, null when none was sent. */
  metadata_json: string | null;
  charges: ChargeDoc[];
  /** The metrics the charges use (for "which plans use this metric" queries). */
  billable_metric_ids: string[];
  revision: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  deletion_key: string;
}

export type PlanFields = Omit<
  PlanDoc,
  | '_id'
  | 'organization_id'
  | 'billable_metric_ids'
  | 'revision'
  | 'created_at'
  | 'updated_at'
  | 'deleted_at'
  | 'deletion_key'
>;

export function plans(db: Db) {
  return db.collection<PlanDoc>('plans');
}

export async function ensurePlanIndexes(db: Db): Promise<void> {
  await plans(db).createIndex(
    { organization_id: 1, code: 1, deletion_key: 1 },
    { unique: true, name: 'unique_live_code' },
  );
  await plans(db).createIndex({ organization_id: 1, deletion_key: 1, created_at: -1 });
  await plans(db).createIndex({ organization_id: 1, billable_metric_ids: 1 });
}

export function chargePropertiesOf(charge: Pick<ChargeDoc, 'properties_json'>): Record<string, unknown> {
  return parseObject(charge.properties_json) ?? {};
}

export function chargeFiltersOf(charge: Pick<ChargeDoc, 'filters_json'>): unknown[] {
  const value: unknown = JSON.parse(charge.filters_json);
  return Array.isArray(value) ? value : [];
}

export function planMetadataOf(plan: Pick<PlanDoc, 'metadata_json'>): Record<string, unknown> | null {
  return plan.metadata_json === null ? null : parseObject(plan.metadata_json);
}

function parseObject(json: string): Record<string, unknown> | null {
  const value: unknown = JSON.parse(json);
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

const metricIdsOf = (charges: readonly ChargeDoc[]) => [...new Set(charges.map((c) => c.billable_metric_id))];

/** Inserts a plan; a live plan with the same code makes it throw a duplicate-key error (11000). */
export async function insertPlan(db: Db, organizationId: string, fields: PlanFields): Promise<PlanDoc> {
  const now = new Date();
  const doc: PlanDoc = {
    _id: randomUUID(),
    organization_id: organizationId,
    ...fields,
    billable_metric_ids: metricIdsOf(fields.charges),
    revision: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    deletion_key: LIVE,
  };
  // The key first (docs/scaling.md): a key naming a plan that was never inserted is repaired by the
  // next lookup.
  await pointKey(db, 'plan', organizationId, doc.code, doc._id);
  await plans(db).insertOne(doc);
  return doc;
}

/** The live plan with this code: its key, then the plan, both by `_id`. */
export async function findPlan(db: Db, organizationId: string, code: string): Promise<PlanDoc | null> {
  return findByCode(db, 'plan', plans(db), organizationId, code);
}

export interface PlanWithMetrics {
  plan: PlanDoc;
  /** The metric of every charge, once each (a metric deleted since is still returned). */
  billableMetrics: BillableMetricDoc[];
}

/** The live plan with this code and the billable metrics its charges use; null when there is none. */
export async function findPlanWithMetrics(
  db: Db,
  organizationId: string,
  planCode: string,
): Promise<PlanWithMetrics | null> {
  const plan = await findPlan(db, organizationId, planCode);
  if (!plan) return null;
  const billableMetrics = await findBillableMetricsByIds(db, organizationId, metricIdsOf(plan.charges));
  return { plan, billableMetrics };
}

export async function listPlans(
  db: Db,
  organizationId: string,
  page: { skip: number; limit: number },
): Promise<{ items: PlanDoc[]; totalCount: number }> {
  const filter = { organization_id: organizationId, deletion_key: LIVE };
  const [items, totalCount] = await Promise.all([
    plans(db).find(filter).sort({ created_at: -1, _id: 1 }).skip(page.skip).limit(page.limit).toArray(),
    plans(db).countDocuments(filter),
  ]);
  return { items, totalCount };
}

/**
 * Replaces the fields of a live plan if it is still at `expectedRevision` (optimistic concurrency:
 * FerretDB has no transactions). Null when the plan was deleted or changed meanwhile: re-read and
 * retry. May throw a duplicate-key error when the code is taken.
 */
export async function updatePlan(
  db: Db,
  organizationId: string,
  id: string,
  expectedRevision: number,
  fields: PlanFields,
): Promise<PlanDoc | null> {
  // The code's key first (a renamed plan's old key is released by its next lookup).
  await pointKey(db, 'plan', organizationId, fields.code, id);
  return plans(db).findOneAndUpdate(
    { _id: id, organization_id: organizationId, deletion_key: LIVE, revision: expectedRevision },
    {
      $set: { ...fields, billable_metric_ids: metricIdsOf(fields.charges), updated_at: new Date() },
      $inc: { revision: 1 },
    },
    { returnDocument: 'after' },
  );
}

/** Soft-deletes a live plan; returns it, or null when it was not live. */
export async function softDeletePlan(db: Db, organizationId: string, id: string): Promise<PlanDoc | null> {
  const now = new Date();
  const deleted = await plans(db).findOneAndUpdate(
    { _id: id, organization_id: organizationId, deletion_key: LIVE },
    { $set: { deleted_at: now, updated_at: now, deletion_key: id }, $inc: { revision: 1 } },
    { returnDocument: 'after' },
  );
  if (deleted) await releaseKey(db, 'plan', organizationId, deleted.code, id);
  return deleted;
}

/**
 * Removes the charges of a deleted metric from every live plan of the organization (Lago discards
 * a metric's charges with it). Returns the plans that changed. A plan updated concurrently is
 * re-read (compare-and-set on `revision`; FerretDB's `$pull` cannot match sub-documents).
 */
export async function removeMetricCharges(
  db: Db,
  organizationId: string,
  metricId: string,
): Promise<PlanDoc[]> {
  const changed: PlanDoc[] = [];
  const filter = { organization_id: organizationId, deletion_key: LIVE, billable_metric_ids: metricId };
  for (let conflicts = 0; conflicts < 50;) {
    const plan = await plans(db).findOne(filter);
    if (!plan) return changed;
    const charges = plan.charges.filter((c) => c.billable_metric_id !== metricId);
    const updated = await plans(db).findOneAndUpdate(
      { _id: plan._id, organization_id: organizationId, revision: plan.revision },
      {
        $set: { charges, billable_metric_ids: metricIdsOf(charges), updated_at: new Date() },
        $inc: { revision: 1 },
      },
      { returnDocument: 'after' },
    );
    if (updated) changed.push(updated);
    else conflicts++;
  }
  throw new Error(`could not remove the charges of metric ${metricId}: plans kept changing`);
}

/** Whether any live plan of the organization has a charge on this metric. */
export async function isMetricUsedByPlans(
  db: Db,
  organizationId: string,
  metricId: string,
): Promise<boolean> {
  const found = await plans(db).findOne(
    { organization_id: organizationId, deletion_key: LIVE, billable_metric_ids: metricId },
    { projection: { _id: 1 } },
  );
  return found !== null;
}
