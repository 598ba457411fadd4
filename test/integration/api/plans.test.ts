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
import { findPlanWithMetrics, chargePropertiesOf } from '../../../src/store/plans';

type Metric = { lago_id: string; code: string };

const plan = (overrides: Record<string, unknown> = {}) => ({
  name: 'Per seat',
  code: 'per_seat',
  interval: 'monthly',
  amount_cents: 0,
  amount_currency: 'USD',
  pay_in_advance: false,
  ...overrides,
});

describe('plans API (/api/v1/plans)', () => {
  let h: ApiHarness;
  let a: ReturnType<typeof as>;
  let b: ReturnType<typeof as>;
  const metrics: Record<string, Metric> = {};

  async function metric(
    code: string,
    aggregation_type: string,
    recurring: boolean,
    client = a,
  ): Promise<Metric> {
    const res = await client.post('/api/v1/billable_metrics', {
      billable_metric: {
        name: code,
        code,
        aggregation_type,
        recurring,
        field_name: aggregation_type === 'count_agg' ? undefined : 'v',
      },
    });
    expect(res.status).toBe(200);
    return res.body.billable_metric;
  }

  beforeAll(async () => {
    h = await startApiHarness();
    a = as(h.a, h.app);
    b = as(h.b, h.app);
    metrics.seats = await metric('seats', 'unique_count_agg', true);
    metrics.calls = await metric('calls', 'count_agg', false);
    metrics.gb = await metric('gb', 'sum_agg', false);
    metrics.storage = await metric('storage', 'weighted_sum_agg', true);
    metrics.peak = await metric('peak', 'max_agg', false);
    metrics.foreign = await metric('foreign_seats', 'unique_count_agg', true, b);
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('creates the per-seat plan of lago-api.md with a prorated charge and answers Lago’s exact object', async () => {
    const res = await a.post('/api/v1/plans', {
      plan: plan({
        charges: [
          {
            billable_metric_id: metrics.seats!.lago_id,
            code: 'seat_fee',
            charge_model: 'standard',
            pay_in_advance: false,
            invoiceable: true,
            prorated: true,
            min_amount_cents: 0,
            properties: { amount: '10' },
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      plan: {
        lago_id: expect.stringMatching(UUID),
        name: 'Per seat',
        invoice_display_name: null,
        created_at: expect.stringMatching(ISO_SECONDS),
        code: 'per_seat',
        interval: 'monthly',
        description: null,
        amount_cents: 0,
        amount_currency: 'USD',
        trial_period: 0,
        pay_in_advance: false,
        bill_charges_monthly: null,
        bill_fixed_charges_monthly: null,
        customers_count: 0,
        active_subscriptions_count: 0,
        draft_invoices_count: 0,
        parent_id: null,
        pending_deletion: false,
        charges: [
          {
            lago_id: expect.stringMatching(UUID),
            lago_billable_metric_id: metrics.seats!.lago_id,
            code: 'seat_fee',
            invoice_display_name: null,
            billable_metric_code: 'seats',
            created_at: expect.stringMatching(ISO_SECONDS),
            charge_model: 'standard',
            invoiceable: true,
            regroup_paid_fees: null,
            pay_in_advance: false,
            prorated: true,
            min_amount_cents: 0,
            accepts_target_wallet: false,
            properties: { amount: '10' },
            applied_pricing_unit: null,
            lago_parent_id: null,
            filters: [],
            taxes: [],
          },
        ],
        fixed_charges: [],
        entitlements: [],
        usage_thresholds: [],
        applicable_usage_thresholds: [],
        taxes: [],
      },
    });
  });

  it('exports the plan with the metrics it charges for the subscription workflow', async () => {
    const found = await findPlanWithMetrics(h.db, h.a.organization._id, 'per_seat');
    expect(found?.plan.code).toBe('per_seat');
    expect(found?.billableMetrics.map((m) => [m.code, m.aggregation_type, m.recurring])).toEqual([
      ['seats', 'unique_count_agg', true],
    ]);
    expect(chargePropertiesOf(found!.plan.charges[0]!)).toEqual({ amount: '10' });
    expect(await findPlanWithMetrics(h.db, h.b.organization._id, 'per_seat')).toBeNull();
  });

  it('defaults charge codes to the metric code (suffixed when the plan has it) and properties per model', async () => {
    const res = await a.post('/api/v1/plans', {
      plan: plan({
        code: 'defaults',
        interval: 'yearly',
        charges: [
          { billable_metric_id: metrics.seats!.lago_id, charge_model: 'standard' },
          { billable_metric_id: metrics.seats!.lago_id, charge_model: 'graduated' },
          { billable_metric_id: metrics.gb!.lago_id, charge_model: 'package', code: 'seats_2' },
          { billable_metric_id: metrics.gb!.lago_id, charge_model: 'percentage' },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.body.plan).toMatchObject({ bill_charges_monthly: false, bill_fixed_charges_monthly: false });
    expect(res.body.plan.charges.map((c: Record<string, unknown>) => [c.code, c.properties])).toEqual([
      ['seats', { amount: '0' }],
      [
        'seats_3',
        { graduated_ranges: [{ from_value: 0, to_value: null, flat_amount: '0', per_unit_amount: '0' }] },
      ],
      ['seats_2', { amount: '0', package_size: 1, free_units: 0 }],
      ['gb', { rate: '0' }],
    ]);
  });

  it('keeps only the properties a standard charge reads, and others as sent (keys FerretDB refuses included)', async () => {
    const hostile = { 'a.b': { $x: [[1, 2]], 'nul\u0000': 'v\u0000' }, graduated_ranges: [] };
    const res = await a.post('/api/v1/plans', {
      plan: plan({
        code: 'hostile_properties',
        charges: [
          {
            billable_metric_id: metrics.gb!.lago_id,
            charge_model: 'standard',
            properties: { amount: '1.5', pricing_group_keys: ['region'], 'x.y': 1 },
          },
          { billable_metric_id: metrics.gb!.lago_id, charge_model: 'package', properties: hostile },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.body.plan.charges[0].properties).toEqual({ amount: '1.5', pricing_group_keys: ['region'] });
    expect(res.body.plan.charges[1].properties).toEqual(hostile);
    expect((await a.get('/api/v1/plans/hostile_properties')).body.plan.charges[1].properties).toEqual(
      hostile,
    );
  });

  it('stores plan metadata with any keys and shows it only when present', async () => {
    const metadata = { 'a.b': 'x', $y: [[1]], nested: { 'c.d': '\u0000' } };
    const res = await a.post('/api/v1/plans', { plan: plan({ code: 'with_metadata', metadata }) });
    expect(res.status).toBe(200);
    expect(res.body.plan.metadata).toEqual(metadata);
    expect((await a.get('/api/v1/plans/per_seat')).body.plan).not.toHaveProperty('metadata');
  });

  describe('the proration rule (Lago Charge#validate_prorated)', () => {
    const ok = 'accepted';
    const refused = { prorated: ['invalid_billable_metric_or_charge_model'] };
    it.each<[string, string, boolean, string, 'accepted' | Record<string, string[]>]>([
      ['recurring unique count, in arrears, standard', 'seats', false, 'standard', ok],
      ['recurring unique count, in arrears, volume', 'seats', false, 'volume', ok],
      ['recurring unique count, in arrears, graduated', 'seats', false, 'graduated', ok],
      ['recurring unique count, in arrears, package', 'seats', false, 'package', refused],
      ['recurring unique count, in arrears, percentage', 'seats', false, 'percentage', refused],
      [
        'recurring unique count, in arrears, graduated percentage',
        'seats',
        false,
        'graduated_percentage',
        refused,
      ],
      ['recurring unique count, in advance, standard', 'seats', true, 'standard', ok],
      ['recurring unique count, in advance, graduated', 'seats', true, 'graduated', refused],
      [
        'recurring unique count, in advance, volume',
        'seats',
        true,
        'volume',
        { ...refused, pay_in_advance: ['invalid_aggregation_type_or_charge_model'] },
      ],
      ['non-recurring sum, in arrears, standard', 'gb', false, 'standard', refused],
      ['non-recurring count, in advance, standard', 'calls', true, 'standard', refused],
      ['recurring weighted sum, in arrears, standard', 'storage', false, 'standard', refused],
    ])('%s: %j', async (_case, metricCode, payInAdvance, chargeModel, expected) => {
      const res = await a.post('/api/v1/plans', {
        plan: plan({
          code: `prorated_${metricCode}_${payInAdvance}_${chargeModel}`,
          charges: [
            {
              billable_metric_id: metrics[metricCode]!.lago_id,
              charge_model: chargeModel,
              pay_in_advance: payInAdvance,
              prorated: true,
            },
          ],
        }),
      });
      if (expected === ok) {
        expect(res.status).toBe(200);
        expect(res.body.plan.charges[0]).toMatchObject({ prorated: true, pay_in_advance: payInAdvance });
      } else {
        expect(res.status).toBe(422);
        expect(res.body).toEqual(validationError(expected));
      }
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    [
      'a negative standard amount',
      { charge_model: 'standard', properties: { amount: '-1' } },
      { properties: ['invalid_amount'] },
    ],
    [
      'a numeric standard amount',
      { charge_model: 'standard', properties: { amount: 10 } },
      { properties: ['invalid_amount'] },
    ],
    [
      'a word as amount',
      { charge_model: 'standard', properties: { amount: 'ten' } },
      { properties: ['invalid_amount'] },
    ],
    [
      'an exponent amount',
      { charge_model: 'standard', properties: { amount: '1e3' } },
      { properties: ['invalid_amount'] },
    ],
    [
      'a standard charge without amount',
      { charge_model: 'standard', properties: { grouped_by: ['x'] } },
      {
        properties: ['invalid_amount'],
      },
    ],
    [
      'graduated ranges with a hole (Lago Charges::Validators::GraduatedService)',
      {
        charge_model: 'graduated',
        properties: {
          graduated_ranges: [
            { from_value: 0, to_value: 10, per_unit_amount: '5', flat_amount: '0' },
            { from_value: 20, to_value: null, per_unit_amount: '4', flat_amount: '0' },
          ],
        },
      },
      { graduated_ranges: ['invalid_graduated_ranges'] },
    ],
    [
      'volume ranges without a per-unit amount',
      {
        charge_model: 'volume',
        properties: { volume_ranges: [{ from_value: 0, to_value: null, flat_amount: '0' }] },
      },
      { per_unit_amount: ['invalid_amount'] },
    ],
    [
      'empty volume ranges',
      { charge_model: 'volume', properties: { volume_ranges: [] } },
      { volume_ranges: ['missing_volume_ranges'] },
    ],
    ['an unknown charge model', { charge_model: 'tiered' }, { charge_model: ['value_is_invalid'] }],
    ['no charge model', {}, { charge_model: ['value_is_invalid'] }],
    [
      'pay in advance on a max metric',
      { charge_model: 'standard', pay_in_advance: true, billable_metric: 'peak' },
      {
        pay_in_advance: ['invalid_aggregation_type_or_charge_model'],
      },
    ],
    [
      'a minimum on a pay-in-advance charge',
      { charge_model: 'standard', pay_in_advance: true, min_amount_cents: 100 },
      {
        min_amount_cents: ['not_compatible_with_pay_in_advance'],
      },
    ],
    [
      'a negative minimum',
      { charge_model: 'standard', min_amount_cents: -5 },
      { min_amount_cents: ['value_is_out_of_range'] },
    ],
    [
      'properties as a list',
      { charge_model: 'standard', properties: ['10'] },
      { properties: ['value_is_invalid'] },
    ],
    [
      'a NUL in the display name',
      { charge_model: 'standard', invoice_display_name: 'a\u0000' },
      {
        invoice_display_name: ['value_is_invalid'],
      },
    ],
  ])(
    'refuses a charge with %s (422, keyed like Lago by the charge attribute)',
    async (_case, charge, details) => {
      const { billable_metric, ...rest } = charge as { billable_metric?: string };
      const res = await a.post('/api/v1/plans', {
        plan: plan({
          code: 'refused',
          charges: [{ billable_metric_id: metrics[billable_metric ?? 'calls']!.lago_id, ...rest }],
        }),
      });
      expect(res.status).toBe(422);
      expect(res.body).toEqual(validationError(details));
    },
  );

  it('accepts decimal amounts written as strings', async () => {
    for (const [i, amount] of ['0', '10', '10.50', '0.0001'].entries()) {
      const res = await a.post('/api/v1/plans', {
        plan: plan({
          code: `amount_${i}`,
          charges: [
            { billable_metric_id: metrics.calls!.lago_id, charge_model: 'standard', properties: { amount } },
          ],
        }),
      });
      expect(res.status).toBe(200);
      expect(res.body.plan.charges[0].properties).toEqual({ amount });
    }
  });

  it('refuses two charges with the same explicit code', async () => {
    const res = await a.post('/api/v1/plans', {
      plan: plan({
        code: 'same_codes',
        charges: [
          { billable_metric_id: metrics.calls!.lago_id, charge_model: 'standard', code: 'x' },
          { billable_metric_id: metrics.gb!.lago_id, charge_model: 'standard', code: 'x' },
        ],
      }),
    });
    expect(res.body).toEqual(validationError({ code: ['value_already_exist'] }));
  });

  it('answers 404 billable_metrics_not_found for an unknown, foreign or deleted metric', async () => {
    const doomed = await metric('doomed', 'count_agg', false);
    await a.delete('/api/v1/billable_metrics/doomed');
    for (const id of ['00000000-0000-4000-8000-000000000000', metrics.foreign!.lago_id, doomed.lago_id]) {
      const res = await a.post('/api/v1/plans', {
        plan: plan({
          code: 'missing_metric',
          charges: [{ billable_metric_id: id, charge_model: 'standard' }],
        }),
      });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(notFoundError('billable_metrics_not_found'));
    }
    const noId = await a.post('/api/v1/plans', {
      plan: plan({ code: 'missing_metric', charges: [{ charge_model: 'standard' }] }),
    });
    expect(noId.body).toEqual(validationError({ billable_metric_id: ['value_is_mandatory'] }));
  });

  it('answers 404 tax_not_found for tax codes (prorata has no taxes)', async () => {
    const res = await a.post('/api/v1/plans', { plan: plan({ code: 'taxed', tax_codes: ['vat'] }) });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFoundError('tax_not_found'));
    const empty = await a.post('/api/v1/plans', { plan: plan({ code: 'untaxed', tax_codes: [] }) });
    expect(empty.status).toBe(200);
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    [
      'nothing',
      {},
      {
        name: ['value_is_mandatory'],
        code: ['value_is_mandatory'],
        interval: ['value_is_invalid'],
        amount_cents: ['value_is_mandatory'],
        amount_currency: ['value_is_invalid'],
        pay_in_advance: ['value_is_mandatory'],
      },
    ],
    ['an unknown interval', { interval: 'daily' }, { interval: ['value_is_invalid'] }],
    ['negative cents', { amount_cents: -1 }, { amount_cents: ['value_is_out_of_range'] }],
    ['fractional cents', { amount_cents: 1.5 }, { amount_cents: ['value_is_invalid'] }],
    ['cents beyond 2^53', { amount_cents: 2 ** 60 }, { amount_cents: ['value_is_invalid'] }],
    ['cents as a string', { amount_cents: '100' }, { amount_cents: ['value_is_invalid'] }],
    ['a lower-case currency', { amount_currency: 'usd' }, { amount_currency: ['value_is_invalid'] }],
    ['an unknown currency', { amount_currency: 'XYZ' }, { amount_currency: ['value_is_invalid'] }],
    ['a negative trial', { trial_period: -1 }, { trial_period: ['value_is_out_of_range'] }],
    ['charges as an object', { charges: { a: 1 } }, { charges: ['value_is_invalid'] }],
    ['a used code', { code: 'per_seat' }, { code: ['value_already_exist'] }],
  ])('refuses a plan with %s (422)', async (_case, overrides, details) => {
    const body = _case === 'nothing' ? { description: 'only' } : plan({ code: 'refused_plan', ...overrides });
    const res = await a.post('/api/v1/plans', { plan: body });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(validationError(details));
  });

  it('answers 400 without the plan root and 401 without a key', async () => {
    const res = await a.post('/api/v1/plans', { name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(missingRootError('plan'));
    const unauthorized = await as(null, h.app).post('/api/v1/plans', { plan: plan() });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body).toEqual(UNAUTHORIZED);
  });

  it('updates a plan: fields kept unless sent, charges replaced (an `id` keeps its charge), hook called', async () => {
    const created = (
      await a.post('/api/v1/plans', {
        plan: plan({
          code: 'editable',
          description: 'before',
          charges: [
            {
              billable_metric_id: metrics.seats!.lago_id,
              charge_model: 'standard',
              code: 'keep',
              properties: { amount: '1' },
            },
            { billable_metric_id: metrics.calls!.lago_id, charge_model: 'standard', code: 'drop' },
          ],
        }),
      })
    ).body.plan;
    const kept = created.charges[0];
    h.planUpdates.length = 0;
    const res = await a.put('/api/v1/plans/editable', {
      plan: {
        name: 'Edited',
        amount_cents: 500,
        charges: [
          {
            id: kept.lago_id,
            billable_metric_id: metrics.seats!.lago_id,
            charge_model: 'standard',
            code: 'keep',
            properties: { amount: '2' },
            prorated: true,
          },
          { billable_metric_id: metrics.gb!.lago_id, charge_model: 'standard', properties: { amount: '3' } },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.plan).toMatchObject({
      lago_id: created.lago_id,
      name: 'Edited',
      description: 'before',
      amount_cents: 500,
      code: 'editable',
      created_at: created.created_at,
    });
    expect(res.body.plan.charges).toMatchObject([
      {
        lago_id: kept.lago_id,
        code: 'keep',
        properties: { amount: '2' },
        prorated: true,
        created_at: kept.created_at,
      },
      { code: 'gb', billable_metric_code: 'gb', properties: { amount: '3' } },
    ]);
    expect(res.body.plan.charges[1].lago_id).not.toBe(created.charges[1].lago_id);
    expect(h.planUpdates).toEqual([[h.a.organization._id, 'editable']]);

    const untouched = await a.put('/api/v1/plans/editable', { plan: { description: null, charges: null } });
    expect(untouched.body.plan.description).toBeNull();
    expect(untouched.body.plan.charges).toHaveLength(2);

    const recoded = await a.put('/api/v1/plans/editable', { plan: { code: 'edited', interval: 'yearly' } });
    expect(recoded.body.plan).toMatchObject({
      code: 'edited',
      interval: 'yearly',
      bill_charges_monthly: false,
    });
    expect(h.planUpdates.at(-1)).toEqual([h.a.organization._id, 'edited']);
    expect((await a.get('/api/v1/plans/editable')).status).toBe(404);

    const cleared = await a.put('/api/v1/plans/edited', { plan: { charges: [] } });
    expect(cleared.body.plan.charges).toEqual([]);
  });

  it('refuses an update breaking a rule and leaves the plan unchanged', async () => {
    const before = (await a.get('/api/v1/plans/per_seat')).body.plan;
    const taken = await a.put('/api/v1/plans/per_seat', { plan: { code: 'defaults' } });
    expect(taken.body).toEqual(validationError({ code: ['value_already_exist'] }));
    const prorated = await a.put('/api/v1/plans/per_seat', {
      plan: {
        charges: [{ billable_metric_id: metrics.gb!.lago_id, charge_model: 'standard', prorated: true }],
      },
    });
    expect(prorated.body).toEqual(validationError({ prorated: ['invalid_billable_metric_or_charge_model'] }));
    const blank = await a.put('/api/v1/plans/per_seat', { plan: { name: '' } });
    expect(blank.body).toEqual(validationError({ name: ['value_is_mandatory'] }));
    const unknownMetric = await a.put('/api/v1/plans/per_seat', {
      plan: { charges: [{ billable_metric_id: metrics.foreign!.lago_id, charge_model: 'standard' }] },
    });
    expect(unknownMetric.body).toEqual(notFoundError('billable_metrics_not_found'));
    expect((await a.get('/api/v1/plans/per_seat')).body.plan).toEqual(before);
    expect((await a.put('/api/v1/plans/nope', { plan: { name: 'x' } })).body).toEqual(
      notFoundError('plan_not_found'),
    );
    expect((await a.put('/api/v1/plans/per_seat', {})).body).toEqual(missingRootError('plan'));
  });

  it('soft-deletes a plan: pending_deletion true, then 404, and the code can be reused', async () => {
    const created = (await a.post('/api/v1/plans', { plan: plan({ code: 'doomed_plan' }) })).body.plan;
    const deleted = await a.delete('/api/v1/plans/doomed_plan');
    expect(deleted.status).toBe(200);
    expect(deleted.body.plan).toMatchObject({
      lago_id: created.lago_id,
      code: 'doomed_plan',
      pending_deletion: true,
    });
    expect((await a.get('/api/v1/plans/doomed_plan')).body).toEqual(notFoundError('plan_not_found'));
    expect((await a.delete('/api/v1/plans/doomed_plan')).status).toBe(404);
    const again = await a.post('/api/v1/plans', { plan: plan({ code: 'doomed_plan' }) });
    expect(again.status).toBe(200);
    expect(again.body.plan.lago_id).not.toBe(created.lago_id);
  });

  it('lists plans with their charges’ metric codes and Lago’s pagination meta', async () => {
    const all = await a.get('/api/v1/plans?per_page=1000');
    const total = all.body.meta.total_count as number;
    expect(all.body.plans).toHaveLength(total);
    const perSeat = all.body.plans.find((p: { code: string }) => p.code === 'per_seat');
    expect(perSeat.charges[0]).toMatchObject({
      billable_metric_code: 'seats',
      lago_billable_metric_id: metrics.seats!.lago_id,
    });
    const page2 = await a.get('/api/v1/plans?per_page=3&page=2');
    expect(page2.body.meta).toEqual({
      current_page: 2,
      next_page: total > 6 ? 3 : null,
      prev_page: 1,
      total_pages: Math.ceil(total / 3),
      total_count: total,
    });
    expect(page2.body.plans).toHaveLength(3);
  });

  it('isolates organizations', async () => {
    expect((await b.get('/api/v1/plans/per_seat')).body).toEqual(notFoundError('plan_not_found'));
    expect((await b.put('/api/v1/plans/per_seat', { plan: { name: 'x' } })).status).toBe(404);
    expect((await b.delete('/api/v1/plans/per_seat')).status).toBe(404);
    expect((await b.get('/api/v1/plans')).body.meta.total_count).toBe(0);
    const own = await b.post('/api/v1/plans', {
      plan: plan({
        charges: [{ billable_metric_id: metrics.foreign!.lago_id, charge_model: 'standard', prorated: true }],
      }),
    });
    expect(own.status).toBe(200);
    const codesA = (await a.get('/api/v1/plans?per_page=1000')).body.plans.map(
      (p: { lago_id: string }) => p.lago_id,
    );
    expect(codesA).not.toContain(own.body.plan.lago_id);
    expect((await b.get('/api/v1/plans')).body.meta.total_count).toBe(1);
  });
});
