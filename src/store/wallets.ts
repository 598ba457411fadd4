/**
 * The wallets read model (SPEC section 6): the wallet workflow projects its balance and ledger here
 * after every change, so list and get endpoints never wait on a workflow. The ongoing balance
 * (balance minus usage not yet invoiced) is refreshed here from the subscriptions' usage reports.
 */
import type { Db } from 'mongodb';
import type { Wallet, WalletAppliesTo } from '../billing/wallet';
import type { CreditableFee } from '../billing/credit-allocation';
import type { WalletRecord, WalletTransactionRecord } from '../contracts/wallet-workflow';

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

/** The ongoing shares of some wallets, by wallet id. */
export async function ongoingOf(db: Db, ids: string[]): Promise<Map<string, WalletOngoingDoc>> {
  const docs = ids.length
    ? await walletOngoing(db)
        .find({ _id: { $in: ids } })
        .toArray()
    : [];
  return new Map(docs.map((d) => [d._id, d]));
}

export function ongoingUsage(db: Db) {
  return db.collection<OngoingUsageDoc>('ongoing_usage');
}

export async function ensureWalletIndexes(db: Db): Promise<void> {
  await wallets(db).createIndex({ organization_id: 1, customer_id: 1, status: 1 });
  await wallets(db).createIndex({ organization_id: 1, created_at: 1 });
  await walletTransactions(db).createIndex({ wallet_id: 1, created_at: 1 });
  await ongoingUsage(db).createIndex({ customer_id: 1 });
  await walletOngoing(db).createIndex({ customer_id: 1 });
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
