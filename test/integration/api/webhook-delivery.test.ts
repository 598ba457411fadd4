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
import { verifyJwtSignature } from '../../../src/webhooks/jwt-signature';
import { ensureWebhookSigningKey } from '../../../src/store/webhook-signing-keys';
import { freePort } from '../../../scripts/services';
import { startMongo, type TestMongo } from '../../support/services';
import { ANY_DESTINATION, type WebhookDestinationPolicy } from '../../../src/webhooks/destination-guard';

/** The receiver listens on 127.0.0.1: allowed by name, as PRORATA_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 does. */
const loopback: WebhookDestinationPolicy = { allowPrivate: false, allowedHosts: ['127.0.0.1'] };

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
      const redirect = new URL(path, 'http://x').searchParams.get('to');
      if (path.startsWith('/redirect') && redirect) {
        res.writeHead(307, { Location: redirect }).end();
        return;
      }
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
    const activities = createWebhookActivities({ db, webhookDestinations: loopback });
    const result = await activities.sendWebhook({
      organizationId: org._id,
      webhookType: 'invoice.created',
      objectType: 'invoice',
      object: invoice,
      uniqueKey: 'invoice.created:inv-1',
    });
    expect(result).toEqual({ endpoints: 2, delivered: 2, alreadyDelivered: 0, refused: 0 });
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
    const activities = createWebhookActivities({ db, webhookDestinations: loopback });
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
    expect(retried).toEqual({ endpoints: 2, delivered: 1, alreadyDelivered: 1, refused: 0 });
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
    expect(again).toEqual({ endpoints: 2, delivered: 0, alreadyDelivered: 2, refused: 0 });
    expect(receiver.received).toHaveLength(3);
  });

  it('gives up on an endpoint that does not answer within the timeout, and on one that refuses connections', async () => {
    const slow = await insertWebhookEndpoint(db, other._id, {
      webhook_url: receiver.url('/slow'),
      signature_algo: 'hmac',
      name: null,
      event_types: ['plan.created'],
    });
    const activities = createWebhookActivities({ db, webhookDestinations: loopback, timeoutMs: 300 });
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
    const activities = createWebhookActivities({ db, webhookDestinations: loopback });
    const wallet = await activities.sendWebhook({
      organizationId: org._id,
      webhookType: 'wallet.created',
      objectType: 'wallet',
      object: {},
      uniqueKey: 'wallet.created:w',
    });
    // `all` (event_types null) is subscribed to everything.
    expect(wallet).toEqual({ endpoints: 1, delivered: 1, alreadyDelivered: 0, refused: 0 });
    expect(receiver.received.map((r) => r.path)).toEqual(['/all']);
    const unknown = await activities.sendWebhook({
      organizationId: 'no-such-org',
      webhookType: 'invoice.created',
      objectType: 'invoice',
      object: {},
      uniqueKey: 'x',
    });
    expect(unknown).toEqual({ endpoints: 0, delivered: 0, alreadyDelivered: 0, refused: 0 });
  });

  it('refuses a destination that resolves to loopback, and a redirect to one, when only 127.0.0.1 is allowed: recorded refused, never sent, not retried', async () => {
    receiver.received.length = 0;
    const guarded = (await createOrganization(db, 'Guarded')).organization;
    const port = new URL(receiver.url('/')).port;
    const add = (url: string) =>
      insertWebhookEndpoint(db, guarded._id, {
        webhook_url: url,
        signature_algo: 'hmac',
        name: null,
        event_types: null,
      });
    // Stored behind the API's back (as if registered while the name resolved elsewhere): the
    // delivery checks again, after resolving `localhost` for real.
    const byName = await add(`http://localhost:${port}/by-name`);
    const redirected = await add(
      receiver.url('/redirect?to=' + encodeURIComponent(`http://localhost:${port}/target`)),
    );
    const toMetadata = await add(
      receiver.url('/redirect?to=' + encodeURIComponent('http://169.254.169.254/latest')),
    );
    const followed = await add(receiver.url('/redirect?to=' + encodeURIComponent(receiver.url('/followed'))));
    const activities = createWebhookActivities({ db, webhookDestinations: loopback });
    const input = {
      organizationId: guarded._id,
      webhookType: 'customer.created',
      objectType: 'customer',
      object: { external_id: 'g' },
      uniqueKey: 'customer.created:g',
    };
    expect(await activities.sendWebhook(input)).toEqual({
      endpoints: 4,
      delivered: 1,
      alreadyDelivered: 0,
      refused: 3,
    });
    // The redirects were asked for, their refused targets never reached; the allowed one got the same POST.
    expect(receiver.received.map((r) => r.path.split('?')[0]).sort()).toEqual([
      '/followed',
      '/redirect',
      '/redirect',
      '/redirect',
    ]);
    expect(receiver.on('/followed')[0]!.body).toBe(receiver.received[0]!.body);
    const record = (endpoint: WebhookEndpointDoc) =>
      webhookDeliveries(db).findOne({ _id: `customer.created:g:${endpoint._id}` });
    expect(await record(byName)).toMatchObject({
      status: 'refused',
      attempts: 1,
      http_status: null,
      response: expect.stringMatching(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback/),
    });
    expect(await record(redirected)).toMatchObject({
      status: 'refused',
      response: expect.stringMatching(
        /localhost resolves to .*\(redirected to http:\/\/localhost:\d+\/target\)$/,
      ),
    });
    expect(await record(toMetadata)).toMatchObject({
      status: 'refused',
      response: expect.stringContaining(
        '169.254.169.254 is a loopback, private, link-local or reserved address',
      ),
    });
    expect(await record(followed)).toMatchObject({ status: 'succeeded', http_status: 200 });

    // A retry of the activity (another endpoint failed, say) neither sends nor re-counts attempts.
    receiver.received.length = 0;
    expect(await activities.sendWebhook(input)).toEqual({
      endpoints: 4,
      delivered: 0,
      alreadyDelivered: 1,
      refused: 3,
    });
    expect(receiver.received).toHaveLength(0);
    expect(await record(byName)).toMatchObject({ status: 'refused', attempts: 1 });
  });

  it('refuses loopback itself without an allowance, and reaches it with PRORATA_WEBHOOK_ALLOW_PRIVATE', async () => {
    receiver.received.length = 0;
    const strict = createWebhookActivities({ db });
    const allowed = createWebhookActivities({ db, webhookDestinations: ANY_DESTINATION });
    const input = (key: string) => ({
      organizationId: org._id,
      webhookType: 'customer.created',
      objectType: 'customer',
      object: { external_id: key },
      uniqueKey: `customer.created:${key}`,
    });
    expect(await strict.sendWebhook(input('strict'))).toEqual({
      endpoints: 2,
      delivered: 0,
      alreadyDelivered: 0,
      refused: 2,
    });
    expect(receiver.received).toHaveLength(0);
    expect(
      await webhookDeliveries(db).findOne({ _id: `customer.created:strict:${endpoints.all!._id}` }),
    ).toMatchObject({
      status: 'refused',
      response: 'refused: 127.0.0.1 is a loopback, private, link-local or reserved address',
    });
    expect(await allowed.sendWebhook(input('allowed'))).toEqual({
      endpoints: 2,
      delivered: 2,
      alreadyDelivered: 0,
      refused: 0,
    });
    expect(receiver.received.map((r) => r.path).sort()).toEqual(['/all', '/customers']);
  });

  it('signs jwt endpoints with the organization key pair, verifiable with its public key and no other', async () => {
    receiver.received.length = 0;
    const signer = (await createOrganization(db, 'Signer')).organization;
    await insertWebhookEndpoint(db, signer._id, {
      webhook_url: receiver.url('/jwt'),
      signature_algo: 'jwt',
      name: null,
      event_types: null,
    });
    const activities = createWebhookActivities({
      db,
      webhookDestinations: loopback,
      apiUrl: 'https://billing.example',
    });
    const result = await activities.sendWebhook({
      organizationId: signer._id,
      webhookType: 'plan.created',
      objectType: 'plan',
      object: { code: 'p' },
      uniqueKey: 'plan.created:jwt',
    });
    expect(result).toEqual({ endpoints: 1, delivered: 1, alreadyDelivered: 0, refused: 0 });
    const [hit] = receiver.on('/jwt');
    expect(hit!.headers['x-lago-signature-algorithm']).toBe('jwt');
    const token = String(hit!.headers['x-lago-signature']);
    const key = await ensureWebhookSigningKey(db, signer._id);
    expect(verifyJwtSignature(key!.publicKeyPem, hit!.body, token)).toBe('https://billing.example');
    const otherKey = await ensureWebhookSigningKey(db, other._id);
    expect(verifyJwtSignature(otherKey!.publicKeyPem, hit!.body, token)).toBeNull();
  });
});
