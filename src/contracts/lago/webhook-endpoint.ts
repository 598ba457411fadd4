import { z } from 'zod';
import { nullableText, text } from './fields';

/** Every `webhook_type` Lago emits (lago-javascript-client 1.53.0 `LagoWebhookType`, 76 values). */
export const WEBHOOK_TYPES = [
  'alert.triggered',
  'billable_metric.created',
  'billable_metric.deleted',
  'billable_metric.updated',
  'credit_note.created',
  'credit_note.generated',
  'credit_note.refund_failure',
  'customer.accounting_provider_created',
  'customer.accounting_provider_error',
  'customer.checkout_url_generated',
  'customer.created',
  'customer.crm_provider_created',
  'customer.crm_provider_error',
  'customer.payment_provider_created',
  'customer.payment_provider_error',
  'customer.tax_provider_error',
  'customer.updated',
  'customer.vies_check',
  'dunning_campaign.finished',
  'event.error',
  'events.errors',
  'feature.created',
  'feature.deleted',
  'feature.updated',
  'fee.created',
  'fee.tax_provider_error',
  'integration.provider_error',
  'invoice.add_on_added',
  'invoice.created',
  'invoice.deleted',
  'invoice.drafted',
  'invoice.generated',
  'invoice.one_off_created',
  'invoice.paid_credit_added',
  'invoice.payment_dispute_lost',
  'invoice.payment_failure',
  'invoice.payment_overdue',
  'invoice.payment_status_updated',
  'invoice.ready_to_finalize',
  'invoice.resynced',
  'invoice.voided',
  'order.created',
  'order.executed',
  'order_form.created',
  'order_form.expired',
  'order_form.signed',
  'order_form.voided',
  'payment.requires_action',
  'payment.succeeded',
  'payment_provider.error',
  'payment_receipt.created',
  'payment_receipt.generated',
  'payment_request.created',
  'payment_request.payment_failure',
  'payment_request.payment_status_updated',
  'plan.created',
  'plan.deleted',
  'plan.updated',
  'quote.approved',
  'quote.created',
  'quote.voided',
  'subscription.canceled',
  'subscription.incomplete',
  'subscription.started',
  'subscription.terminated',
  'subscription.termination_alert',
  'subscription.trial_ended',
  'subscription.updated',
  'subscription.usage_threshold_reached',
  'wallet.created',
  'wallet.depleted_ongoing_balance',
  'wallet.terminated',
  'wallet.updated',
  'wallet_transaction.created',
  'wallet_transaction.payment_failure',
  'wallet_transaction.updated',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** Lago allows 10 endpoints per organization (`WebhookEndpoint::LIMIT`). */
export const WEBHOOK_ENDPOINT_LIMIT = 10;

/** Lago's `url: true` validator: an absolute http(s) URL with a host. */
export function isWebhookUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Lago's two algorithms: `hmac` (the organization's HMAC key) and `jwt` (RS256; prorata signs with a
 * key pair per organization). prorata keeps `hmac` as the default when none is given.
 */
export const SIGNATURE_ALGOS = ['hmac', 'jwt'] as const;
export type SignatureAlgo = (typeof SIGNATURE_ALGOS)[number];
export const signatureAlgoSchema = z.enum(SIGNATURE_ALGOS, { error: 'value_is_invalid' });

const fields = {
  webhook_url: text().refine(isWebhookUrl, 'url_is_invalid'),
  signature_algo: signatureAlgoSchema.nullable().optional(),
  name: nullableText(),
  /** null: every event type. */
  event_types: z
    .array(z.enum(WEBHOOK_TYPES, { error: 'value_is_invalid' }))
    .nullable()
    .optional(),
};

/** `POST /webhook_endpoints` body under `webhook_endpoint`. */
export const webhookEndpointCreateInput = z.object(fields);
/** `PUT /webhook_endpoints/{lago_id}`: any subset. */
export const webhookEndpointUpdateInput = z.object(fields).partial();

export type WebhookEndpointCreateInput = z.infer<typeof webhookEndpointCreateInput>;
export type WebhookEndpointUpdateInput = z.infer<typeof webhookEndpointUpdateInput>;
