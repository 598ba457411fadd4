import { z } from 'zod';
import { billableMetricRuleErrors } from '../../../src/contracts/lago/billable-metric';
import { isTimeZone, isEmailList } from '../../../src/contracts/lago/customer';
import { lagoFieldDetails, parseLagoInput } from '../../../src/contracts/lago/error-details';
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
});
