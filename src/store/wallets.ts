/**
 * The wallets read model (SPEC section 6): the wallet workflow projects its balance and ledger here
 * after every change, so list and get endpoints never wait on a workflow. The ongoing balance
 * (balance minus usage not yet invoiced) is refreshed here from the subscriptions' usage reports.
 */
import type { Db } from 'mongodb';
import type { Wallet, WalletAppliesTo } from '../billing/wallet';
import type { CreditableFee } from '../billing/credit-allocation';
import type { WalletRecord, WalletTransactionRecord } from '../contracts/wallet-workflow';
import {
  addCountedListEntry,
  addListEntries,
  countedListLength,
  readItems,
  readListPage,
  type ListEntry,
} from './list-entries';

export interface WalletDoc {
  _id: string; // lago_id
  organization_id: string;
  customer_id: string;
  external_customer_id: string;
  workflow_id: string;
  code: string | null;
  name: string | null;
  status: 'active' | 'terminated';
  currency: string;
  rate_amount: string;
  priority: number;
  credits_balance: string;
  balance_cents: number;
  consumed_credits: string;
  created_at: Date;
  updated_at: Date;
  expiration_at: Date | null;
  terminated_at: Date | null;
  last_balance_sync_at: Date | null;
  last_consumed_credit_at: Date | null;
  invoice_requires_successful_payment: boolean;
  paid_top_up_min_amount_cents: number | null;
  paid_top_up_max_amount_cents: number | null;
  applies_to: { fee_types: WalletAppliesTo['feeTypes']; billable_metric_codes: string[] };
  /** Projection version: a projection only replaces an older one. */
  version: number;
}

/**
 * A wallet's share of its customer's usage not yet invoiced. Kept apart from the wallet document so
 * that each document has one writer (FerretDB's updates are not atomic against each other): the
 * wallet workflow writes the balance, the ongoing-balance refresh writes this.
 */
export interface WalletOngoingDoc {
  _id: string; // wallet lago_id
  customer_id: string;
  ongoing_usage_balance_cents: number;
  /** The ongoing balance when last computed (for crossing 0). */
  ongoing_balance_cents: number;
  /** Times the ongoing balance crossed 0, and how many of those were announced by webhook. */
  depletions: number;
  depletions_notified: number;
}

export interface WalletTransactionDoc extends Omit<WalletTransactionRecord, 'id'> {
  _id: string; // lago_id
  organization_id: string;
  /** Ledger order within the wallet. */
  created_at: number;
}

/** A subscription's usage not yet invoiced (current usage and open drafts), for ongoing balances. */
export interface OngoingUsageDoc {
  _id: string; // subscription lago_id
  organization_id: string;
  customer_id: string;
  currency: string;
  fees: CreditableFee[];
  /** Workflow time of the report: an older report never replaces a newer one. */
  as_of: number;
}

export function wallets(db: Db) {
  return db.collection<WalletDoc>('wallets');
}

export function walletTransactions(db: Db) {
  return db.collection<WalletTransactionDoc>('wallet_transactions');
}

export function walletOngoing(db: Db) {
  return db.collection<WalletOngoingDoc>('wallet_ongoing');
}

/** The ongoing shares of some wallets, by wallet id (point reads). */
export async function ongoingOf(db: Db, ids: string[]): Promise<Map<string, WalletOngoingDoc>> {
  const docs = await Promise.all(ids.map((_id) => walletOngoing(db).findOne({ _id })));
  return new Map(docs.flatMap((d) => (d ? [[d._id, d] as const] : [])));
}

/*
 * Per-customer and per-wallet reads go through list entries (docs/scaling.md, "Lists"): one `_id`
 * range each, whatever the number of wallets, transactions and subscriptions of other customers.
 */

/** At most this many wallets (any status) or usage reports are read for one customer. */
const PER_CUSTOMER_MAX = 1_000;

/** The organization's list, then the customer's (by lago id). */
function walletListEntries(doc: Pick<WalletDoc, '_id' | 'organization_id' | 'customer_id' | 'created_at'>) {
  return [[doc.organization_id], [doc.organization_id, 'customer', doc.customer_id]].map(
    (scope): ListEntry => ({ list: 'wallets', scope, createdAt: doc.created_at, itemId: doc._id }),
  );
}

/** Lists a wallet (before it is stored: an entry whose wallet is missing is skipped by readers). */
export async function listWallet(
  db: Db,
  doc: Pick<WalletDoc, '_id' | 'organization_id' | 'customer_id' | 'created_at'>,
): Promise<void> {
  for (const e of walletListEntries(doc)) await addCountedListEntry(db, e);
}

/** A customer's wallets, newest first, any status. */
export async function customerWallets(
  db: Db,
  organizationId: string,
  customerId: string,
): Promise<WalletDoc[]> {
  // One `_id` range and the wallets by `_id`; no count (GET /wallets needs it, billing does not).
  const ids = await readListPage(db, 'wallets', [organizationId, 'customer', customerId], {
    skip: 0,
    limit: PER_CUSTOMER_MAX,
  });
  const docs = await readItems(wallets(db), ids);
  return docs.filter((d) => d.organization_id === organizationId);
}

/** One page of an organization's (or one customer's) wallets, newest first, and their count. */
export async function listWalletPage(
  db: Db,
  organizationId: string,
  customerId: string | undefined,
  page: { skip: number; limit: number },
): Promise<{ docs: WalletDoc[]; totalCount: number }> {
  const scope = customerId === undefined ? [organizationId] : [organizationId, 'customer', customerId];
  const [ids, totalCount] = await Promise.all([
    readListPage(db, 'wallets', scope, page),
    countedListLength(db, 'wallets', scope),
  ]);
  const docs = await readItems(wallets(db), ids);
  return { docs: docs.filter((d) => d.organization_id === organizationId), totalCount };
}

function walletTransactionListEntry(
  tx: Pick<WalletTransactionDoc, '_id' | 'wallet_id' | 'created_at'>,
): ListEntry {
  return {
    list: 'wallet-transactions',
    scope: [tx.wallet_id],
    createdAt: new Date(tx.created_at),
    itemId: tx._id,
  };
}

/** Lists a stored wallet transaction (idempotent; counted once). */
export async function listWalletTransaction(
  db: Db,
  tx: Pick<WalletTransactionDoc, '_id' | 'wallet_id' | 'created_at'>,
): Promise<void> {
  await addCountedListEntry(db, walletTransactionListEntry(tx));
}

/** One page of a wallet's transactions, newest first, and their count. */
export async function listWalletTransactionPage(
  db: Db,
  walletId: string,
  page: { skip: number; limit: number },
): Promise<{ docs: WalletTransactionDoc[]; totalCount: number }> {
  const [ids, totalCount] = await Promise.all([
    readListPage(db, 'wallet-transactions', [walletId], page),
    countedListLength(db, 'wallet-transactions', [walletId]),
  ]);
  const docs = await readItems(walletTransactions(db), ids);
  return { docs: docs.filter((d) => d.wallet_id === walletId), totalCount };
}

/**
 * Lists a subscription's usage report under its customer, before the report is first stored (an
 * entry whose report is missing is skipped). The entry does not depend on time: idempotent.
 */
export async function listOngoingUsage(
  db: Db,
  report: Pick<OngoingUsageDoc, '_id' | 'customer_id'>,
): Promise<void> {
  await addListEntries(db, [
    { list: 'ongoing-usage', scope: [report.customer_id], createdAt: new Date(0), itemId: report._id },
  ]);
}

/** The usage reports of a customer's subscriptions. */
export async function customerOngoingUsage(db: Db, customerId: string): Promise<OngoingUsageDoc[]> {
  const ids = await readListPage(db, 'ongoing-usage', [customerId], { skip: 0, limit: PER_CUSTOMER_MAX });
  return (await readItems(ongoingUsage(db), ids)).filter((d) => d.customer_id === customerId);
}

export function ongoingUsage(db: Db) {
  return db.collection<OngoingUsageDoc>('ongoing_usage');
}

export async function ensureWalletIndexes(db: Db): Promise<void> {
  // Wallets, usage reports and ongoing shares are read by `_id` (per customer through list entries);
  // a ledger filtered by status or type takes this index.
  await walletTransactions(db).createIndex({ wallet_id: 1, created_at: 1 });
}

/** The balance fields a projection writes (everything the workflow owns). */
export function walletBalanceFields(record: WalletRecord) {
  const w = record.wallet;
  return {
    code: record.code,
    name: w.name,
    status: w.status,
    priority: w.priority,
    credits_balance: w.creditsBalance,
    balance_cents: w.balanceCents,
    consumed_credits: w.consumedCredits,
    expiration_at: w.expirationAt === null ? null : new Date(w.expirationAt),
    terminated_at: w.terminatedAt === null ? null : new Date(w.terminatedAt),
    last_balance_sync_at: record.last_balance_sync_at === null ? null : new Date(record.last_balance_sync_at),
    last_consumed_credit_at:
      record.last_consumed_credit_at === null ? null : new Date(record.last_consumed_credit_at),
    invoice_requires_successful_payment: record.invoice_requires_successful_payment,
  };
}

/** The billing core's view of a stored wallet (for ongoing balances). */
export function billingWalletOf(doc: WalletDoc): Wallet {
  return {
    code: doc._id,
    name: doc.name,
    lagoId: doc._id,
    status: doc.status,
    currency: doc.currency,
    rateAmount: doc.rate_amount,
    priority: doc.priority,
    createdAt: doc.created_at.getTime(),
    expirationAt: doc.expiration_at ? doc.expiration_at.getTime() : null,
    terminatedAt: doc.terminated_at ? doc.terminated_at.getTime() : null,
    appliesTo: {
      feeTypes: doc.applies_to.fee_types,
      billableMetricCodes: doc.applies_to.billable_metric_codes,
    },
    creditsBalance: doc.credits_balance,
    balanceCents: doc.balance_cents,
    consumedCredits: doc.consumed_credits,
  };
}

export function transactionDoc(organizationId: string, tx: WalletTransactionRecord): WalletTransactionDoc {
  const { id, ...rest } = tx;
  return { _id: id, organization_id: organizationId, ...rest };
}
