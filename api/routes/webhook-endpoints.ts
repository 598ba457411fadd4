import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, validationErrors } from '../errors';
import { registerRoute } from '../openapi';
import { paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { serializeWebhookEndpoint } from '../../src/contracts/lago/serializers/webhook-endpoint';
import { parseLagoInput } from '../../src/contracts/lago/error-details';
import {
  WEBHOOK_ENDPOINT_LIMIT,
  webhookEndpointCreateInput,
  webhookEndpointUpdateInput,
} from '../../src/contracts/lago/webhook-endpoint';
import { isDuplicateKey } from '../../src/store/database';
import {
  checkWebhookDestination,
  STRICT_DESTINATIONS,
  type WebhookDestinationPolicy,
} from '../../src/webhooks/destination-guard';
import {
  countWebhookEndpoints,
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
  type WebhookEndpointFields,
} from '../../src/store/webhook-endpoints';

const ROOT = 'webhook_endpoint';

registerRoute({
  method: 'post',
  path: '/webhook_endpoints',
  summary:
    'Register a webhook endpoint (signature_algo `hmac`, the default: Base64(HMAC-SHA256(hmac key, body)); `jwt`: RS256 JWT `{data: body, iss: API URL}` with the organization key pair, public key at GET /webhooks/json_public_key)',
  requestRoot: ROOT,
  requestSchema: webhookEndpointCreateInput,
  responses: {
    200: { description: 'The endpoint', root: ROOT },
    400: 'No `webhook_endpoint` root',
    422: 'Invalid URL (`url_is_invalid`), a loopback, private, link-local or metadata destination (`destination_not_allowed`), URL already registered, an unknown `signature_algo`, or more than 10 endpoints',
  },
});
registerRoute({
  method: 'get',
  path: '/webhook_endpoints',
  summary: 'List the webhook endpoints, newest first',
  query: paginationQuery,
  responses: { 200: { description: 'One page of endpoints', root: 'webhook_endpoints', list: true } },
});
registerRoute({
  method: 'get',
  path: '/webhook_endpoints/{lago_id}',
  summary: 'Find a webhook endpoint',
  responses: { 200: { description: 'The endpoint', root: ROOT }, 404: '`webhook_endpoint_not_found`' },
});
registerRoute({
  method: 'put',
  path: '/webhook_endpoints/{lago_id}',
  summary: 'Update a webhook endpoint (any subset of fields)',
  requestRoot: ROOT,
  requestSchema: webhookEndpointUpdateInput,
  responses: {
    200: { description: 'The endpoint', root: ROOT },
    400: 'No `webhook_endpoint` root',
    404: '`webhook_endpoint_not_found`',
    422: 'Invalid fields, or a destination not allowed (`destination_not_allowed`)',
  },
});
registerRoute({
  method: 'delete',
  path: '/webhook_endpoints/{lago_id}',
  summary: 'Delete a webhook endpoint',
  responses: {
    200: { description: 'The deleted endpoint', root: ROOT },
    404: '`webhook_endpoint_not_found`',
  },
});

function body<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const parsed = parseLagoInput(schema, parseRoot(req, ROOT, z.unknown()));
  if (!parsed.ok) throw validationErrors(parsed.details);
  return parsed.data;
}

const duplicateUrl = () => validationErrors({ webhook_url: ['value_already_exist'] });

/**
 * The destination guard at registration (src/webhooks/destination-guard.ts): loopback, private,
 * link-local and metadata addresses, literal or resolved, are refused before anything is stored.
 * The worker checks again at each delivery, on the address it connects to.
 */
async function refuseForbiddenDestination(url: string, policy: WebhookDestinationPolicy): Promise<void> {
  const check = await checkWebhookDestination(url, policy);
  if (!check.ok) throw validationErrors({ webhook_url: ['destination_not_allowed'] });
}

export function webhookEndpointRoutes(deps: ApiDeps): Router {
  const { db } = deps;
  const policy = deps.webhookDestinations ?? STRICT_DESTINATIONS;
  const router = Router();

  router.post('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const input = body(req, webhookEndpointCreateInput);
    await refuseForbiddenDestination(input.webhook_url, policy);
    if ((await countWebhookEndpoints(db, organizationId)) >= WEBHOOK_ENDPOINT_LIMIT) {
      throw validationErrors({ base: ['exceeded_limit'] });
    }
    const fields: WebhookEndpointFields = {
      webhook_url: input.webhook_url,
      signature_algo: input.signature_algo ?? 'hmac',
      name: input.name ?? null,
      event_types: input.event_types ?? null,
    };
    try {
      const endpoint = await insertWebhookEndpoint(db, organizationId, fields);
      res.json({ webhook_endpoint: serializeWebhookEndpoint(endpoint) });
    } catch (err) {
      if (isDuplicateKey(err)) throw duplicateUrl();
      throw err;
    }
  });

  router.get('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const page = parseQuery(req, paginationQuery);
    const { items, totalCount } = await listWebhookEndpoints(db, organizationId, {
      skip: (page.page - 1) * page.per_page,
      limit: page.per_page,
    });
    res.json({
      webhook_endpoints: items.map(serializeWebhookEndpoint),
      meta: paginationMeta(page, totalCount),
    });
  });

  router.get('/:lago_id', async (req, res) => {
    const endpoint = await findWebhookEndpoint(db, organizationOf(req)._id, req.params.lago_id);
    if (!endpoint) throw notFound('webhook_endpoint');
    res.json({ webhook_endpoint: serializeWebhookEndpoint(endpoint) });
  });

  router.put('/:lago_id', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const input = body(req, webhookEndpointUpdateInput);
    if (input.webhook_url !== undefined) await refuseForbiddenDestination(input.webhook_url, policy);
    const changes: Partial<WebhookEndpointFields> = {};
    if (input.webhook_url !== undefined) changes.webhook_url = input.webhook_url;
    if (input.signature_algo !== undefined) changes.signature_algo = input.signature_algo ?? 'hmac';
    if (input.name !== undefined) changes.name = input.name;
    if (input.event_types !== undefined) changes.event_types = input.event_types;
    try {
      const endpoint = await updateWebhookEndpoint(db, organizationId, req.params.lago_id, changes);
      if (!endpoint) throw notFound('webhook_endpoint');
      res.json({ webhook_endpoint: serializeWebhookEndpoint(endpoint) });
    } catch (err) {
      if (isDuplicateKey(err)) throw duplicateUrl();
      throw err;
    }
  });

  router.delete('/:lago_id', async (req, res) => {
    const endpoint = await deleteWebhookEndpoint(db, organizationOf(req)._id, req.params.lago_id);
    if (!endpoint) throw notFound('webhook_endpoint');
    res.json({ webhook_endpoint: serializeWebhookEndpoint(endpoint) });
  });

  return router;
}
