/**
 * Messages of the subscription workflow, shared by the workflow, the API and product services.
 * Only @temporalio/workflow's define* (deterministic, bundle-safe) and contract types are imported.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  SeatEventMessage,
  TerminateRequest,
  TerminateResult,
  FinalizeInvoiceRequest,
  FinalizeInvoiceResult,
  SubscriptionView,
  SeatLedgerView,
  CurrentUsageView,
  PlanChangeRequest,
  PlanChangeResult,
} from '../contracts/subscription-workflow';
import type {
  ConsumeCreditsRequest,
  ConsumeCreditsResult,
  SettleTopUpRequest,
  TopUpRequest,
  WalletChanges,
  WalletRecord,
  WalletTransactionRecord,
  WalletView,
} from '../contracts/wallet-workflow';

/** Seat (and other metric) events, in batches; applied exactly once by transaction_id, in any order. */
export const seatEventsSignal = defineSignal<[SeatEventMessage[]]>('seatEvents');
/** The plan was updated: the workflow reloads it and applies it from the next period. */
export const planChangedSignal = defineSignal<[]>('planChanged');

/**
 * Current usage; the optional argument is events accepted but not yet delivered (the API reads
 * them from their pending-delivery markers), counted as if received, without changing the state.
 */
export const currentUsageQuery = defineQuery<CurrentUsageView | null, [SeatEventMessage[]?]>('currentUsage');
export const seatLedgerQuery = defineQuery<SeatLedgerView>('seatLedger');
export const subscriptionQuery = defineQuery<SubscriptionView>('subscription');

export const terminateUpdate = defineUpdate<TerminateResult, [TerminateRequest]>('terminate');
export const finalizeInvoiceUpdate = defineUpdate<FinalizeInvoiceResult, [FinalizeInvoiceRequest]>(
  'finalizeInvoice',
);
/**
 * Upgrade (switched at once, answered once the old subscription is billed) or downgrade (answered
 * at once, switched at the period end); update id `plan-change:{new subscription lago_id}`.
 */
export const planChangeUpdate = defineUpdate<PlanChangeResult, [PlanChangeRequest]>('planChange');
/** `ending_at` changed (PUT /subscriptions): epoch ms, or null to remove it. */
export const endingAtSignal = defineSignal<[{ ending_at: number | null }]>('endingAt');

// --- wallet workflow (workflows/wallet.ts) -----------------------------------------------------

/** Top-ups (paid, granted, voided), one transaction per kind; answered once the ledger is stored. */
export const walletTopUpUpdate = defineUpdate<WalletTransactionRecord[], [TopUpRequest]>('walletTopUp');
/** Credits for an invoice being finalized; update id `{invoice}:{wallet}`, answered once per invoice. */
export const walletConsumeUpdate = defineUpdate<ConsumeCreditsResult, [ConsumeCreditsRequest]>(
  'walletConsume',
);
/** The credit invoice of a paid top-up was paid (or failed). */
export const walletSettleUpdate = defineUpdate<WalletTransactionRecord, [SettleTopUpRequest]>('walletSettle');
export const walletChangeUpdate = defineUpdate<WalletRecord, [WalletChanges]>('walletChange');
export const walletTerminateUpdate = defineUpdate<WalletRecord, []>('walletTerminate');
export const walletQuery = defineQuery<WalletView>('wallet');
