import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { SignatureAlgo, WebhookType } from '../contracts/lago/webhook-endpoint';

/** A webhook endpoint (Lago `webhook_endpoints`); deleted for good, as Lago does. */
export interface WebhookEndpointDoc {
  _id: string; // lago_id
  organization_id: string;
  webhook_url: string;
  signature_algo: SignatureAlgo;
  name: string | null;
  /** null: every webhook type. */
  event_types: WebhookType[] | null;
  created_at: Date;
  updated_at: Date;
}

export type WebhookEndpointFields = Pick<
  WebhookEndpointDoc,
  'webhook_url' | 'signature_algo' | 'name' | 'event_types'
>;

/**
 * One delivery of one webhook to one endpoint (Lago `webhooks`), keyed `{uniqueKey}:{endpointId}`
 * so that a retried activity finds the deliveries already answered and does not send them again.
 */
export interface WebhookDeliveryDoc {
  _id: string;
  organization_id: string;
  webhook_endpoint_id: string;
  webhook_url: string;
  unique_key: string;
  webhook_type: string;
  object_type: string;
  /** The exact body sent (and re-sent on retries), as JSON text. */
  payload_json: string;
  /** `refused`: the destination guard refused the URL or a redirect; never sent, never retried. */
  status: 'pending' | 'succeeded' | 'failed' | 'refused';
  attempts: number;
  http_status: number | null;
  /** Start of the endpoint's answer, the network error, or why the destination was refused. */
  response: string | null;
  created_at: Date;
  updated_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
}

export function webhookEndpoints(db: Db) {
  return db.collection<WebhookEndpointDoc>('webhook_endpoints');
}

export function webhookDeliveries(db: Db) {
  return db.collection<WebhookDeliveryDoc>('webhooks');
}

export async function ensureWebhookEndpointIndexes(db: Db): Promise<void> {
  await webhookEndpoints(db).createIndex(
    { organization_id: 1, webhook_url: 1 },
    { unique: true, name: 'unique_webhook_url' },
  );
  await webhookEndpoints(db).createIndex({ organization_id: 1, created_at: -1 });
  await webhookDeliveries(db).createIndex({ organization_id: 1, created_at: -1 });
}

export async function countWebhookEndpoints(db: Db, organizationId: string): Promise<number> {
  return webhookEndpoints(db).countDocuments({ organization_id: organizationId });
}

/** May throw a duplicate-key error (11000) when the organization already has this URL. */
export async function insertWebhookEndpoint(
  db: Db,
  organizationId: string,
  fields: WebhookEndpointFields,
): Promise<WebhookEndpointDoc> {
  const now = new Date();
  const doc: WebhookEndpointDoc = {
    _id: randomUUID(),
    organization_id: organizationId,
    ...fields,
    created_at: now,
    updated_at: now,
  };
  await webhookEndpoints(db).insertOne(doc);
  return doc;
}

export async function findWebhookEndpoint(
  db: Db,
  organizationId: string,
  id: string,
): Promise<WebhookEndpointDoc | null> {
  return webhookEndpoints(db).findOne({ _id: id, organization_id: organizationId });
}

export async function listWebhookEndpoints(
  db: Db,
  organizationId: string,
  page: { skip: number; limit: number },
): Promise<{ items: WebhookEndpointDoc[]; totalCount: number }> {
  const filter = { organization_id: organizationId };
  const [items, totalCount] = await Promise.all([
    webhookEndpoints(db)
      .find(filter)
      .sort({ created_at: -1, _id: 1 })
      .skip(page.skip)
      .limit(page.limit)
      .toArray(),
    webhookEndpoints(db).countDocuments(filter),
  ]);
  return { items, totalCount };
}

/** The endpoints of the organization that receive this webhook type. */
export async function endpointsSubscribedTo(
  db: Db,
  organizationId: string,
  webhookType: string,
): Promise<WebhookEndpointDoc[]> {
  const all = await webhookEndpoints(db)
    .find({ organization_id: organizationId })
    .sort({ created_at: 1 })
    .toArray();
  return all.filter((e) => e.event_types === null || (e.event_types as string[]).includes(webhookType));
}

/** May throw a duplicate-key error when the new URL is taken. Null when the endpoint is gone. */
export async function updateWebhookEndpoint(
  db: Db,
  organizationId: string,
  id: string,
  changes: Partial<WebhookEndpointFields>,
): Promise<WebhookEndpointDoc | null> {
  return webhookEndpoints(db).findOneAndUpdate(
    { _id: id, organization_id: organizationId },
    { $set: { ...changes, updated_at: new Date() } },
    { returnDocument: 'after' },
  );
}

export async function deleteWebhookEndpoint(
  db: Db,
  organizationId: string,
  id: string,
): Promise<WebhookEndpointDoc | null> {
  return webhookEndpoints(db).findOneAndDelete({ _id: id, organization_id: organizationId });
}

export const webhookDeliveryId = (uniqueKey: string, endpointId: string) => `${uniqueKey}:${endpointId}`;
