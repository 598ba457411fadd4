import { parseScenario } from '../../../src/contracts/scenario';
import { simulate, simulationOutput } from '../../../src/billing';

/** A $31 monthly plan (in arrears) with a trial, started 2024-03-05 UTC; March D = 31, April D = 30. */
function invoicesWithTrial(trialPeriod: number) {
  const parsed = parseScenario({
    customer: { external_id: 'trial-co' },
    billable_metrics: [
      { code: 'seats', aggregation_type: 'unique_count_agg', field_name: 'user_id', recurring: true },
    ],
    plan: {
      code: 'pro',
      interval: 'monthly',
      amount_cents: 3100,
      amount_currency: 'USD',
      trial_period: trialPeriod,
      charges: [
        {
          billable_metric_code: 'seats',
          charge_model: 'standard',
          prorated: true,
          properties: { amount: '10' },
        },
      ],
    },
    subscription: { external_id: 'trial-sub', subscription_at: '2024-03-05T10:00:00Z' },
    events: [
      {
        transaction_id: 'a',
        code: 'seats',
        timestamp: '2024-03-06T00:00:00Z',
        properties: { user_id: 'u1' },
      },
    ],
    as_of: '2024-05-01T00:00:00Z',
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const out = simulationOutput(simulate(parsed.input), parsed.input.metrics);
  return out.invoices.map((i) => i.fees.map((f) => [f.fee_type, f.amount_cents]));
}

describe('trials through prorata simulate (SPEC section 8): the subscription fee leaves out trial days, charges bill as usual', () => {
  it('10-day trial: March pays 03-15..03-31, 17 of 31 days of $31 = 1700; April in full', () => {
    // Seat u1 from 03-06: 26/31 → ceil5 0.83871 × $10 → 839; April 30/30 → 1000.
    expect(invoicesWithTrial(10)).toEqual([
      [
        ['subscription', 1700],
        ['charge', 839],
      ],
      [
        ['subscription', 3100],
        ['charge', 1000],
      ],
    ]);
  });

  it('40-day trial: March pays nothing, April pays 04-14..04-30, 17 of 30 days → round(3100 × 17 / 30) = 1757', () => {
    expect(invoicesWithTrial(40)).toEqual([
      [
        ['subscription', 0],
        ['charge', 839],
      ],
      [
        ['subscription', 1757],
        ['charge', 1000],
      ],
    ]);
  });

  it('refuses a fractional trial_period in a scenario', () => {
    const parsed = parseScenario({ plan: { trial_period: 1.5 } });
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.path)).toContain('$.plan.trial_period');
  });
});
