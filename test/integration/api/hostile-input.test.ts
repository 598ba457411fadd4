import { maxHeaderSize } from 'node:http';
import fc from 'fast-check';
import { as, startApiHarness, type ApiHarness } from './harness';

/**
 * Whatever a client sends, the catalog API answers 200, 400, 404 or 422, never a 5xx: FerretDB
 * refuses keys with '.', keys starting with '$', NUL characters and nested arrays, and none of
 * those may reach it from a request.
 */
const hostileKey = fc.constantFrom(
  'a.b',
  '$x',
  '$where',
  'nul\u0000',
  '',
  '__proto__',
  'constructor',
  '.',
  'ok',
);
const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '$set',
    'a.b',
    'x'.repeat(5000),
    'USD',
    'standard',
    'count_agg',
  ),
);
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(2 ** 60, -1, 0, true, false, null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** Percent-encodes the UTF-8 bytes (a lone surrogate becomes U+FFFD), plus raw malformed escapes. */
const urlPart = fc.oneof(
  hostileString.map((s) =>
    [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  ),
  fc.constantFrom('%', '%FF', '%E0%A4%A', '%00', '..', '%2E%2E', '%2F'),
);

describe('hostile input never yields a 5xx', () => {
  let h: ApiHarness;
  let a: ReturnType<typeof as>;
  let metricId: string;
  beforeAll(async () => {
    h = await startApiHarness();
    a = as(h.a, h.app);
    await a.post('/api/v1/customers', { customer: { external_id: 'acme' } });
    await a.post('/api/v1/plans', {
      plan: {
        name: 'P',
        code: 'p',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
      },
    });
    metricId = (
      await a.post('/api/v1/billable_metrics', {
        billable_metric: {
          name: 'S',
          code: 's',
          aggregation_type: 'unique_count_agg',
          field_name: 'u',
          recurring: true,
        },
      })
    ).body.billable_metric.lago_id;
    const hook = await a.post('/api/v1/webhook_endpoints', {
      webhook_endpoint: { webhook_url: 'https://h.test' },
    });
    endpointId = hook.body.webhook_endpoint.lago_id;
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });
  let endpointId = '';

  const ACCEPTED = [200, 400, 404, 422];
  /**
   * Node's parser refuses a request line longer than its header limit (16 KiB) with 431 before
   * Express sees it; that answer is right for such a URL and wrong for any shorter one.
   */
  const acceptedFor = (url: string, statuses: number[]) =>
    Buffer.byteLength(url) >= maxHeaderSize ? [...statuses, 431] : statuses;

  /** Each field valid 19 times out of 20, so that many requests get past validation and reach storage. */
  const mostly = <T>(valid: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: valid, weight: 19 }, { arbitrary: hostileValue, weight: 1 });
  const freeText = fc
    .string({ minLength: 1, unit: 'grapheme' })
    .filter((t) => t.trim() !== '' && !t.includes('\u0000'));
  const freshCode = fc.uuid().map((u) => `fuzz.$${u}`);
  /** Free-form maps are stored as JSON text: anything goes. */
  const freeMap = fc.dictionary(hostileKey, hostileValue, { maxKeys: 4 });
  const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) =>
    fc.record({ ...fields, [`extra${'.'}$`]: hostileValue });

  const bodies = {
    billable_metric: () =>
      record({
        name: mostly(freeText),
        code: mostly(fc.oneof(freshCode, fc.constant('s'))),
        aggregation_type: mostly(fc.constantFrom('count_agg', 'sum_agg', 'unique_count_agg')),
        field_name: mostly(freeText),
        recurring: mostly(fc.boolean()),
        filters: mostly(
          fc.array(fc.record({ key: freeText, values: fc.array(freeText, { minLength: 1, maxLength: 3 }) }), {
            maxLength: 2,
          }),
        ),
      }),
    plan: () =>
      record({
        name: mostly(freeText),
        code: mostly(fc.oneof(freshCode, fc.constant('p'))),
        interval: mostly(fc.constantFrom('monthly', 'yearly')),
        amount_cents: mostly(fc.nat()),
        amount_currency: mostly(fc.constantFrom('USD', 'EUR')),
        pay_in_advance: mostly(fc.boolean()),
        metadata: mostly(freeMap),
        charges: mostly(
          fc.array(
            record({
              billable_metric_id: mostly(fc.constant(metricId)),
              charge_model: mostly(fc.constantFrom('standard', 'graduated', 'package')),
              properties: mostly(fc.oneof(freeMap, fc.record({ amount: fc.constantFrom('1', '0.5', 'x') }))),
              filters: mostly(
                fc.array(
                  fc.record({
                    values: fc.dictionary(hostileKey, fc.array(freeText, { maxLength: 2 })),
                    properties: freeMap,
                  }),
                  { maxLength: 2 },
                ),
              ),
              prorated: mostly(fc.boolean()),
              code: mostly(freeText),
            }),
            { maxLength: 2 },
          ),
        ),
      }),
    customer: () =>
      record({
        external_id: mostly(fc.constantFrom('acme', 'fuzz', 'fuzz.$x')),
        name: mostly(freeText),
        email: mostly(fc.constantFrom('a@b.c', null)),
        timezone: mostly(fc.constantFrom('UTC', 'Europe/Paris', null)),
        country: mostly(fc.constantFrom('fr', 'US', null)),
        currency: mostly(fc.constantFrom('USD', null)),
        metadata: mostly(
          fc.array(
            fc.record({
              key: fc.constantFrom('a.b', '$x', 'nul\u0000', 'k'),
              value: freeText,
              display_in_invoice: fc.boolean(),
            }),
            {
              maxLength: 3,
            },
          ),
        ),
        billing_configuration: mostly(
          fc.record({ invoice_grace_period: fc.integer({ min: 0, max: 365 }), document_locale: freeText }),
        ),
        shipping_address: mostly(fc.record({ city: freeText, country: fc.constantFrom('DE', 'de') })),
      }),
    webhook_endpoint: () =>
      record({
        webhook_url: mostly(fc.webUrl()),
        signature_algo: mostly(fc.constant('hmac')),
        name: mostly(freeText),
        event_types: mostly(fc.constantFrom(null, ['invoice.created'], ['customer.created', 'plan.updated'])),
      }),
  };

  const endpoints: Array<[string, 'post' | 'put', () => string, keyof typeof bodies]> = [
    ['POST /billable_metrics', 'post', () => '/api/v1/billable_metrics', 'billable_metric'],
    ['PUT /billable_metrics/s', 'put', () => '/api/v1/billable_metrics/s', 'billable_metric'],
    ['POST /plans', 'post', () => '/api/v1/plans', 'plan'],
    ['PUT /plans/p', 'put', () => '/api/v1/plans/p', 'plan'],
    ['POST /customers', 'post', () => '/api/v1/customers', 'customer'],
    ['POST /webhook_endpoints', 'post', () => '/api/v1/webhook_endpoints', 'webhook_endpoint'],
    [
      'PUT /webhook_endpoints/:id',
      'put',
      () => `/api/v1/webhook_endpoints/${endpointId}`,
      'webhook_endpoint',
    ],
  ];

  it.each(endpoints)(
    '%s',
    async (_name, method, path, root) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ arbitrary: bodies[root](), weight: 4 }, { arbitrary: hostileValue, weight: 1 }),
          async (inner) => {
            const res = await a[method](path(), { [root]: inner });
            if (!ACCEPTED.includes(res.status))
              throw new Error(`${res.status} ${JSON.stringify(res.body)} for ${JSON.stringify(inner)}`);
          },
        ),
        { numRuns: 60 },
      );
    },
    60_000,
  );

  it('list queries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('billable_metrics', 'plans', 'customers', 'webhook_endpoints'),
        fc.array(
          fc.tuple(
            fc.constantFrom(
              'page',
              'per_page',
              'external_id',
              'search_term',
              'currencies[]',
              'external_id[$ne]',
              'page[a]',
            ),
            urlPart,
          ),
          { maxLength: 4 },
        ),
        async (resource, params) => {
          const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
          const url = `/api/v1/${resource}?${query}`;
          const res = await a.get(url);
          if (!acceptedFor(url, ACCEPTED).includes(res.status))
            throw new Error(`${res.status} ${JSON.stringify(res.body)} for ${query}`);
        },
      ),
      // The first example is a URL over Node's limit (a 5,000-character string, percent-encoded).
      { numRuns: 80, examples: [['plans', [['page', '%78'.repeat(6_000)]]]] },
    );
  }, 60_000);

  it('path parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('billable_metrics', 'plans', 'customers', 'webhook_endpoints'),
        fc.constantFrom('get', 'delete') as fc.Arbitrary<'get' | 'delete'>,
        urlPart.filter((s) => s.length > 0),
        async (resource, method, id) => {
          const url = `/api/v1/${resource}/${id}`;
          const res = await a[method](url);
          if (!acceptedFor(url, [200, 400, 404]).includes(res.status))
            throw new Error(`${res.status} ${JSON.stringify(res.body)} for ${id}`);
        },
      ),
      { numRuns: 80 },
    );
  }, 60_000);
});
