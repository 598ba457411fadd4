/**
 * Plain-JSON payloads of the subscription workflow's messages (src/temporal/messages.ts). Instants are
 * epoch milliseconds; money in integer minor units or decimal strings; nothing here is a class.
 */

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
