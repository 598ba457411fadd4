/**
 * Generated malformed and hostile requests to the billing endpoints (events, subscriptions, current
 * usage, invoices) on the real stack: never a 5xx, and a refused request stores nothing.
 */
import fc from 'fast-check';
import { startStack, type Stack } from '../../support/stack';

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '$set',
    'a.b',
    'x'.repeat(3000),
    'seats',
    'team',
    '-1',
    '1e309',
    '1763631119.5',
  ),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.constantFrom(2 ** 60, -1, 0, true, false, null, Number.MAX_SAFE_INTEGER),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom('a.b', '$x', 'nul\u0000', '__proto__', 'user_id', 'operation_type', 'k'),
      tie('value'),
      { maxKeys: 3 },
    ),
  ),
})).value;
/** Percent-encodes every UTF-8 byte (a lone surrogate becomes U+FFFD). */
const enc = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: hostileValue, weight: 1 });

describe('hostile input to the billing endpoints never yields a 5xx nor stores anything', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    const post = (path: string, body: unknown) =>
      fetch(`${stack.baseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ billable_metric: { lago_id: string } }>);
    const metric = await post('/billable_metrics', {
      billable_metric: {
        name: 'Seats',
        code: 'seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      },
    });
    await post('/plans', {
      plan: {
        name: 'Team',
        code: 'team',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          {
            billable_metric_id: metric.billable_metric.lago_id,
            charge_model: 'standard',
            prorated: true,
            properties: { amount: '10' },
          },
        ],
      },
    });
    await post('/subscriptions', {
      subscription: { external_customer_id: 'acme', plan_code: 'team', external_id: 'acme_team' },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** What the API writes synchronously (invoices come later from workflows, after accepted requests). */
  async function counts() {
    const names = ['events', 'subscriptions', 'customers'];
    return Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await stack.db.collection(n).countDocuments({})])),
    );
  }

  const event = fc.record({
    transaction_id: mostly(fc.uuid()),
    external_subscription_id: mostly(fc.constantFrom('acme_team', 'other')),
    code: mostly(fc.constantFrom('seats', 'unknown')),
    timestamp: mostly(fc.integer({ min: 0, max: 2_000_000_000 })),
    properties: mostly(fc.record({ user_id: fc.string(), operation_type: fc.constantFrom('add', 'remove') })),
  });
  const requests: fc.Arbitrary<{ method: string; path: string; body?: unknown }> = fc.oneof(
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/events'),
      body: fc.oneof(fc.record({ event }), hostileValue),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/events/batch'),
      body: fc.record({ events: fc.oneof(fc.array(event, { maxLength: 4 }), hostileValue) }),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/subscriptions'),
      body: fc.record({
        subscription: mostly(
          fc.record({
            external_customer_id: mostly(fc.constant('acme')),
            plan_code: mostly(fc.constantFrom('team', 'missing')),
            external_id: hostileValue,
            billing_time: mostly(fc.constantFrom('calendar', 'anniversary')),
            subscription_at: mostly(
              fc.constantFrom('2024-01-01T00:00:00Z', 'yesterday', '2024-13-45T00:00:00Z'),
            ),
          }),
        ),
      }),
    }),
    fc.record({
      method: fc.constant('PUT'),
      path: fc.constant('/subscriptions/acme_team'),
      body: fc.record({ subscription: mostly(fc.record({ ending_at: hostileValue })) }),
    }),
    fc.record({
      method: fc.constantFrom('GET', 'DELETE'),
      path: hostileString.map((s) => `/subscriptions/${enc(s)}?status=${enc(s)}`),
    }),
    fc.record({
      method: fc.constant('GET'),
      path: hostileString.map((s) => `/customers/acme/current_usage?external_subscription_id=${enc(s)}`),
    }),
    fc.record({
      method: fc.constant('GET'),
      path: hostileString.map(
        (s) => `/invoices?statuses[]=${enc(s)}&issuing_date_from=${enc(s)}&per_page=${enc(s)}`,
      ),
    }),
    fc.record({
      method: fc.constantFrom('GET', 'PUT'),
      path: hostileString.map((s) => `/invoices/${enc(s)}`),
      body: fc.record({ invoice: hostileValue }),
    }),
    fc.record({
      method: fc.constant('GET'),
      path: hostileString.map((s) => `/events?timestamp_from=${enc(s)}&page=${enc(s)}`),
    }),
  );

  it('answers 1,000 generated requests with 2xx or a Lago 4xx; a 4xx changes no collection', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(requests, async ({ method, path, body }) => {
        const before = await counts();
        const res = await fetch(`${stack.baseUrl}${path}`, {
          method,
          headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
          body:
            method === 'GET' || method === 'DELETE' || body === undefined ? undefined : JSON.stringify(body),
        });
        sent++;
        const json = (await res.json()) as { status?: number };
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(json.status).toBe(res.status);
          expect(await counts()).toEqual(before);
        }
      }),
      { numRuns: 1000 },
    );
    expect(sent).toBe(1000);
  }, 600_000);
});
