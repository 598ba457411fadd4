/**
 * Rate limits per organization on the real API and FerretDB: a flood from one organization is cut
 * to its limit with Lago-style 429s and Retry-After, while another organization is not slowed; and
 * two API processes configured as two (PRORATA_API_PROCESSES=2) together let through one limit.
 */
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../../api/app';
import type { RateLimits } from '../../../api/rate-limit';
import { as, startApiHarness, type ApiHarness } from './harness';

const LIMITS: RateLimits = { events: 30, currentUsage: 5, default: 10, processes: 1 };

/** At most a one-second burst plus the refill over the elapsed time. */
const ceiling = (limit: number, startedAt: number) =>
  limit + Math.ceil((limit * (Date.now() - startedAt)) / 1000);

describe('rate limits per organization', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ rateLimits: LIMITS });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('cuts a flood from one organization to its limit with 429 and Retry-After, and leaves the other unaffected', async () => {
    const a = as(h.a, h.app);
    const b = as(h.b, h.app);
    const startedAt = Date.now();
    const flood = Array.from({ length: 60 }, () => a.get('/api/v1/billable_metrics'));
    // B asks while A floods: under its own limit, every one of its requests is served.
    const others = Array.from({ length: 8 }, () => b.get('/api/v1/billable_metrics'));
    const [fromA, fromB] = await Promise.all([Promise.all(flood), Promise.all(others)]);
    const elapsedCeiling = ceiling(LIMITS.default, startedAt);

    expect(fromB.map((r) => r.status)).toEqual(Array(8).fill(200));
    const served = fromA.filter((r) => r.status === 200).length;
    const refused = fromA.filter((r) => r.status === 429);
    expect(served).toBeGreaterThanOrEqual(LIMITS.default);
    expect(served).toBeLessThanOrEqual(elapsedCeiling);
    expect(served + refused.length).toBe(60);
    for (const r of refused) {
      expect(r.body).toEqual({ status: 429, error: 'Too Many Requests', code: 'too_many_requests' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['x-ratelimit-limit']).toBe('10');
      expect(r.headers['x-ratelimit-remaining']).toBe('0');
    }

    // Events and current usage have their own limits: A's flood of reads did not spend them.
    expect((await a.get('/api/v1/events/unknown-transaction')).status).toBe(404);
    expect((await a.get('/api/v1/customers/nobody/current_usage?external_subscription_id=x')).status).toBe(
      404,
    );

    // After Retry-After, A is served again.
    await new Promise((r) => setTimeout(r, Number(refused[0]!.headers['retry-after']) * 1000));
    expect((await a.get('/api/v1/billable_metrics')).status).toBe(200);
  }, 30_000);

  it('limits current usage at its own rate', async () => {
    const a = as(h.a, h.app);
    const startedAt = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        a.get('/api/v1/customers/nobody/current_usage?external_subscription_id=x'),
      ),
    );
    const limited = answers.filter((r) => r.status === 429).length;
    expect(20 - limited).toBeLessThanOrEqual(ceiling(LIMITS.currentUsage, startedAt));
    expect(limited).toBeGreaterThan(0);
  });

  it('holds one limit across two API processes that each enforce their share', async () => {
    const shared: RateLimits = { ...LIMITS, default: 10, processes: 2 };
    // Two apps over the same database: two API processes behind a round-robin balancer. The
    // routes used never reach Temporal: a lazy connection to a closed port, as the harness has.
    const unused = Connection.lazy({ address: '127.0.0.1:1' });
    const [one, two] = [0, 1].map(() =>
      createApp({
        db: h.db,
        temporal: { client: new Client({ connection: unused }), connection: unused },
        taskQueue: 'unused',
        rateLimits: shared,
      }),
    );
    const get = (app: typeof one) =>
      request(app!).get('/api/v1/plans').set('Authorization', `Bearer ${h.b.apiKey}`);
    const startedAt = Date.now();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => get(i % 2 === 0 ? one : two)));
    const served = answers.filter((r) => r.status === 200).length;
    expect(served).toBeGreaterThanOrEqual(shared.default);
    expect(served).toBeLessThanOrEqual(ceiling(shared.default, startedAt));
    expect(answers.filter((r) => r.status === 429)).toHaveLength(40 - served);
  });
});
