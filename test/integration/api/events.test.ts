import { as, startApiHarness, type ApiHarness } from './harness';
import { events } from '../../../src/store/events';
import { pendingDeliveries } from '../../../src/store/pending-deliveries';

describe('events API (stored in MongoDB; no subscription yet, so nothing is signalled)', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
    await as(h.a, h.app).post('/api/v1/billable_metrics', {
      billable_metric: {
        name: 'Seats',
        code: 'seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  const seat = (transaction_id: string, extra: Record<string, unknown> = {}) => ({
    transaction_id,
    external_subscription_id: 'acme_main',
    code: 'seats',
    timestamp: 1762158719,
    properties: { user_id: 'u42', operation_type: 'add' },
    ...extra,
  });

  it('stores an event and answers it in Lago shape, with the timestamp in milliseconds', async () => {
    const res = await as(h.a, h.app).post('/api/v1/events', {
      event: seat('t1', { timestamp: '1762158719.123' }),
    });
    expect(res.status).toBe(200);
    expect(res.body.event).toMatchObject({
      transaction_id: 't1',
      code: 'seats',
      external_subscription_id: 'acme_main',
      timestamp: '2025-11-03T08:31:59.123Z',
      properties: { user_id: 'u42', operation_type: 'add' },
      lago_subscription_id: null,
    });
    // Answered once stored with its pending-delivery marker; delivered in the background.
    expect(await events(h.db).findOne({ transaction_id: 't1' })).toMatchObject({ problems: [] });
    // No subscription with that id yet: the deliverer leaves it to its workflow's first load.
    // The deliverer marks it awaiting, then deletes its marker: wait for both.
    let stored = await events(h.db).findOne({ transaction_id: 't1' });
    const markers = async () => pendingDeliveries(h.db).countDocuments({ event_id: stored!._id });
    for (let i = 0; i < 100 && !(stored?.awaiting_subscription && (await markers()) === 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
      stored = await events(h.db).findOne({ transaction_id: 't1' });
    }
    expect(stored).toMatchObject({ awaiting_subscription: true, delivered_at: null, problems: [] });
    expect(await pendingDeliveries(h.db).countDocuments({ event_id: stored!._id })).toBe(0);
  });

  it('rejects a repeated transaction_id with value_already_exist and keeps the first event', async () => {
    await as(h.a, h.app).post('/api/v1/events', { event: seat('dup') });
    const again = await as(h.a, h.app).post('/api/v1/events', {
      event: seat('dup', { properties: { user_id: 'other' } }),
    });
    expect(again.status).toBe(422);
    expect(again.body).toEqual({
      status: 422,
      error: 'Unprocessable Entity',
      code: 'validation_errors',
      error_details: { transaction_id: ['value_already_exist'] },
    });
    expect(await events(h.db).countDocuments({ transaction_id: 'dup' })).toBe(1);
    expect((await as(h.a, h.app).get('/api/v1/events/dup')).body.event.properties.user_id).toBe('u42');
  });

  it('allows the same transaction_id on another subscription or in another organization', async () => {
    expect(
      (
        await as(h.a, h.app).post('/api/v1/events', {
          event: seat('shared', { external_subscription_id: 'other_sub' }),
        })
      ).status,
    ).toBe(200);
    expect((await as(h.a, h.app).post('/api/v1/events', { event: seat('shared') })).status).toBe(200);
    expect((await as(h.b, h.app).post('/api/v1/events', { event: seat('shared') })).status).toBe(200);
  });

  it.each([
    [{ timestamp: '2025-11-03T08:31:59Z' }, { timestamp: ['invalid_format'] }],
    [{ timestamp: 'abc' }, { timestamp: ['invalid_format'] }],
    [{ timestamp: -5 }, { timestamp: ['invalid_format'] }],
    [{ transaction_id: undefined }, { transaction_id: ['value_is_mandatory'] }],
    [{ code: '' }, { code: ['value_is_mandatory'] }],
    [{ external_subscription_id: undefined }, { external_subscription_id: ['value_is_mandatory'] }],
  ])('answers 422 naming the field for %j', async (change, details) => {
    const res = await as(h.a, h.app).post('/api/v1/events', { event: { ...seat('bad'), ...change } });
    expect(res.status).toBe(422);
    expect(res.body.error_details).toEqual(details);
    expect(await events(h.db).countDocuments({ transaction_id: 'bad' })).toBe(0);
  });

  it('answers 400 without the event root, and 401 without a key', async () => {
    expect((await as(h.a, h.app).post('/api/v1/events', { nope: 1 })).status).toBe(400);
    expect((await as(null, h.app).post('/api/v1/events', { event: seat('x') })).status).toBe(401);
  });

  it('stores an event for an unknown metric code, flagged and never delivered', async () => {
    const res = await as(h.a, h.app).post('/api/v1/events', {
      event: seat('unknown', { code: 'not_a_metric' }),
    });
    expect(res.status).toBe(200);
    expect(await events(h.db).findOne({ transaction_id: 'unknown' })).toMatchObject({
      problems: ['invalid_code'],
    });
  });

  it('takes a batch all or nothing, with errors keyed by index', async () => {
    const bad = await as(h.a, h.app).post('/api/v1/events/batch', {
      events: [seat('b1'), seat('b2', { timestamp: 'x' }), seat('b1'), seat('dup')],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error_details).toEqual({ '1': { timestamp: ['invalid_format'] } });
    const dup = await as(h.a, h.app).post('/api/v1/events/batch', {
      events: [seat('b1'), seat('b1'), seat('dup')],
    });
    expect(dup.body.error_details).toEqual({
      '1': { transaction_id: ['value_already_exist'] },
      '2': { transaction_id: ['value_already_exist'] },
    });
    expect(await events(h.db).countDocuments({ transaction_id: 'b1' })).toBe(0);
    // Only a stored duplicate: the others, inserted first, are taken out again.
    const stored = await as(h.a, h.app).post('/api/v1/events/batch', {
      events: [seat('b3'), seat('dup'), seat('b4'), seat('dup2')],
    });
    expect(stored.status).toBe(422);
    expect(stored.body.error_details).toEqual({ '1': { transaction_id: ['value_already_exist'] } });
    expect(await events(h.db).countDocuments({ transaction_id: { $in: ['b3', 'b4', 'dup2'] } })).toBe(0);
    // Rolled back with their pending-delivery markers: nothing left to deliver.
    expect(
      await pendingDeliveries(h.db).countDocuments({
        'message.transaction_id': { $in: ['b3', 'b4', 'dup2'] },
      }),
    ).toBe(0);
    expect(await events(h.db).countDocuments({ transaction_id: 'dup' })).toBe(1);

    const ok = await as(h.a, h.app).post('/api/v1/events/batch', { events: [seat('b1'), seat('b2')] });
    expect(ok.status).toBe(200);
    expect(ok.body.events.map((e: { transaction_id: string }) => e.transaction_id)).toEqual(['b1', 'b2']);
    expect((await as(h.a, h.app).post('/api/v1/events/batch', { events: [] })).body.error_details).toEqual({
      events: ['no_events'],
    });
    const tooMany = Array.from({ length: 101 }, (_, i) => seat(`m${i}`));
    expect(
      (await as(h.a, h.app).post('/api/v1/events/batch', { events: tooMany })).body.error_details,
    ).toEqual({ events: ['too_many_events'] });
  });

  it('counts every acknowledged event in GET /events at once, though counts are flushed at most every 250 ms', async () => {
    const page = () => as(h.a, h.app).get('/api/v1/events?external_subscription_id=count_sub');
    expect((await page()).body.meta.total_count).toBe(0);
    for (let i = 0; i < 5; i++) {
      const res = await as(h.a, h.app).post('/api/v1/events', {
        event: seat(`count-${i}`, { external_subscription_id: 'count_sub' }),
      });
      expect(res.status).toBe(200);
    }
    // The first count was flushed at once, the next ones wait: the list read starts their flush.
    const list = await page();
    expect(list.body.events).toHaveLength(5);
    expect(list.body.meta.total_count).toBe(5);
  });

  it('finds and lists events of the organization only', async () => {
    expect((await as(h.b, h.app).get('/api/v1/events/t1')).status).toBe(404);
    const list = await as(h.a, h.app).get('/api/v1/events?external_subscription_id=acme_main&per_page=2');
    expect(list.status).toBe(200);
    expect(list.body.events).toHaveLength(2);
    expect(list.body.meta).toMatchObject({ current_page: 1, next_page: 2, prev_page: null });
  });
});
