/**
 * Fast fault drill (in `npm test`): MongoDB (FerretDB) stopped under a running API, then started
 * again on the same port and data.
 *
 * Breaks: the database, for requests that need it before anything else (authentication, metric
 * lookups, reads) and for ingestion.
 *
 * Must hold: every such request answers 503 `database_unavailable` with a Lago error body, never a
 * 500; once the database is back, the same requests succeed and the event sent during the outage
 * can be sent again (nothing was stored). The slow drill dependency-restart.drill.ts does the same
 * on separate processes under load.
 */
import { as, startApiHarness, type ApiHarness } from '../integration/api/harness';
import { events } from '../../src/store/events';

const UNAVAILABLE = {
  status: 503,
  error: 'Service Unavailable',
  code: 'database_unavailable',
  message: expect.any(String),
};

describe('fault drill: MongoDB stopped under the API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 503 database_unavailable while MongoDB is down, and works again once it is back', async () => {
    const a = as(h.a, h.app);
    const event = {
      event: {
        transaction_id: 'during-outage',
        external_subscription_id: 'acme_team',
        code: 'seats',
        properties: { user_id: 'u1' },
      },
    };
    await h.mongo.stopServer();
    try {
      const answers = [
        await a.post('/api/v1/events', event),
        await a.post('/api/v1/events/batch', { events: [event.event] }),
        await a.get('/api/v1/customers'),
      ];
      expect(answers.map((r) => [r.status, r.body])).toEqual([
        [503, UNAVAILABLE],
        [503, UNAVAILABLE],
        [503, UNAVAILABLE],
      ]);
    } finally {
      await h.mongo.restart();
    }
    expect(await events(h.db).countDocuments({})).toBe(0);
    expect((await a.get('/api/v1/customers')).status).toBe(200);
    const again = await a.post('/api/v1/events', event);
    expect(again.status).toBe(200);
    expect(await events(h.db).countDocuments({ transaction_id: 'during-outage' })).toBe(1);
  }, 60_000);
});
