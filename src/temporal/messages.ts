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
} from '../contracts/subscription-workflow';

/** Seat (and other metric) events, in batches; applied exactly once by transaction_id, in any order. */
export const seatEventsSignal = defineSignal<[SeatEventMessage[]]>('seatEvents');
/** The plan was updated: the workflow reloads it and applies it from the next period. */
export const planChangedSignal = defineSignal<[]>('planChanged');

export const currentUsageQuery = defineQuery<CurrentUsageView | null>('currentUsage');
export const seatLedgerQuery = defineQuery<SeatLedgerView>('seatLedger');
export const subscriptionQuery = defineQuery<SubscriptionView>('subscription');

export const terminateUpdate = defineUpdate<TerminateResult, [TerminateRequest]>('terminate');
export const finalizeInvoiceUpdate = defineUpdate<FinalizeInvoiceResult, [FinalizeInvoiceRequest]>(
  'finalizeInvoice',
);
/** `ending_at` changed (PUT /subscriptions): epoch ms, or null to remove it. */
export const endingAtSignal = defineSignal<[{ ending_at: number | null }]>('endingAt');
