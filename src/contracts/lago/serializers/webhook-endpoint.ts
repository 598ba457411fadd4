import type { WebhookEndpointDoc } from '../../../store/webhook-endpoints';
import { isoSeconds } from './iso';

/** Lago's webhook endpoint object (lago-api.md section 4.9). */
export function serializeWebhookEndpoint(endpoint: WebhookEndpointDoc) {
  return {
    lago_id: endpoint._id,
    lago_organization_id: endpoint.organization_id,
    webhook_url: endpoint.webhook_url,
    signature_algo: endpoint.signature_algo,
    name: endpoint.name,
    event_types: endpoint.event_types,
    created_at: isoSeconds(endpoint.created_at),
  };
}

export type WebhookEndpointJson = ReturnType<typeof serializeWebhookEndpoint>;
