import type { Db } from 'mongodb';
import { organizations } from '../src/store/organizations';
import {
  endpointsSubscribedTo,
  webhookDeliveries,
  webhookDeliveryId,
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
} from '../src/store/webhook-endpoints';
import { webhookBody } from '../src/webhooks/envelope';
import { hmacSignature, webhookHeaders } from '../src/webhooks/signature';
import { jwtSignature } from '../src/webhooks/jwt-signature';
import { ensureWebhookSigningKey } from '../src/store/webhook-signing-keys';
import type { OrganizationDoc } from '../src/store/organizations';
import { STRICT_DESTINATIONS, type WebhookDestinationPolicy } from '../src/webhooks/destination-guard';
import { guardedPost } from '../src/webhooks/guarded-post';

export interface WebhookActivityDeps {
  db: Db;
  /** Where webhooks may go (src/config.ts); public http(s) destinations only by default. */
  webhookDestinations?: WebhookDestinationPolicy;
  /** Per delivery, redirects included; 10 s by default. */
  timeoutMs?: number;
  /** `iss` of `jwt` signatures, as Lago puts its API URL there (`PRORATA_API_URL`). */
  apiUrl?: string;
}

export interface SendWebhookInput {
  organizationId: string;
  /** e.g. `invoice.created` */
  webhookType: string;
  /** e.g. `invoice`: the key the object is sent under. */
  objectType: string;
  object: unknown;
  /**
   * Deterministic id of this webhook (e.g. `invoice.created:<invoice id>`), sent as
   * X-Lago-Unique-Key and used to record deliveries: a retry never re-sends an answered one.
   */
  uniqueKey: string;
}

export interface SendWebhookResult {
  /** Endpoints subscribed to this type. */
  endpoints: number;
  /** Deliveries answered 2xx by this attempt. */
  delivered: number;
  /** Deliveries answered 2xx by an earlier attempt, not sent again. */
  alreadyDelivered: number;
  /** Deliveries whose destination the guard refuses (now or by an earlier attempt): never sent. */
  refused: number;
}

/** What sending to no endpoint at all answers. */
export const NO_WEBHOOK_SENT: SendWebhookResult = {
  endpoints: 0,
  delivered: 0,
  alreadyDelivered: 0,
  refused: 0,
};

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_API_URL = 'http://127.0.0.1:3000';
const RESPONSE_EXCERPT = 2_000;

/** Text safe to store: FerretDB refuses NUL characters. */
const storable = (text: string) => text.slice(0, RESPONSE_EXCERPT).split('\u0000').join('\uFFFD');

type Outcome = 'delivered' | 'already' | 'refused';

/**
 * Webhook delivery for the workflows. `sendWebhook` POSTs Lago's signed envelope to every endpoint
 * of the organization subscribed to the type, records each delivery in `webhooks` under
 * `{uniqueKey}:{endpointId}`, and throws when an endpoint fails (non-2xx, network error or timeout)
 * so that Temporal retries the activity; the retry sends only the deliveries not yet answered 2xx,
 * with the body first recorded, so the receiver sees the same bytes and the same unique key.
 * A destination the guard refuses (src/webhooks/destination-guard.ts), at the URL or any redirect,
 * is recorded `refused` with the reason and not thrown: no retry can make it acceptable, and it
 * stays refused on later attempts of the same webhook.
 */
export function createWebhookActivities(deps: WebhookActivityDeps) {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const policy = deps.webhookDestinations ?? STRICT_DESTINATIONS;

  const apiUrl = deps.apiUrl ?? DEFAULT_API_URL;

  /** The signature headers of a body for this endpoint's algorithm. */
  async function signedHeaders(
    endpoint: WebhookEndpointDoc,
    organization: OrganizationDoc,
    payload: string,
    uniqueKey: string,
  ): Promise<Record<string, string>> {
    if (endpoint.signature_algo !== 'jwt') {
      return webhookHeaders(hmacSignature(organization.hmac_key, payload), uniqueKey, 'hmac');
    }
    const key = await ensureWebhookSigningKey(deps.db, organization._id);
    if (!key) throw new Error(`organization ${organization._id} vanished`);
    return webhookHeaders(jwtSignature(key.privateKeyPem, payload, apiUrl), uniqueKey, 'jwt');
  }

  async function deliver(
    endpoint: WebhookEndpointDoc,
    input: SendWebhookInput,
    organization: OrganizationDoc,
    body: string,
  ): Promise<Outcome> {
    const deliveries = webhookDeliveries(deps.db);
    const id = webhookDeliveryId(input.uniqueKey, endpoint._id);
    const now = new Date();
    await deliveries.updateOne(
      { _id: id },
      {
        $setOnInsert: {
          organization_id: input.organizationId,
          webhook_endpoint_id: endpoint._id,
          webhook_url: endpoint.webhook_url,
          unique_key: input.uniqueKey,
          webhook_type: input.webhookType,
          object_type: input.objectType,
          payload_json: body,
          status: 'pending',
          attempts: 0,
          http_status: null,
          response: null,
          created_at: now,
          last_attempt_at: null,
          delivered_at: null,
        } satisfies Omit<WebhookDeliveryDoc, '_id' | 'updated_at'>,
        $set: { updated_at: now },
      },
      { upsert: true },
    );
    const record = await deliveries.findOne({ _id: id });
    if (!record) throw new Error(`webhook delivery ${id} vanished`);
    if (record.status === 'succeeded') return 'already';
    if (record.status === 'refused') return 'refused';

    const payload = record.payload_json;
    const outcome = await guardedPost(endpoint.webhook_url, {
      headers: await signedHeaders(endpoint, organization, payload, input.uniqueKey),
      body: payload,
      policy,
      timeoutMs,
    });
    const ok = outcome.kind === 'answered' && outcome.status >= 200 && outcome.status < 300;
    const httpStatus = outcome.kind === 'answered' ? outcome.status : null;
    const response =
      outcome.kind === 'answered'
        ? outcome.text
        : outcome.kind === 'refused'
          ? `refused: ${outcome.reason}${outcome.url !== endpoint.webhook_url ? ` (redirected to ${outcome.url})` : ''}`
          : outcome.error;
    const status: WebhookDeliveryDoc['status'] = ok
      ? 'succeeded'
      : outcome.kind === 'refused'
        ? 'refused'
        : 'failed';
    const at = new Date();
    await deliveries.updateOne(
      { _id: id },
      {
        $set: {
          status,
          http_status: httpStatus,
          response: storable(response),
          last_attempt_at: at,
          updated_at: at,
          ...(ok ? { delivered_at: at } : {}),
        },
        $inc: { attempts: 1 },
      },
    );
    if (status === 'refused') return 'refused';
    if (!ok) {
      throw new Error(
        `webhook ${input.webhookType} to ${endpoint.webhook_url} failed: ${httpStatus ?? 'no answer'} ${storable(response).slice(0, 200)}`,
      );
    }
    return 'delivered';
  }

  return {
    async sendWebhook(input: SendWebhookInput): Promise<SendWebhookResult> {
      const organization = await organizations(deps.db).findOne({ _id: input.organizationId });
      if (!organization) return NO_WEBHOOK_SENT;
      const endpoints = await endpointsSubscribedTo(deps.db, input.organizationId, input.webhookType);
      const body = webhookBody(input);
      const outcomes = await Promise.allSettled(
        endpoints.map((endpoint) => deliver(endpoint, input, organization, body)),
      );
      const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failures.length > 0) {
        throw new Error(
          `${failures.length} of ${endpoints.length} webhook deliveries failed: ` +
            failures.map((f) => (f.reason as Error).message).join('; '),
        );
      }
      const values = outcomes.map((o) => (o as PromiseFulfilledResult<Outcome>).value);
      return {
        endpoints: endpoints.length,
        delivered: values.filter((v) => v === 'delivered').length,
        alreadyDelivered: values.filter((v) => v === 'already').length,
        refused: values.filter((v) => v === 'refused').length,
      };
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
