import request from 'supertest';
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

const SEATS = {
  name: 'Seats',
  code: 'seats',
  description: 'Active users',
  aggregation_type: 'unique_count_agg',
  field_name: 'user_id',
  recurring: true,
};

describe('billable metrics API (/api/v1/billable_metrics)', () => {
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

  it('creates a recurring unique-count metric and answers Lago’s exact object', async () => {
    const res = await a.post('/api/v1/billable_metrics', { billable_metric: SEATS });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      billable_metric: {
        lago_id: expect.stringMatching(UUID),
        name: 'Seats',
        code: 'seats',
        description: 'Active users',
        aggregation_type: 'unique_count_agg',
        weighted_interval: null,
        recurring: true,
        rounding_function: null,
        rounding_precision: null,
        created_at: expect.stringMatching(ISO_SECONDS),
        field_name: 'user_id',
        expression: null,
        active_subscriptions_count: 0,
        draft_invoices_count: 0,
        plans_count: 0,
        filters: [],
      },
    });
    expect(Object.keys(res.body.billable_metric)).toEqual([
      'lago_id',
      'name',
      'code',
      'description',
      'aggregation_type',
      'weighted_interval',
      'recurring',
      'rounding_function',
      'rounding_precision',
      'created_at',
      'field_name',
      'expression',
      'active_subscriptions_count',
      'draft_invoices_count',
      'plans_count',
      'filters',
    ]);
  });

  it('finds a metric by code without the deprecated counts, as Lago’s GET does', async () => {
    const res = await a.get('/api/v1/billable_metrics/seats');
    expect(res.status).toBe(200);
    expect(res.body.billable_metric).toMatchObject({ code: 'seats', recurring: true, field_name: 'user_id' });
    expect(res.body.billable_metric).not.toHaveProperty('plans_count');
    expect(res.body.billable_metric).not.toHaveProperty('active_subscriptions_count');
  });

  it('keeps every optional field, defaults weighted_interval to seconds for weighted sums', async () => {
    const res = await a.post('/api/v1/billable_metrics', {
      billable_metric: {
        name: 'Storage',
        code: 'storage',
        aggregation_type: 'weighted_sum_agg',
        field_name: 'gb',
        recurring: true,
        expression: 'round(gb * 2)',
        rounding_function: 'ceil',
        rounding_precision: -2,
        filters: [{ key: 'region', values: ['eu', 'us'] }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.billable_metric).toMatchObject({
      aggregation_type: 'weighted_sum_agg',
      weighted_interval: 'seconds',
      recurring: true,
      expression: 'round(gb * 2)',
      rounding_function: 'ceil',
      rounding_precision: -2,
      filters: [{ key: 'region', values: ['eu', 'us'] }],
    });
  });

  it('accepts count_agg without field_name', async () => {
    const res = await a.post('/api/v1/billable_metrics', {
      billable_metric: { name: 'Calls', code: 'calls', aggregation_type: 'count_agg' },
    });
    expect(res.status).toBe(200);
    expect(res.body.billable_metric).toMatchObject({
      field_name: null,
      recurring: false,
      weighted_interval: null,
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    [
      'name and code missing',
      { aggregation_type: 'count_agg' },
      { name: ['value_is_mandatory'], code: ['value_is_mandatory'] },
    ],
    [
      'blank name, null code',
      { name: '  ', code: null, aggregation_type: 'count_agg' },
      {
        name: ['value_is_mandatory'],
        code: ['value_is_mandatory'],
      },
    ],
    [
      'no aggregation_type (Lago: inclusion fails)',
      { name: 'x', code: 'x' },
      { aggregation_type: ['value_is_invalid'] },
    ],
    [
      'unknown aggregation_type',
      { name: 'x', code: 'x', aggregation_type: 'custom_agg' },
      {
        aggregation_type: ['value_is_invalid'],
      },
    ],
    [
      'sum without field_name',
      { name: 'x', code: 'x', aggregation_type: 'sum_agg' },
      { field_name: ['value_is_mandatory'] },
    ],
    [
      'recurring count',
      { name: 'x', code: 'x', aggregation_type: 'count_agg', recurring: true },
      {
        recurring: ['not_compatible_with_aggregation_type'],
      },
    ],
    [
      'recurring max',
      { name: 'x', code: 'x', aggregation_type: 'max_agg', field_name: 'v', recurring: true },
      {
        recurring: ['not_compatible_with_aggregation_type'],
      },
    ],
    [
      'recurring latest',
      { name: 'x', code: 'x', aggregation_type: 'latest_agg', field_name: 'v', recurring: true },
      {
        recurring: ['not_compatible_with_aggregation_type'],
      },
    ],
    [
      'weighted sum in minutes',
      {
        name: 'x',
        code: 'x',
        aggregation_type: 'weighted_sum_agg',
        field_name: 'v',
        weighted_interval: 'minutes',
      },
      { weighted_interval: ['value_is_invalid'] },
    ],
    [
      'unknown rounding',
      { name: 'x', code: 'x', aggregation_type: 'count_agg', rounding_function: 'up' },
      {
        rounding_function: ['value_is_invalid'],
      },
    ],
    [
      'fractional precision',
      { name: 'x', code: 'x', aggregation_type: 'count_agg', rounding_precision: 1.5 },
      {
        rounding_precision: ['value_is_invalid'],
      },
    ],
    [
      'recurring as a string',
      { name: 'x', code: 'x', aggregation_type: 'sum_agg', field_name: 'v', recurring: 'yes' },
      {
        recurring: ['value_is_invalid'],
      },
    ],
    [
      'filter without values',
      { name: 'x', code: 'x', aggregation_type: 'count_agg', filters: [{ key: 'k', values: [] }] },
      {
        filters: ['value_is_mandatory'],
      },
    ],
    [
      'NUL in the name',
      { name: 'a\u0000b', code: 'x', aggregation_type: 'count_agg' },
      { name: ['value_is_invalid'] },
    ],
    [
      'NUL in a filter value',
      {
        name: 'x',
        code: 'x',
        aggregation_type: 'count_agg',
        filters: [{ key: 'k', values: ['\u0000'] }],
      },
      { filters: ['value_is_invalid'] },
    ],
    [
      'a used code',
      { name: 'Seats again', code: 'seats', aggregation_type: 'count_agg' },
      { code: ['value_already_exist'] },
    ],
  ])('refuses %s with 422', async (_case, billableMetric, details) => {
    const res = await a.post('/api/v1/billable_metrics', { billable_metric: billableMetric });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(validationError(details));
  });

  it.each([
    ['no body', undefined],
    ['another root', { metric: SEATS }],
    ['an empty root', { billable_metric: {} }],
    ['a null root', { billable_metric: null }],
    ['an array body', [SEATS]],
  ])('answers 400 to %s', async (_case, body) => {
    const res = await a.post('/api/v1/billable_metrics', body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(missingRootError('billable_metric'));
  });

  it('answers 400 to malformed JSON and 422 (base) to a root that is not an object', async () => {
    const malformed = await request(h.app)
      .post('/api/v1/billable_metrics')
      .set('Authorization', `Bearer ${h.a.apiKey}`)
      .set('Content-Type', 'application/json')
      .send('{"billable_metric": {');
    expect(malformed.status).toBe(400);
    const scalar = await a.post('/api/v1/billable_metrics', { billable_metric: 'seats' });
    expect(scalar.status).toBe(422);
    expect(scalar.body).toEqual(validationError({ base: ['value_is_invalid'] }));
  });

  it('answers 401 without a key or with an unknown one', async () => {
    const none = await as(null, h.app).get('/api/v1/billable_metrics');
    expect(none.status).toBe(401);
    expect(none.body).toEqual(UNAUTHORIZED);
    const unknown = await request(h.app).get('/api/v1/billable_metrics').set('Authorization', 'Bearer nope');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(UNAUTHORIZED);
    const write = await request(h.app).post('/api/v1/billable_metrics').send({ billable_metric: SEATS });
    expect(write.status).toBe(401);
  });

  it('answers 404 billable_metric_not_found to GET, PUT and DELETE of an unknown code', async () => {
    for (const res of [
      await a.get('/api/v1/billable_metrics/nope'),
      await a.put('/api/v1/billable_metrics/nope', { billable_metric: { name: 'x' } }),
      await a.delete('/api/v1/billable_metrics/nope'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual(notFoundError('billable_metric_not_found'));
    }
  });

  it('updates any subset of fields and checks the merged metric', async () => {
    await a.post('/api/v1/billable_metrics', {
      billable_metric: { name: 'Peak', code: 'peak', aggregation_type: 'sum_agg', field_name: 'v' },
    });
    const renamed = await a.put('/api/v1/billable_metrics/peak', {
      billable_metric: { name: 'Peak usage', description: null, aggregation_type: 'max_agg' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.billable_metric).toMatchObject({
      name: 'Peak usage',
      code: 'peak',
      aggregation_type: 'max_agg',
      field_name: 'v',
      plans_count: 0,
    });
    const recurringMax = await a.put('/api/v1/billable_metrics/peak', {
      billable_metric: { recurring: true },
    });
    expect(recurringMax.status).toBe(422);
    expect(recurringMax.body).toEqual(
      validationError({ recurring: ['not_compatible_with_aggregation_type'] }),
    );
    const takenCode = await a.put('/api/v1/billable_metrics/peak', { billable_metric: { code: 'seats' } });
    expect(takenCode.body).toEqual(validationError({ code: ['value_already_exist'] }));
    const recoded = await a.put('/api/v1/billable_metrics/peak', { billable_metric: { code: 'peak_v2' } });
    expect(recoded.body.billable_metric.code).toBe('peak_v2');
    expect((await a.get('/api/v1/billable_metrics/peak')).status).toBe(404);
    const nullName = await a.put('/api/v1/billable_metrics/peak_v2', { billable_metric: { name: null } });
    expect(nullName.body).toEqual(validationError({ name: ['value_is_mandatory'] }));
    const noRoot = await a.put('/api/v1/billable_metrics/peak_v2', { name: 'x' });
    expect(noRoot.status).toBe(400);
    expect(noRoot.body).toEqual(missingRootError('billable_metric'));
  });

  it('soft-deletes a metric: it answers the metric, then 404, and the code can be reused', async () => {
    const created = await a.post('/api/v1/billable_metrics', {
      billable_metric: { name: 'Temp', code: 'temp', aggregation_type: 'count_agg' },
    });
    const deleted = await a.delete('/api/v1/billable_metrics/temp');
    expect(deleted.status).toBe(200);
    expect(deleted.body.billable_metric).toMatchObject({
      lago_id: created.body.billable_metric.lago_id,
      code: 'temp',
    });
    expect((await a.get('/api/v1/billable_metrics/temp')).status).toBe(404);
    expect((await a.delete('/api/v1/billable_metrics/temp')).status).toBe(404);
    const again = await a.post('/api/v1/billable_metrics', {
      billable_metric: { name: 'Temp', code: 'temp', aggregation_type: 'count_agg' },
    });
    expect(again.status).toBe(200);
    expect(again.body.billable_metric.lago_id).not.toBe(created.body.billable_metric.lago_id);
    expect((await h.db.collection('billable_metrics').countDocuments({ code: 'temp' })).valueOf()).toBe(2);
  });

  it('keeps a metric a plan charges: only name and description change, as in Lago', async () => {
    const metric = (
      await a.post('/api/v1/billable_metrics', {
        billable_metric: {
          name: 'Users',
          code: 'users',
          aggregation_type: 'unique_count_agg',
          field_name: 'u',
        },
      })
    ).body.billable_metric;
    const plan = await a.post('/api/v1/plans', {
      plan: {
        name: 'P',
        code: 'users_plan',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          { billable_metric_id: metric.lago_id, charge_model: 'standard', properties: { amount: '1' } },
        ],
      },
    });
    expect(plan.status).toBe(200);
    const res = await a.put('/api/v1/billable_metrics/users', {
      billable_metric: {
        name: 'Members',
        description: 'people',
        aggregation_type: 'count_agg',
        code: 'members',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.billable_metric).toMatchObject({
      name: 'Members',
      description: 'people',
      code: 'users',
      aggregation_type: 'unique_count_agg',
      field_name: 'u',
    });
  });

  it('removes a deleted metric’s charges from the plans that used it and reports the plan as updated', async () => {
    const metric = (
      await a.post('/api/v1/billable_metrics', {
        billable_metric: { name: 'Api', code: 'api_calls', aggregation_type: 'count_agg' },
      })
    ).body.billable_metric;
    const seats = (await a.get('/api/v1/billable_metrics/seats')).body.billable_metric;
    await a.post('/api/v1/plans', {
      plan: {
        name: 'Two charges',
        code: 'two_charges',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          { billable_metric_id: metric.lago_id, charge_model: 'standard' },
          {
            billable_metric_id: seats.lago_id,
            charge_model: 'standard',
            prorated: true,
            properties: { amount: '10' },
          },
        ],
      },
    });
    h.planUpdates.length = 0;
    expect((await a.delete('/api/v1/billable_metrics/api_calls')).status).toBe(200);
    const plan = (await a.get('/api/v1/plans/two_charges')).body.plan;
    expect(plan.charges.map((c: { billable_metric_code: string }) => c.billable_metric_code)).toEqual([
      'seats',
    ]);
    expect(h.planUpdates).toEqual([[h.a.organization._id, 'two_charges']]);
  });

  it('paginates like Lago: per_page, next/prev pages, totals, and an empty list on page 0', async () => {
    const total = (await a.get('/api/v1/billable_metrics?per_page=1000')).body.meta.total_count as number;
    expect(total).toBeGreaterThanOrEqual(5);
    const first = await a.get('/api/v1/billable_metrics?per_page=2');
    expect(first.status).toBe(200);
    expect(first.body.billable_metrics).toHaveLength(2);
    expect(first.body.meta).toEqual({
      current_page: 1,
      next_page: 2,
      prev_page: null,
      total_pages: Math.ceil(total / 2),
      total_count: total,
    });
    const last = await a.get(`/api/v1/billable_metrics?per_page=2&page=${Math.ceil(total / 2)}`);
    expect(last.body.meta).toMatchObject({ next_page: null, prev_page: Math.ceil(total / 2) - 1 });
    const codes = new Set<string>();
    for (let page = 1; page <= Math.ceil(total / 2); page++) {
      const res = await a.get(`/api/v1/billable_metrics?per_page=2&page=${page}`);
      for (const m of res.body.billable_metrics) codes.add(m.code);
    }
    expect(codes.size).toBe(total);
    expect(first.body.billable_metrics[0]).toHaveProperty('plans_count', 0);

    const empty = await b.get('/api/v1/billable_metrics');
    expect(empty.body).toEqual({
      billable_metrics: [],
      meta: { current_page: 0, next_page: null, prev_page: null, total_pages: 0, total_count: 0 },
    });
    const bad = await a.get('/api/v1/billable_metrics?page=0&per_page=abc');
    expect(bad.status).toBe(422);
    expect(bad.body.error_details).toHaveProperty('page');
  });

  it('isolates organizations: B sees none of A’s metrics and may reuse A’s codes', async () => {
    expect((await b.get('/api/v1/billable_metrics/seats')).status).toBe(404);
    expect((await b.put('/api/v1/billable_metrics/seats', { billable_metric: { name: 'x' } })).status).toBe(
      404,
    );
    expect((await b.delete('/api/v1/billable_metrics/seats')).status).toBe(404);
    const own = await b.post('/api/v1/billable_metrics', { billable_metric: SEATS });
    expect(own.status).toBe(200);
    const listA = (await a.get('/api/v1/billable_metrics')).body.billable_metrics as Array<{
      lago_id: string;
    }>;
    expect(listA.map((m) => m.lago_id)).not.toContain(own.body.billable_metric.lago_id);
    const listB = (await b.get('/api/v1/billable_metrics')).body;
    expect(listB.meta.total_count).toBe(1);
    expect((await a.get('/api/v1/billable_metrics/seats')).body.billable_metric.lago_id).not.toBe(
      own.body.billable_metric.lago_id,
    );
  });

  it('treats codes with dots and URL-escaped characters as plain codes', async () => {
    const res = await a.post('/api/v1/billable_metrics', {
      billable_metric: { name: 'Dots', code: 'seats.v2$x', aggregation_type: 'count_agg' },
    });
    expect(res.status).toBe(200);
    const found = await a.get(`/api/v1/billable_metrics/${encodeURIComponent('seats.v2$x')}`);
    expect(found.status).toBe(200);
    expect(found.body.billable_metric.code).toBe('seats.v2$x');
  });
});
