/**
 * `prorata simulate` with plan changes (SPEC section 8): `plans`, `subscription.plan_code` and
 * `subscription.plan_changes`; every invoice names the plan it bills.
 */
import fc from 'fast-check';
import { parseScenario, type Scenario } from '../../../src/contracts/scenario';
import { lagoSimulatedInvoice, simulate, type SimulationInput } from '../../../src/billing';

const metric = {
  code: 'seats',
  aggregation_type: 'unique_count_agg',
  field_name: 'user_id',
  recurring: true,
} as const;
const planOf = (code: string, amountCents: number, price: string) => ({
  code,
  interval: 'monthly' as const,
  amount_cents: amountCents,
  amount_currency: 'USD' as const,
  charges: [
    {
      billable_metric_code: 'seats',
      charge_model: 'standard',
      prorated: true,
      properties: { amount: price },
    },
  ],
});
const seatEvent = (id: string, user: string, op: 'add' | 'remove', timestamp: string) => ({
  transaction_id: id,
  code: 'seats',
  timestamp,
  properties: { user_id: user, operation_type: op },
});

function scenario(
  extra: { plan_changes?: { at: string; plan_code: string }[]; plan_code?: string },
  events: unknown[],
  asOf: string,
) {
  return {
    customer: { external_id: 'acme' },
    billable_metrics: [metric],
    plans: [planOf('team', 3000, '10'), planOf('business', 6000, '20')],
    subscription: {
      external_id: 'acme_main',
      subscription_at: '2024-03-01T00:00:00Z',
      plan_code: extra.plan_code ?? 'team',
      plan_changes: extra.plan_changes,
    },
    events,
    as_of: asOf,
  };
}

function run(value: unknown) {
  const parsed = parseScenario(value);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const result = simulate(parsed.input);
  return result.invoices.map((s) => lagoSimulatedInvoice(s, parsed.input.metrics));
}

describe('prorata simulate: plan changes', () => {
  it('Team -> Business on March 16th 14:00 with seats added before and after: Team 1452 + 484, Business 3097 + 1806', () => {
    const invoices = run(
      scenario(
        { plan_changes: [{ at: '2024-03-16T14:00:00Z', plan_code: 'business' }] },
        [
          seatEvent('e1', 'u1', 'add', '2024-03-01T09:00:00Z'),
          seatEvent('e2', 'u2', 'add', '2024-03-20T09:00:00Z'),
        ],
        '2024-04-01T00:00:00Z',
      ),
    );
    // Team, March 1-15 (terminated at the upgrade): fee 3000 × 15/31 → 1452; u1 15/31 → 0.48388 × $10 → 484.
    // Business, March 16-31: fee 6000 × 16/31 → 3097; u1 16/31 → 0.51613 × $20 → 1032,
    // u2 March 20-31 = 12 days; one fee for both: (16 + 12)/31 → 0.90323 × $20 → 1806.5 → 1806.
    expect(
      invoices.map((i) => [
        i.plan_code,
        i.invoicing_reason,
        i.from_datetime,
        i.to_datetime,
        i.fees.map((f) => f.amount_cents),
      ]),
    ).toEqual([
      ['team', 'subscription_terminating', '2024-03-01T00:00:00Z', '2024-03-15T23:59:59Z', [1452, 484]],
      ['business', 'subscription_periodic', '2024-03-16T00:00:00Z', '2024-03-31T23:59:59Z', [3097, 1806]],
    ]);
  });

  it('Business -> Team asked on March 10th is a downgrade: Business bills all of March, Team from April 1st', () => {
    const invoices = run(
      scenario(
        { plan_code: 'business', plan_changes: [{ at: '2024-03-10T12:00:00Z', plan_code: 'team' }] },
        [
          seatEvent('e1', 'u1', 'add', '2024-03-01T09:00:00Z'),
          seatEvent('e2', 'u2', 'add', '2024-04-11T09:00:00Z'),
        ],
        '2024-05-01T00:00:00Z',
      ),
    );
    // March on Business: 6000 + u1 31/31 × $20 = 2000. April on Team: 3000 + u1 30/30 × $10 = 1000,
    // u2 April 11-30 = 20 days; (30 + 20)/30 → 1.66667 × $10 → 1666.67 → 1667.
    expect(
      invoices.map((i) => [
        i.plan_code,
        i.invoicing_reason,
        i.from_datetime,
        i.fees.map((f) => f.amount_cents),
      ]),
    ).toEqual([
      ['business', 'subscription_periodic', '2024-03-01T00:00:00Z', [6000, 2000]],
      ['team', 'subscription_periodic', '2024-04-01T00:00:00Z', [3000, 1667]],
    ]);
  });

  it('refuses unknown plan codes, changes out of order and a missing plan_code with several plans', () => {
    const bad = scenario(
      {
        plan_changes: [
          { at: '2024-03-16T00:00:00Z', plan_code: 'gold' },
          { at: '2024-03-10T00:00:00Z', plan_code: 'team' },
        ],
      },
      [],
      '2024-04-01T00:00:00Z',
    ) as Record<string, unknown> & { subscription: Record<string, unknown> };
    delete bad.subscription.plan_code;
    const parsed = parseScenario(bad);
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.path)).toEqual([
      '$.subscription.plan_code',
      '$.subscription.plan_changes[0].plan_code',
      '$.subscription.plan_changes[1].at',
    ]);
  });

  it('takes `plan` alone as before', () => {
    const single = {
      ...scenario({}, [], '2024-04-01T00:00:00Z'),
      plan: planOf('team', 3000, '10'),
    } as Record<string, unknown> & { subscription: Record<string, unknown> };
    delete single.plans;
    delete single.subscription.plan_code;
    expect(run(single).map((i) => [i.plan_code, i.total_amount_cents])).toEqual([['team', 3000]]);
  });
});

describe('plan change invariants through prorata simulate', () => {
  const DAY = 86_400_000;
  const START = Date.UTC(2024, 2, 1);
  const instant = fc.integer({ min: -20 * 24, max: 90 * 24 }).map((h) => START + h * 3_600_000);
  const history = fc.array(
    fc.record({
      user: fc.constantFrom('u1', 'u2', 'u3'),
      op: fc.constantFrom<'add' | 'remove'>('add', 'remove'),
      at: instant,
    }),
    { maxLength: 20 },
  );
  const change = fc.record({
    hours: fc.integer({ min: 0, max: 85 * 24 }),
    plan: fc.constantFrom('team', 'business', 'enterprise'),
  });

  it('an upgrade never bills a seat-day twice nor skips one: seat-days summed over all invoices equal those without plan changes', () => {
    fc.assert(
      fc.property(
        history,
        fc.array(change, { maxLength: 3 }),
        fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata'),
        (events, changes, timezone) => {
          const base = {
            // Every zone's May is closed by June 2nd: both runs have invoiced the same days.
            ...scenario({}, [], '2024-06-02T00:00:00Z'),
            customer: { external_id: 'acme', timezone },
            plans: [
              planOf('team', 3000, '10'),
              planOf('business', 6000, '20'),
              planOf('enterprise', 9000, '30'),
            ],
            events: events.map((e, i) => seatEvent(`e${i}`, e.user, e.op, new Date(e.at).toISOString())),
          } as unknown as Scenario;
          const withChanges = {
            ...base,
            subscription: {
              ...base.subscription,
              plan_changes: [...changes]
                .sort((a, b) => a.hours - b.hours)
                .map((c) => ({ at: new Date(START + c.hours * 3_600_000).toISOString(), plan_code: c.plan })),
            },
          };
          const seatDays = (value: unknown) => {
            const parsed = parseScenario(value);
            if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
            const input: SimulationInput = parsed.input;
            const days = new Map<string, number>();
            let feeDays = 0;
            for (const s of simulate(input, { explain: true }).invoices) {
              for (const fee of s.invoice.fees) {
                if (fee.feeType === 'subscription') feeDays += fee.usedDays;
                else
                  for (const seat of fee.seats ?? [])
                    days.set(seat.seatKey, (days.get(seat.seatKey) ?? 0) + seat.days);
              }
            }
            return { seats: Object.fromEntries([...days].filter(([, d]) => d > 0).sort()), feeDays };
          };
          const plain = seatDays(base);
          const changed = seatDays(withChanges);
          expect(changed).toEqual(plain);
          // In UTC, March to May are closed by as_of: 92 days of subscription fee.
          if (timezone === 'UTC') expect(plain.feeDays).toBe((Date.UTC(2024, 5, 1) - START) / DAY);
        },
      ),
      { numRuns: 150 },
    );
  });
});
