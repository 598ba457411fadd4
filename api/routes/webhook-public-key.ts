import { Router } from 'express';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound } from '../errors';
import { registerRoute } from '../openapi';
import { ensureWebhookSigningKey, lagoPublicKey } from '../../src/store/webhook-signing-keys';

registerRoute({
  method: 'get',
  path: '/webhooks/json_public_key',
  summary:
    'The public key that verifies this organization’s `jwt` webhook signatures: `{"webhook":{"public_key":"<Base64 of the PEM>"}}`',
  responses: { 200: { description: 'The public key', root: 'webhook' } },
});
registerRoute({
  method: 'get',
  path: '/webhooks/public_key',
  summary: 'The same public key as plain text (Base64 of the PEM; Lago deprecates this form)',
  responses: { 200: 'The public key, text/plain' },
});

/**
 * Lago's webhook public key endpoints (what lago-javascript-client's `webhooks.fetchJsonPublicKey`
 * and `fetchPublicKey` call). Lago has one key per instance; prorata one per organization, so the
 * answer depends on the API key that asks.
 */
export function webhookPublicKeyRoutes(deps: ApiDeps): Router {
  const router = Router();
  const publicKey = async (organizationId: string) => {
    const key = await ensureWebhookSigningKey(deps.db, organizationId);
    if (!key) throw notFound('organization');
    return lagoPublicKey(key);
  };
  router.get('/json_public_key', async (req, res) => {
    res.json({ webhook: { public_key: await publicKey(organizationOf(req)._id) } });
  });
  router.get('/public_key', async (req, res) => {
    res.type('text/plain').send(await publicKey(organizationOf(req)._id));
  });
  return router;
}
