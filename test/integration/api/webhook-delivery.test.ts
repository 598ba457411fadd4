import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from 'mongodb';
import { createWebhookActivities } from '../../../activities/webhooks';
import { ensureIndexes } from '../../../src/store/indexes';
import { createOrganization, type OrganizationDoc } from '../../../src/store/organizations';
import {
  insertWebhookEndpoint,
  webhookDeliveries,
  type WebhookEndpointDoc,
} from '../../../src/store/webhook-endpoints';
import { verifyHmacSignature } from '../../../src/webhooks/signature';
import { freePort } from '../../../scripts/services';
import { startMongo, type TestMongo } from '../../support/services';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1: records every POST and answers what `answer` says per path. */
async function startReceiver(answer: (path: string, attempt: number) => number | 'hang') {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const attempt = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, attempt);
      const status = answer(path, attempt);
      if (status === 'hang') return; // never answers
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'boom\u0000');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    on: (path: string) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe('sendWebhook activity: signed Lago envelopes to subscribed endpoints, recorded, retry-safe', () => {
  let mongo: TestMongo;
  let db: Db;
  let org: OrganizationDoc;
  let other: OrganizationDoc;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const failuresLeft = new Map<string, number>();
  const endpoints: Record<string, WebhookEndpointDoc> = {};

  beforeAll(async () => {
    mongo = await startMongo();
    db = mongo.database.db;
    await ensureIndexes(db);
    org = (await createOrganization(db, 'Acme')).organization;
    other = (await createOrganization(db, 'Other')).organization;
    receiver = await startReceiver((path) => {
      if (path === '/slow') return 'hang';
      const left = failuresLeft.get(path) ?? 0;
      if (left > 0) {
        failuresLeft.set(path, left - 1);
        return 500;
      }
      return 200;
    });
    const add = async (
      name: string,
      organization: OrganizationDoc,
      path: string,
      eventTypes: string[] | null,
    ) => {
      endpoints[name] = await insertWebhookEndpoint(db, organization._id, {
        webhook_url: receiver.url(path),
        signature_algo: 'hmac',
        name,
        event_types: eventTypes as WebhookEndpointDoc['event_types'],
      });
    };
    await add('all', org, '/all', null);
    await add('invoices', org, '/invoices', ['invoice.created']);
    await add('customers', org, '/customers', ['customer.created']);
    await add('other', other, '/other', null);
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await mongo?.stop();
  });

  const invoice = { lago_id: 'inv-1', number: 'ACM-001', total_amount_cents: 2000, 'weird.key': { $x: 1 } };

  it('posts the signed envelope to every endpoint subscribed to the type, and only those', async () => {
    const activities = createWebhookActivities({ db });
    const result = await activities.sendWebhook({
      organizationId: org._id,
      webhookType: 'invoice.created',
      objectType: 'invoice',
      object: invoice,
      uniqueKey: 'invoice.created:inv-1',
    });
    expect(result).toEqual({ endpoints: 2, delivered: 2, alreadyDelivered: 0 });
    expect(receiver.received.map((r) => r.path).sort()).toEqual(['/all', '/invoices']);
    for (const r of receiver.received) {
      expect(JSON.parse(r.body)).toEqual({
        webhook_type: 'invoice.created',
        object_type: 'invoice',
        organization_id: org._id,
        invoice,
      });
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-lago-signature-algorithm']).toBe('hmac');
      expect(r.headers['x-lago-unique-key']).toBe('invoice.created:inv-1');
      expect(verifyHmacSignature(org.hmac_key, r.body, String(r.headers['x-lago-signature']))).toBe(true);
      expect(verifyHmacSignature(other.hmac_key, r.body, String(r.headers['x-lago-signature']))).toBe(false);
    }
    const records = await webhookDeliveries(db).find({ unique_key: 'invoice.created:inv-1' }).toArray();
    expect(records.map((d) => [d._id, d.status, d.http_status, d.attempts]).sort()).toEqual(
      [
        [`invoice.created:inv-1:${endpoints.all!._id}`, 'succeeded', 200, 1],
        [`invoice.created:inv-1:${endpoints.invoices!._id}`, 'succeeded', 200, 1],
      ].sort(),
    );
  });

  it('throws on a failing endpoint so Temporal retries, and the retry skips deliveries already answered 2xx', async () => {
    receiver.received.length = 0;
    failuresLeft.set('/invoices', 1);
    const activities = createWebhookActivities({ db });
    const input = {
      organizationId: org._id,
      webhookType: 'invoice.created',
      objectType: 'invoice',
      object: { ...invoice, lago_id: 'inv-2' },
      uniqueKey: 'invoice.created:inv-2',
    };
    await expect(activities.sendWebhook(input)).rejects.toThrow(
      /1 of 2 webhook deliveries failed.*\/invoices failed: 500 boom/,
    );
    const failed = await webhookDeliveries(db).findOne({
      _id: `invoice.created:inv-2:${endpoints.invoices!._id}`,
    });
    expect(failed).toMatchObject({ status: 'failed', http_status: 500, attempts: 1, response: 'boom\uFFFD' });

    // The retry runs with an object that changed meanwhile: the receiver still gets the first body.
    const retried = await activities.sendWebhook({
      ...input,
      object: { ...invoice, lago_id: 'inv-2', changed: true },
    });
    expect(retried).toEqual({ endpoints: 2, delivered: 1, alreadyDelivered: 1 });
    expect(receiver.on('/all')).toHaveLength(1);
    const invoices = receiver.on('/invoices');
    expect(invoices).toHaveLength(2);
    expect(invoices[1]!.body).toBe(invoices[0]!.body);
    expect(invoices[1]!.headers['x-lago-unique-key']).toBe('invoice.created:inv-2');
    expect(
      await webhookDeliveries(db).findOne({ _id: `invoice.created:inv-2:${endpoints.invoices!._id}` }),
    ).toMatchObject({
      status: 'succeeded',
      http_status: 200,
      attempts: 2,
    });
    const again = await activities.sendWebhook(input);
    expect(again).toEqual({ endpoints: 2, delivered: 0, alreadyDelivered: 2 });
    expect(receiver.received).toHaveLength(3);
  });

  it('gives up on an endpoint that does not answer within the timeout, and on one that refuses connections', async () => {
    const slow = await insertWebhookEndpoint(db, other._id, {
      webhook_url: receiver.url('/slow'),
      signature_algo: 'hmac',
      name: null,
      event_types: ['plan.created'],
    });
    const activities = createWebhookActivities({ db, timeoutMs: 300 });
    await expect(
      activities.sendWebhook({
        organizationId: other._id,
        webhookType: 'plan.created',
        objectType: 'plan',
        object: { code: 'p' },
        uniqueKey: 'plan.created:p',
      }),
    ).rejects.toThrow(/timeout after 300 ms/);
    expect(await webhookDeliveries(db).findOne({ _id: `plan.created:p:${slow._id}` })).toMatchObject({
      status: 'failed',
      http_status: null,
    });

    const closedPort = await freePort();
    const third = (await createOrganization(db, 'Closed')).organization;
    await insertWebhookEndpoint(db, third._id, {
      webhook_url: `http://127.0.0.1:${closedPort}/`,
      signature_algo: 'hmac',
      name: null,
      event_types: null,
    });
    await expect(
      activities.sendWebhook({
        organizationId: third._id,
        webhookType: 'customer.created',
        objectType: 'customer',
        object: {},
        uniqueKey: 'customer.created:c',
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('sends every type to endpoints without event_types, and nothing for an unknown organization', async () => {
    receiver.received.length = 0;
    const activities = createWebhookActivities({ db });
    const wallet = await activities.sendWebhook({
      organizationId: org._id,
      webhookType: 'wallet.created',
      objectType: 'wallet',
      object: {},
      uniqueKey: 'wallet.created:w',
    });
    // `all` (event_types null) is subscribed to everything.
    expect(wallet).toEqual({ endpoints: 1, delivered: 1, alreadyDelivered: 0 });
    expect(receiver.received.map((r) => r.path)).toEqual(['/all']);
    const unknown = await activities.sendWebhook({
      organizationId: 'no-such-org',
      webhookType: 'invoice.created',
      objectType: 'invoice',
      object: {},
      uniqueKey: 'x',
    });
    expect(unknown).toEqual({ endpoints: 0, delivered: 0, alreadyDelivered: 0 });
  });

  it('uses the injected fetch', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (url) => {
      calls.push(String(url));
      return new Response(null, { status: 204 });
    };
    const activities = createWebhookActivities({ db, fetch: fakeFetch });
    const result = await activities.sendWebhook({
      organizationId: org._id,
      webhookType: 'customer.created',
      objectType: 'customer',
      object: { external_id: 'acme' },
      uniqueKey: 'customer.created:acme',
    });
    expect(result.delivered).toBe(2);
    expect(calls.sort()).toEqual([receiver.url('/all'), receiver.url('/customers')].sort());
  });
});
