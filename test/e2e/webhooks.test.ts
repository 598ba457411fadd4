/**
 * Lago webhooks from the subscription workflow to a real receiver on 127.0.0.1: the envelope, the
 * HMAC signature, one delivery per (type, object).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type Stack } from '../support/stack';
import { organizations } from '../../src/store/organizations';
import { verifyHmacSignature } from '../../src/webhooks/signature';
import { verifyJwtSignature } from '../../src/webhooks/jwt-signature';

interface Received {
  type: string;
  path: string;
  body: string;
  signature: string;
  algorithm: string;
  uniqueKey: string;
}

describe('webhooks from the subscription workflow', () => {
  let stack: Stack;
  let receiver: Server;
  const received: Received[] = [];
  beforeAll(async () => {
    stack = await startStack();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({
          type: (JSON.parse(body) as { webhook_type: string }).webhook_type,
          path: req.url ?? '',
          body,
          signature: String(req.headers['x-lago-signature']),
          algorithm: String(req.headers['x-lago-signature-algorithm']),
          uniqueKey: String(req.headers['x-lago-unique-key']),
        });
        res.end('ok');
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  }, 120_000);
  afterAll(async () => {
    await new Promise((ok) => receiver?.close(ok));
    await stack?.stop();
  });

  it('sends subscription.started, invoice.created and subscription.terminated, signed with the organization key', async () => {
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${stack.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, { lago_id: string }>>);
    const { port } = receiver.address() as AddressInfo;
    await call('POST', '/webhook_endpoints', {
      webhook_endpoint: { webhook_url: `http://127.0.0.1:${port}/hooks`, signature_algo: 'hmac' },
    });
    await call('POST', '/webhook_endpoints', {
      webhook_endpoint: {
        webhook_url: `http://127.0.0.1:${port}/jwt`,
        signature_algo: 'jwt',
        event_types: ['subscription.terminated'],
      },
    });
    const metric = await call('POST', '/billable_metrics', {
      billable_metric: {
        name: 'Seats',
        code: 'seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      },
    });
    await call('POST', '/plans', {
      plan: {
        name: 'Team',
        code: 'team',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          {
            billable_metric_id: metric.billable_metric!.lago_id,
            charge_model: 'standard',
            prorated: true,
            properties: { amount: '10' },
          },
        ],
      },
    });
    await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'acme', plan_code: 'team', external_id: 'hooked' },
    });
    await call('POST', '/events', {
      event: {
        transaction_id: 'h1',
        external_subscription_id: 'hooked',
        code: 'seats',
        properties: { user_id: 'u1' },
      },
    });
    await call('DELETE', '/subscriptions/hooked');

    for (let i = 0; i < 100 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 100));
    const hmac = received.filter((r) => r.path === '/hooks');
    expect(hmac.map((r) => r.type)).toEqual([
      'subscription.started',
      'invoice.created',
      'subscription.terminated',
    ]);
    const org = await organizations(stack.db).findOne({ _id: stack.organizationId });
    for (const r of hmac) {
      expect(r.algorithm).toBe('hmac');
      expect(verifyHmacSignature(org!.hmac_key, r.body, r.signature)).toBe(true);
    }
    expect(new Set(hmac.map((r) => r.uniqueKey)).size).toBe(3);
    // The jwt endpoint: verified with the public key the API publishes, as a Lago receiver does.
    const jwt = received.filter((r) => r.path === '/jwt');
    expect(jwt.map((r) => [r.type, r.algorithm])).toEqual([['subscription.terminated', 'jwt']]);
    const { webhook } = (await call('GET', '/webhooks/json_public_key')) as unknown as {
      webhook: { public_key: string };
    };
    const publicKey = Buffer.from(webhook.public_key, 'base64').toString('utf8');
    expect(verifyJwtSignature(publicKey, jwt[0]!.body, jwt[0]!.signature)).toBe('http://127.0.0.1:3000');
    expect(jwt[0]!.body).toBe(hmac[2]!.body);
    const invoice = JSON.parse(hmac[1]!.body) as {
      object_type: string;
      organization_id: string;
      invoice: { status: string };
    };
    expect(invoice).toMatchObject({
      object_type: 'invoice',
      organization_id: stack.organizationId,
      invoice: { status: 'finalized' },
    });
  }, 60_000);

  it('reports an event with an unknown metric code in an events.errors webhook', async () => {
    const res = await fetch(`${stack.baseUrl}/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        event: {
          transaction_id: 'typo-1',
          external_subscription_id: 'hooked',
          code: 'seatz',
          properties: {},
        },
      }),
    });
    expect(res.status).toBe(200);
    // The API's reconciler reports flagged events (every 15 s in production); run one round now.
    expect(await stack.eventDelivery.reportProblems()).toBe(1);
    let report: Received | undefined;
    for (let i = 0; i < 100 && !report; i++) {
      report = received.find((r) => r.type === 'events.errors');
      if (!report) await new Promise((r) => setTimeout(r, 100));
    }
    expect(JSON.parse(report!.body)).toMatchObject({
      webhook_type: 'events.errors',
      object_type: 'events_errors',
      events_errors: { invalid_code: ['typo-1'] },
    });
  }, 60_000);
});
