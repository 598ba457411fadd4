import type { Db } from 'mongodb';
import type { LagoFee } from '../billing/lago-shapes';
import { upsertRetryingDuplicate } from './database';
import { addListEntries, readItems, readListPage, type ListEntry } from './list-entries';
import { nextSequence, sequenceTop } from './sequences';

export type InvoiceStatus = 'draft' | 'finalized' | 'voided' | 'failed' | 'pending';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed';

/** A fee as stored: billing's fee in Lago names (src/billing/lago-shapes.ts), with its own lago_id. */
export type StoredFee = (LagoFee | CreditFee) & { lago_id: string };

/** The one fee of a `credit` invoice (a paid wallet top-up): units are the credits bought. */
export interface CreditFee extends Omit<
  LagoFee,
  'fee_type' | 'from_datetime' | 'to_datetime' | 'pay_in_advance'
> {
  fee_type: 'credit';
  from_datetime: null;
  to_datetime: null;
  wallet_transaction_id: string;
}

export interface InvoiceDoc {
  _id: string; // `{subscription lago_id}:{period start ISO}`: one invoice per (subscription, period)
  lago_id: string; // a UUID derived from _id (stable across retries)
  organization_id: string;
  customer_id: string;
  external_customer_id: string;
  subscription_id: string | null;
  external_subscription_id: string | null;
  invoice_type: 'subscription' | 'credit';
  invoicing_reason: string | null;
  status: InvoiceStatus;
  payment_status: PaymentStatus;
  number: string;
  sequential_id: number | null;
  issuing_date: string;
  payment_due_date: string;
  net_payment_term: number;
  currency: string;
  from_datetime: string | null;
  to_datetime: string | null;
  fees_amount_cents: number;
  taxes_amount_cents: number;
  sub_total_excluding_taxes_amount_cents: number;
  sub_total_including_taxes_amount_cents: number;
  prepaid_credit_amount_cents: number;
  total_amount_cents: number;
  fees: StoredFee[];
  created_at: Date;
  updated_at: Date;
  finalized_at: Date | null;
  /** Bumped at every recomputation of a draft. */
  version_number: number;
}

export function invoices(db: Db) {
  return db.collection<InvoiceDoc>('invoices');
}

export async function ensureInvoiceIndexes(db: Db): Promise<void> {
  await invoices(db).createIndex({ lago_id: 1 }, { unique: true });
  await invoices(db).createIndex({ organization_id: 1, created_at: 1 });
  await invoices(db).createIndex({ organization_id: 1, external_customer_id: 1 });
}

const invoiceListEntries = (
  inv: Pick<InvoiceDoc, '_id' | 'organization_id' | 'external_customer_id' | 'created_at'>,
): ListEntry[] =>
  [[inv.organization_id], [inv.organization_id, inv.external_customer_id]].map((scope) => ({
    list: 'invoices',
    scope,
    createdAt: inv.created_at,
    itemId: inv._id,
  }));

/** Sequences whose tops count invoices: of an organization, of one of its customers. */
export function invoiceCountSequence(organizationId: string, externalCustomerId?: string): string {
  return externalCustomerId === undefined
    ? `invoice-count:${organizationId}`
    : `invoice-count:${organizationId}:${externalCustomerId}`;
}

/**
 * Inserts the invoice unless one has its `_id` (never touching a stored one), counts it once (the
 * call whose upsert inserted it) and lists it (idempotent: its list entries follow from its stored
 * `created_at`). A crash between the insert and the count leaves the count one short. Returns
 * whether this call inserted it.
 */
export async function insertInvoiceIfMissing(db: Db, doc: InvoiceDoc): Promise<boolean> {
  const r = await upsertRetryingDuplicate(() =>
    invoices(db).updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true }),
  );
  let stored: Pick<InvoiceDoc, '_id' | 'organization_id' | 'external_customer_id' | 'created_at'> = doc;
  if (r.upsertedCount === 1) {
    await Promise.all([
      nextSequence(db, invoiceCountSequence(doc.organization_id)),
      nextSequence(db, invoiceCountSequence(doc.organization_id, doc.external_customer_id)),
    ]);
  } else {
    stored = (await invoices(db).findOne({ _id: doc._id })) ?? doc;
  }
  await addListEntries(db, invoiceListEntries(stored));
  return r.upsertedCount === 1;
}

/** One page of an organization's invoices (or one customer's), newest first, and their count. */
export async function listInvoicePage(
  db: Db,
  organizationId: string,
  externalCustomerId: string | undefined,
  page: { skip: number; limit: number },
): Promise<{ docs: InvoiceDoc[]; totalCount: number }> {
  const scope = externalCustomerId === undefined ? [organizationId] : [organizationId, externalCustomerId];
  const [ids, totalCount] = await Promise.all([
    readListPage(db, 'invoices', scope, page),
    sequenceTop(db, invoiceCountSequence(organizationId, externalCustomerId)),
  ]);
  return { docs: await readItems(invoices(db), ids), totalCount };
}

/** For the migration: lists an invoice stored before list entries existed. */
export async function listStoredInvoice(
  db: Db,
  inv: Pick<InvoiceDoc, '_id' | 'organization_id' | 'external_customer_id' | 'created_at'>,
): Promise<void> {
  await addListEntries(db, invoiceListEntries(inv));
}
