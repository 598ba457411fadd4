import { z } from 'zod';
import { billableMetricRuleErrors } from '../../../src/contracts/lago/billable-metric';
import { isTimeZone, isEmailList } from '../../../src/contracts/lago/customer';
import { lagoFieldDetails, parseLagoInput } from '../../../src/contracts/lago/error-details';
import { tierRangeErrors, tierRangesOf } from '../../../src/contracts/lago/charge-ranges';
import { chargeProperties, chargeRuleErrors, planCreateInput } from '../../../src/contracts/lago/plan';
import { isWebhookUrl } from '../../../src/contracts/lago/webhook-endpoint';

describe('Lago request contracts', () => {
  it('keys error details by top-level field, or by the inner attribute of a flattened container', () => {
    const schema = z.object({
      name: z.string(),
      charges: z.array(
        z.object({ properties: z.object({ amount: z.string().refine(() => false, 'invalid_amount') }) }),
      ),
      nested: z.object({ deep: z.number() }),
    });
    const parsed = schema.safeParse({ charges: [{ properties: { amount: '1' } }], nested: { deep: 'x' } });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(lagoFieldDetails(parsed.error, ['charges'])).toEqual({
      name: ['value_is_mandatory'],
      properties: ['invalid_amount'],
      nested: ['value_is_invalid'],
    });
    expect(lagoFieldDetails(parsed.error)).toEqual({
      name: ['value_is_mandatory'],
      charges: ['invalid_amount'],
      nested: ['value_is_invalid'],
    });
    expect(parseLagoInput(z.object({ a: z.string() }), 'scalar')).toEqual({
      ok: false,
      details: { base: ['value_is_invalid'] },
    });
  });

  it('strips unknown plan fields (Lago ignores them)', () => {
    const parsed = planCreateInput.parse({
      name: 'n',
      code: 'c',
      interval: 'monthly',
      amount_cents: 0,
      amount_currency: 'EUR',
      pay_in_advance: false,
      minimum_commitment: { amount_cents: 1 },
    });
    expect(parsed).not.toHaveProperty('minimum_commitment');
  });

  it.each([
    [{ aggregation_type: 'count_agg', field_name: null, recurring: false, weighted_interval: null }, {}],
    [
      { aggregation_type: 'unique_count_agg', field_name: ' ', recurring: true, weighted_interval: null },
      { field_name: ['value_is_mandatory'] },
    ],
    [
      { aggregation_type: 'latest_agg', field_name: 'v', recurring: true, weighted_interval: null },
      { recurring: ['not_compatible_with_aggregation_type'] },
    ],
    [
      { aggregation_type: 'weighted_sum_agg', field_name: 'v', recurring: true, weighted_interval: null },
      { weighted_interval: ['value_is_invalid'] },
    ],
  ] as const)('billable metric rules: %j -> %j', (metric, expected) => {
    expect(billableMetricRuleErrors(metric)).toEqual(expected);
  });

  it('defaults and filters charge properties like Lago', () => {
    expect(chargeProperties('standard', null)).toEqual({ amount: '0' });
    expect(chargeProperties('standard', {})).toEqual({ amount: '0' });
    expect(chargeProperties('standard', { amount: '5', rate: '1', grouped_by: ['a'] })).toEqual({
      amount: '5',
      grouped_by: ['a'],
    });
    expect(chargeProperties('dynamic', null)).toEqual({});
    expect(chargeProperties('percentage', { rate: '2', x: 1 })).toEqual({ rate: '2', x: 1 });
  });

  it('reports every broken charge rule at once', () => {
    expect(
      chargeRuleErrors(
        { charge_model: 'volume', pay_in_advance: true, prorated: true, min_amount_cents: 1, properties: {} },
        { aggregation_type: 'unique_count_agg', recurring: true },
      ),
    ).toEqual({
      prorated: ['invalid_billable_metric_or_charge_model'],
      pay_in_advance: ['invalid_aggregation_type_or_charge_model'],
      min_amount_cents: ['not_compatible_with_pay_in_advance'],
      volume_ranges: ['missing_volume_ranges'],
    });
  });

  it('accepts the time zones Intl knows, and only those', () => {
    for (const tz of ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata'])
      expect(isTimeZone(tz)).toBe(true);
    for (const tz of ['', ' ', 'Mars/Olympus', 'GMT+12', '+01:00', 'Europe/Paris\u0000'])
      expect(isTimeZone(tz)).toBe(false);
  });

  it('checks e-mail lists and webhook URLs like Lago', () => {
    expect(isEmailList('a@b.c')).toBe(true);
    expect(isEmailList('a@b.c, d.e@f-g.h')).toBe(true);
    expect(isEmailList('a@b.c,')).toBe(false);
    expect(isEmailList('nope')).toBe(false);
    expect(isWebhookUrl('https://hooks.example.test/x?y=1')).toBe(true);
    expect(isWebhookUrl('http://127.0.0.1:8080')).toBe(true);
    expect(isWebhookUrl('mailto:a@b.c')).toBe(false);
    expect(isWebhookUrl('example.test/hook')).toBe(false);
  });

  describe('tier ranges: Lago spec/services/charges/validators/graduated_service_spec.rb and volume_service_spec.rb', () => {
    const valid = [
      { from_value: 0, to_value: 10, per_unit_amount: '0', flat_amount: '0' },
      { from_value: 11, to_value: 20, per_unit_amount: '10', flat_amount: '20' },
      { from_value: 21, to_value: null, per_unit_amount: '15', flat_amount: '30' },
    ];
    const priced = { per_unit_amount: '1', flat_amount: '0' };
    it.each<[string, unknown, Record<string, string[]>]>([
      ['the spec charge (integer tiers)', valid, {}],
      ['"with empty ranges"', [], { X: ['missing_X'] }],
      ['"with no ranges"', undefined, { X: ['missing_X'] }],
      [
        '"when ranges does not starts at 0"',
        [{ from_value: -1, to_value: 100, ...priced }],
        { X: ['invalid_X'] },
      ],
      [
        '"when ranges does not ends at infinity"',
        [{ from_value: 0, to_value: 100, ...priced }],
        { X: ['invalid_X'] },
      ],
      [
        '"when ranges have holes"',
        [
          { from_value: 0, to_value: 100, ...priced },
          { from_value: 120, to_value: 100, ...priced },
        ],
        { X: ['invalid_X'] },
      ],
      [
        '"when ranges are overlapping"',
        [
          { from_value: 0, to_value: 100, ...priced },
          { from_value: 90, to_value: 100, ...priced },
        ],
        { X: ['invalid_X'] },
      ],
      [
        '"with no range per unit amount"',
        [{ from_value: 0, to_value: null, flat_amount: '0' }],
        { per_unit_amount: ['invalid_amount'] },
      ],
      [
        '"with invalid range per unit amount"',
        [{ from_value: 0, to_value: null, per_unit_amount: 'foo', flat_amount: '0' }],
        { per_unit_amount: ['invalid_amount'] },
      ],
      [
        '"with negative range per unit amount"',
        [{ from_value: 0, to_value: null, per_unit_amount: '-2', flat_amount: '0' }],
        { per_unit_amount: ['invalid_amount'] },
      ],
      [
        '"with no range flat amount"',
        [{ from_value: 0, to_value: null, per_unit_amount: '0' }],
        { flat_amount: ['invalid_amount'] },
      ],
      [
        '"with invalid range flat amount"',
        [{ from_value: 0, to_value: null, per_unit_amount: '0', flat_amount: 'foo' }],
        { flat_amount: ['invalid_amount'] },
      ],
      [
        '"with negative range flat amount"',
        [{ from_value: 0, to_value: null, per_unit_amount: '0', flat_amount: '-2' }],
        { flat_amount: ['invalid_amount'] },
      ],
    ])('%s gives the same errors for graduated and volume', (_case, ranges, expected) => {
      for (const model of ['graduated', 'volume'] as const) {
        const key = `${model}_ranges`;
        const errors = Object.fromEntries(
          Object.entries(expected).map(([field, codes]) => [
            field === 'X' ? key : field,
            codes.map((c) => c.replace('X', key)),
          ]),
        );
        expect(tierRangeErrors(model, ranges === undefined ? {} : { [key]: ranges })).toEqual(errors);
      }
    });

    it('graduated adjacent ranges ("with decimal adjacent ranges") are valid, and a gap is not', () => {
      const adjacent = [
        { from_value: 0, to_value: 0.1, per_unit_amount: '10', flat_amount: '0' },
        { from_value: 0.1, to_value: 1, per_unit_amount: '5', flat_amount: '0' },
        { from_value: 1, to_value: null, per_unit_amount: '2', flat_amount: '0' },
      ];
      expect(tierRangeErrors('graduated', { graduated_ranges: adjacent })).toEqual({});
      const gap = [
        { from_value: 0, to_value: 0.1, per_unit_amount: '10', flat_amount: '0' },
        { from_value: 0.5, to_value: null, per_unit_amount: '5', flat_amount: '0' },
      ];
      expect(tierRangeErrors('graduated', { graduated_ranges: gap })).toEqual({
        graduated_ranges: ['invalid_graduated_ranges'],
      });
    });

    it('volume ranges start one past the previous upper bound (0-100 then 100-… is refused)', () => {
      const shared = [
        { from_value: 0, to_value: 100, per_unit_amount: '2', flat_amount: '0' },
        { from_value: 100, to_value: null, per_unit_amount: '1', flat_amount: '0' },
      ];
      expect(tierRangeErrors('volume', { volume_ranges: shared })).toEqual({
        volume_ranges: ['invalid_volume_ranges'],
      });
      expect(tierRangeErrors('graduated', { graduated_ranges: shared })).toEqual({});
    });

    it('maps valid ranges once to billing tiers (bounds as exact decimal strings), and refuses to map invalid ones', () => {
      expect(tierRangesOf('graduated', { graduated_ranges: valid })).toEqual([
        { fromValue: '0', toValue: '10', perUnitAmount: '0', flatAmount: '0' },
        { fromValue: '11', toValue: '20', perUnitAmount: '10', flatAmount: '20' },
        { fromValue: '21', toValue: null, perUnitAmount: '15', flatAmount: '30' },
      ]);
      expect(tierRangesOf('volume', { volume_ranges: [] })).toBeNull();
    });

    it('keeps only the ranges of a tiered charge, and gives Lago defaults when none are sent', () => {
      expect(chargeProperties('graduated', { graduated_ranges: valid, amount: '3' })).toEqual({
        graduated_ranges: valid,
      });
      expect(chargeProperties('volume', null)).toEqual({
        volume_ranges: [{ from_value: 0, to_value: null, flat_amount: '0', per_unit_amount: '0' }],
      });
    });
  });
});
