/**
 * Plain-JSON payloads of the subscription workflow's messages (src/temporal/messages.ts). Instants are
 * epoch milliseconds; money in integer minor units or decimal strings; nothing here is a class.
 */
import type { LagoCustomerUsage, LagoFee, LagoInvoiceAmounts } from '../billing/lago-shapes';
import type { PlanWithMetricsSnapshot } from './subscription-input';

/** One event as the subscription workflow receives it (from the API or a product service). */
export interface SeatEventMessage {
  transaction_id: string;
  /** Billable metric code. */
  code: string;
  /** Epoch milliseconds. */
  timestamp: number;
  /**
   * The event's properties, as sent. Only the metric's `field_name` value and `operation_type` are
   * read; the API sends just those.
   */
  properties: Record<string, string | number | boolean | null>;
  /** false when a product service signalled the workflow directly: the workflow then records it in MongoDB. */
  recorded: boolean;
}

export interface TerminateRequest {
  /** Epoch ms; default: the workflow's current time. Never before the current charge period starts. */
  terminated_at?: number;
}

export interface TerminateResult {
  terminated_at: number;
  /** The final invoice, or null when Lago's `on_termination_invoice: skip` was asked. */
  invoice_id: string | null;
}

export interface FinalizeInvoiceRequest {
  invoice_id: string;
}

export interface FinalizeInvoiceResult {
  invoice_id: string;
  status: 'finalized';
}

/** A fee as the workflow computes it (src/billing), in Lago's names. */
export type ComputedFee = LagoFee;

/**
 * An invoice as the workflow computes it, before storage: billing's amounts in Lago's names plus the
 * subscription it belongs to. The activity adds its lago_id, number and credits.
 */
export interface ComputedInvoice extends LagoInvoiceAmounts {
  /** `{subscription lago_id}:{reason}:{period start local date}`: one invoice per (subscription, period). */
  id: string;
  organization_id: string;
  customer_id: string;
  external_customer_id: string;
  subscription_id: string;
  external_subscription_id: string;
}

/** What the invoice activities report back. */
export interface StoredInvoiceSummary {
  id: string;
  lago_id: string;
  status: 'draft' | 'finalized';
  number: string;
  total_amount_cents: number;
}

/** Lago's `customer_usage` object, plus `prorated_units` per charge. */
export type CurrentUsageView = LagoCustomerUsage;

/** The seat ledger for support and audit: per metric, per seat, its stints in the current period. */
export interface SeatLedgerView {
  from_datetime: string;
  to_datetime: string;
  charges_duration: number;
  metrics: {
    code: string;
    seats: {
      key: string;
      active_at_end: boolean;
      days: number;
      stints: { from: string; to: string; days: number }[];
    }[];
  }[];
}

/** What the workflow knows of its subscription (Web UI, support). */
export interface SubscriptionView {
  external_id: string;
  status: 'pending' | 'active' | 'terminated' | 'canceled';
  current_billing_period_started_at: string | null;
  current_billing_period_ending_at: string | null;
  draft_invoice_ids: string[];
  events_applied: number;
}

/**
 * A plan change (Lago's `POST /subscriptions` with the external id of the active subscription and
 * another plan, docs/plan-changes.md): the workflow of the external id carries on with the new
 * subscription. The API decides the kind (`planChangeKind`) and has stored the new subscription.
 */
export interface PlanChangeRequest {
  kind: 'upgrade' | 'downgrade';
  /** The new subscription's lago_id and plan. */
  subscription_id: string;
  plan: PlanWithMetricsSnapshot;
  /** The new subscription's `ending_at`, epoch ms, or null. */
  ending_at: number | null;
  /** Upgrades: the switch instant (epoch ms; default: the workflow's current time). */
  at?: number;
}

export interface PlanChangeResult {
  kind: 'upgrade' | 'downgrade';
  previous_subscription_id: string;
  subscription_id: string;
  /** When the new subscription starts: the upgrade instant, or the end of the current period. */
  switches_at: number;
  /** Upgrades: the old subscription's final invoice. */
  final_invoice_id: string | null;
}
