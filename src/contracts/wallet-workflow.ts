/**
 * Plain-JSON state and messages of the wallet workflow (workflows/wallet.ts): one workflow per
 * wallet serialises every balance change. Instants are epoch milliseconds; money is integer minor
 * units; credits are decimal strings with at most 5 decimals. Nothing here is a class.
 */
import type { Wallet } from '../billing/wallet';

export type WalletTransactionStatus = 'purchased' | 'granted' | 'voided' | 'invoiced';
export type WalletTransactionSettlement = 'pending' | 'settled' | 'failed';

/** One entry of a wallet's ledger (Lago's wallet transaction, in our names). */
export interface WalletTransactionRecord {
  /** The transaction's lago_id (a UUID). */
  id: string;
  wallet_id: string;
  transaction_type: 'inbound' | 'outbound';
  transaction_status: WalletTransactionStatus;
  status: WalletTransactionSettlement;
  source: 'manual' | 'interval' | 'threshold';
  amount_cents: number;
  credit_amount: string;
  /** purchased: the credit invoice; invoiced: the invoice the credits paid. */
  invoice_lago_id: string | null;
  name: string | null;
  metadata: { key: string; value: string }[];
  invoice_requires_successful_payment: boolean;
  created_at: number;
  settled_at: number | null;
  failed_at: number | null;
}

/** Everything the API knows about a wallet beyond its balance. */
export interface WalletRecord {
  /** lago_id (a UUID); also `wallet.code` in the billing core's Wallet, which must be unique. */
  id: string;
  organization_id: string;
  customer_id: string;
  external_customer_id: string;
  /** Lago's optional `code`. */
  code: string | null;
  invoice_requires_successful_payment: boolean;
  paid_top_up_min_amount_cents: number | null;
  paid_top_up_max_amount_cents: number | null;
  last_balance_sync_at: number | null;
  last_consumed_credit_at: number | null;
  /** The balance and its rules, as src/billing keeps them. */
  wallet: Wallet;
}

/** A top-up asked for: the credits as given (the workflow floors and prices them with src/billing). */
export interface TopUpItem {
  /** The transaction's lago_id, chosen by the caller so a retried request finds it. */
  id: string;
  kind: 'paid' | 'granted' | 'voided';
  credits: string;
}

export interface TopUpRequest {
  items: TopUpItem[];
  name: string | null;
  metadata: { key: string; value: string }[];
  invoice_requires_successful_payment: boolean;
  source: 'manual' | 'interval' | 'threshold';
}

/** Credits asked for by a subscription invoice at its finalization. */
export interface ConsumeCreditsRequest {
  /** The invoice's id (`{subscription}:{reason}:{date}`); with the wallet id it names the consumption. */
  invoice_id: string;
  invoice_lago_id: string;
  amount_cents: number;
}

export interface ConsumeCreditsResult {
  /** What the wallet actually gave: at most what was asked, never more than its balance. */
  amount_cents: number;
  credit_amount: string;
  transaction_id: string | null;
}

export interface SettleTopUpRequest {
  transaction_id: string;
  payment_status: 'succeeded' | 'failed';
}

export interface WalletChanges {
  name?: string | null;
  code?: string | null;
  priority?: number;
  /** Epoch ms, or null to remove it. */
  expiration_at?: number | null;
  invoice_requires_successful_payment?: boolean;
}

export interface WalletWorkflowInput {
  wallet: WalletRecord;
  /** Paid top-ups waiting for their invoice's payment. */
  pending: WalletTransactionRecord[];
  /** Recent consumptions by invoice id: a retried finalization gets the first answer. */
  consumed: { invoice_id: string; result: ConsumeCreditsResult }[];
  /** Top-ups given at creation (Lago processes them after the create call). */
  initial_top_up?: TopUpRequest | null;
  /** Whether `wallet.created` was already sent (false on the first run). */
  announced?: boolean;
  /** Webhooks and the ongoing-balance refresh still owed for changes already projected. */
  announce?: WalletAnnouncements;
  /** Projection version reached by the previous runs (projections only replace older ones). */
  projected_version?: number;
  /** Continue-as-new after this many changes (default 500; tests use a few). */
  changes_per_run?: number;
}

export interface WalletView {
  wallet: WalletRecord;
  pending: WalletTransactionRecord[];
}

export interface WalletAnnouncements {
  /** Credit invoices to announce (`invoice.paid_credit_added`). */
  invoices: string[];
  transactions: { id: string; webhookType: 'wallet_transaction.created' | 'wallet_transaction.updated' }[];
  /** Whether the customer's ongoing balances must be recomputed. */
  refresh: boolean;
}
