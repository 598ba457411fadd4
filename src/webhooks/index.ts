export { buildWebhookEnvelope, webhookBody, type WebhookEnvelope, type WebhookMessage } from './envelope';
export { hmacSignature, verifyHmacSignature, webhookHeaders } from './signature';
