/**
 * Lago's webhook body: `{ webhook_type, object_type, organization_id, [object_type]: object }`
 * (lago-api.md section 4.9), e.g. `{"webhook_type":"subscription.terminated","object_type":
 * "subscription","organization_id":"...","subscription":{...}}`.
 */
export interface WebhookMessage {
  organizationId: string;
  /** e.g. `invoice.created` */
  webhookType: string;
  /** e.g. `invoice`: also the key the object is sent under. */
  objectType: string;
  /** The object as the API serializes it. */
  object: unknown;
}

export type WebhookEnvelope = {
  webhook_type: string;
  object_type: string;
  organization_id: string;
} & Record<string, unknown>;

const ENVELOPE_KEYS = new Set(['webhook_type', 'object_type', 'organization_id']);

export function buildWebhookEnvelope(message: WebhookMessage): WebhookEnvelope {
  if (ENVELOPE_KEYS.has(message.objectType)) {
    throw new Error(`object_type ${message.objectType} would overwrite an envelope field`);
  }
  return {
    webhook_type: message.webhookType,
    object_type: message.objectType,
    organization_id: message.organizationId,
    [message.objectType]: message.object,
  };
}

/** The exact bytes sent and signed. */
export function webhookBody(message: WebhookMessage): string {
  return JSON.stringify(buildWebhookEnvelope(message));
}
