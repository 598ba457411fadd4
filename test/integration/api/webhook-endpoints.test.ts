import { ANY_DESTINATION } from '../../../src/webhooks/destination-guard';
import {
  ISO_SECONDS,
  UNAUTHORIZED,
  UUID,
  as,
  missingRootError,
  notFoundError,
  startApiHarness,
  validationError,
  type ApiHarness,
} from './harness';

describe('webhook endpoints API (/api/v1/webhook_endpoints)', () => {
  let h: ApiHarness;
  let a: ReturnType<typeof as>;
  let b: ReturnType<typeof as>;
  beforeAll(async () => {
    h = await startApiHarness();
    a = as(h.a, h.app);
    b = as(h.b, h.app);
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('registers an endpoint, hmac by default, and answers Lago’s object', async () => {
    const res = await a.post('/api/v1/webhook_endpoints', {
      webhook_endpoint: { webhook_url: 'https://hooks.acme.test/lago', name: 'prod', event_types: null },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      webhook_endpoint: {
        lago_id: expect.stringMatching(UUID),
        lago_organization_id: h.a.organization._id,
        webhook_url: 'https://hooks.acme.test/lago',
        signature_algo: 'hmac',
        name: 'prod',
        event_types: null,
        created_at: expect.stringMatching(ISO_SECONDS),
      },
    });
    const typed = await a.post('/api/v1/webhook_endpoints', {
      webhook_endpoint: {
        webhook_url: 'https://hooks.acme.test/invoices',
        signature_algo: 'hmac',
        event_types: ['invoice.created', 'subscription.terminated'],
      },
    });
    expect(typed.body.webhook_endpoint).toMatchObject({
      name: null,
      event_types: ['invoice.created', 'subscription.terminated'],
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    [
      'an unknown signature algorithm',
      { webhook_url: 'https://a.test', signature_algo: 'rs512' },
      {
        signature_algo: ['value_is_invalid'],
      },
    ],
    ['no URL', { name: 'x' }, { webhook_url: ['value_is_mandatory'] }],
    ['an ftp URL', { webhook_url: 'ftp://a.test/x' }, { webhook_url: ['url_is_invalid'] }],
    ['a relative URL', { webhook_url: '/hooks' }, { webhook_url: ['url_is_invalid'] }],
    ['a NUL in the URL', { webhook_url: 'https://a.test/\u0000' }, { webhook_url: ['value_is_invalid'] }],
    [
      'an unknown event type',
      { webhook_url: 'https://a.test', event_types: ['invoice.exploded'] },
      {
        event_types: ['value_is_invalid'],
      },
    ],
    [
      'event types as a string',
      { webhook_url: 'https://a.test', event_types: 'invoice.created' },
      {
        event_types: ['value_is_invalid'],
      },
    ],
    [
      'a URL already registered',
      { webhook_url: 'https://hooks.acme.test/lago' },
      { webhook_url: ['value_already_exist'] },
    ],
  ])('refuses %s with 422', async (_case, endpoint, details) => {
    const res = await a.post('/api/v1/webhook_endpoints', { webhook_endpoint: endpoint });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(validationError(details));
  });

  it('answers 400 without the root, 401 without a key, 404 for an unknown or foreign id', async () => {
    expect((await a.post('/api/v1/webhook_endpoints', { webhook_url: 'https://a.test' })).body).toEqual(
      missingRootError('webhook_endpoint'),
    );
    expect((await as(null, h.app).get('/api/v1/webhook_endpoints')).body).toEqual(UNAUTHORIZED);
    const mine = (await a.get('/api/v1/webhook_endpoints')).body.webhook_endpoints[0].lago_id as string;
    for (const res of [
      await a.get('/api/v1/webhook_endpoints/00000000-0000-4000-8000-000000000000'),
      await a.get('/api/v1/webhook_endpoints/not-a-uuid'),
      await b.get(`/api/v1/webhook_endpoints/${mine}`),
      await b.put(`/api/v1/webhook_endpoints/${mine}`, { webhook_endpoint: { name: 'x' } }),
      await b.delete(`/api/v1/webhook_endpoints/${mine}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual(notFoundError('webhook_endpoint_not_found'));
    }
  });

  it('updates, finds and deletes an endpoint', async () => {
    const created = (
      await a.post('/api/v1/webhook_endpoints', { webhook_endpoint: { webhook_url: 'https://edit.test/a' } })
    ).body.webhook_endpoint;
    const updated = await a.put(`/api/v1/webhook_endpoints/${created.lago_id}`, {
      webhook_endpoint: {
        webhook_url: 'https://edit.test/b',
        event_types: ['customer.created'],
        name: 'edited',
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.webhook_endpoint).toEqual({
      ...created,
      webhook_url: 'https://edit.test/b',
      event_types: ['customer.created'],
      name: 'edited',
    });
    const taken = await a.put(`/api/v1/webhook_endpoints/${created.lago_id}`, {
      webhook_endpoint: { webhook_url: 'https://hooks.acme.test/lago' },
    });
    expect(taken.body).toEqual(validationError({ webhook_url: ['value_already_exist'] }));
    const md5 = await a.put(`/api/v1/webhook_endpoints/${created.lago_id}`, {
      webhook_endpoint: { signature_algo: 'md5' },
    });
    expect(md5.body).toEqual(validationError({ signature_algo: ['value_is_invalid'] }));
    expect((await a.get(`/api/v1/webhook_endpoints/${created.lago_id}`)).body).toEqual(updated.body);
    const deleted = await a.delete(`/api/v1/webhook_endpoints/${created.lago_id}`);
    expect(deleted.body).toEqual(updated.body);
    expect((await a.get(`/api/v1/webhook_endpoints/${created.lago_id}`)).status).toBe(404);
  });

  it('allows 10 endpoints per organization, like Lago', async () => {
    const existing = (await a.get('/api/v1/webhook_endpoints')).body.meta.total_count as number;
    for (let i = existing; i < 10; i++) {
      const res = await a.post('/api/v1/webhook_endpoints', {
        webhook_endpoint: { webhook_url: `https://many.test/${i}` },
      });
      expect(res.status).toBe(200);
    }
    const eleventh = await a.post('/api/v1/webhook_endpoints', {
      webhook_endpoint: { webhook_url: 'https://many.test/x' },
    });
    expect(eleventh.body).toEqual(validationError({ base: ['exceeded_limit'] }));
  });

  it('lists with Lago’s meta and keeps organizations apart', async () => {
    const page = await a.get('/api/v1/webhook_endpoints?per_page=4&page=3');
    expect(page.body.meta).toEqual({
      current_page: 3,
      next_page: null,
      prev_page: 2,
      total_pages: 3,
      total_count: 10,
    });
    expect(page.body.webhook_endpoints).toHaveLength(2);
    expect((await b.get('/api/v1/webhook_endpoints')).body).toEqual({
      webhook_endpoints: [],
      meta: { current_page: 0, next_page: null, prev_page: null, total_pages: 0, total_count: 0 },
    });
    const own = await b.post('/api/v1/webhook_endpoints', {
      webhook_endpoint: { webhook_url: 'https://hooks.acme.test/lago' },
    });
    expect(own.status).toBe(200);
    expect(own.body.webhook_endpoint.lago_organization_id).toBe(h.b.organization._id);
  });

  const refusedDestinations = [
    'http://127.0.0.1:7233/x',
    'http://169.254.169.254/latest',
    'http://[::1]:3000/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:127.0.0.1]/',
    'http://10.0.0.1/hooks',
    'http://192.168.1.20/hooks',
    'http://0.0.0.0:27017/',
    'http://2130706433/',
    'http://localhost:3000/hooks', // resolved at registration: 127.0.0.1 or ::1
  ];

  it.each(refusedDestinations)(
    'refuses %s on create and on update with 422 destination_not_allowed, storing nothing',
    async (url) => {
      const count = () => h.db.collection('webhook_endpoints').countDocuments({});
      const before = await count();
      const created = await b.post('/api/v1/webhook_endpoints', { webhook_endpoint: { webhook_url: url } });
      expect(created.status).toBe(422);
      expect(created.body).toEqual(validationError({ webhook_url: ['destination_not_allowed'] }));
      expect(await count()).toBe(before);

      const mine = (await b.get('/api/v1/webhook_endpoints')).body.webhook_endpoints[0];
      const updated = await b.put(`/api/v1/webhook_endpoints/${mine.lago_id}`, {
        webhook_endpoint: { webhook_url: url, name: 'changed' },
      });
      expect(updated.status).toBe(422);
      expect(updated.body).toEqual(validationError({ webhook_url: ['destination_not_allowed'] }));
      expect((await b.get(`/api/v1/webhook_endpoints/${mine.lago_id}`)).body.webhook_endpoint).toEqual(mine);
    },
  );

  describe('with PRORATA_WEBHOOK_ALLOW_PRIVATE=1', () => {
    let dev: ApiHarness;
    beforeAll(async () => {
      dev = await startApiHarness({ webhookDestinations: ANY_DESTINATION });
    }, 60_000);
    afterAll(async () => {
      await dev?.stop();
    });

    it('registers loopback and private destinations, but still no other scheme', async () => {
      const api = as(dev.a, dev.app);
      for (const url of refusedDestinations) {
        const res = await api.post('/api/v1/webhook_endpoints', { webhook_endpoint: { webhook_url: url } });
        expect(res.status).toBe(200);
      }
      expect(
        (
          await api.post('/api/v1/webhook_endpoints', {
            webhook_endpoint: { webhook_url: 'file:///etc/passwd' },
          })
        ).body,
      ).toEqual(validationError({ webhook_url: ['url_is_invalid'] }));
    });
  });

  it('signs with jwt on request: the endpoint says so, and each organization has its own public key', async () => {
    const jwt = await b.post('/api/v1/webhook_endpoints', {
      webhook_endpoint: { webhook_url: 'https://jwt.test/hooks', signature_algo: 'jwt' },
    });
    expect(jwt.status).toBe(200);
    expect(jwt.body.webhook_endpoint.signature_algo).toBe('jwt');
    const keyOf = async (api: typeof a) => {
      const json = await api.get('/api/v1/webhooks/json_public_key');
      const text = await api.get('/api/v1/webhooks/public_key');
      expect(json.status).toBe(200);
      expect(text.headers['content-type']).toMatch(/^text\/plain/);
      expect(text.text).toBe(json.body.webhook.public_key);
      return Buffer.from(json.body.webhook.public_key as string, 'base64').toString('utf8');
    };
    const [keyA, keyB] = [await keyOf(a), await keyOf(b)];
    expect(keyB).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    expect(keyA).not.toBe(keyB);
    expect(await keyOf(b)).toBe(keyB); // created once, then the same
    const stored = await h.db.collection('organizations').findOne({ _id: h.b.organization._id as never });
    expect(stored?.webhook_public_key_pem).toBe(keyB);
    expect((await b.get('/api/v1/webhook_endpoints')).body.webhook_endpoints[0].signature_algo).toBe('jwt');
  });
});
