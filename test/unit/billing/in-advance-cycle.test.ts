import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseScenario } from '../../../src/contracts/scenario';
import {
  closePeriod,
  issueInAdvanceInvoices,
  openCycle,
  recordEvent,
  simulate,
  termsOf,
  simulationOutput,
  type ChargeFee,
  type Plan,
  type SimulationInput,
} from '../../../src/billing';
import { at, seatPlan, seatsMetric } from './billing-stories';

const scenarios = join(__dirname, '..', '..', 'fixtures', 'scenarios');

function scenarioInput(overrides: (scenario: Record<string, unknown>) => void = () => undefined) {
  const scenario = JSON.parse(readFileSync(join(scenarios, 'pay-in-advance.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  overrides(scenario);
  const parsed = parseScenario(scenario);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.input;
}

function output(input: SimulationInput) {
  return simulationOutput(simulate(input), input.metrics);
}

describe('pay-in-advance seats through the billing cycle (SPEC section 8), test/fixtures/scenarios/pay-in-advance.json', () => {
  it('bills each add once when it arrives, renews the seats active at each period start, never refunds', () => {
    // $10 per seat, calendar monthly, UTC, started 2024-03-01T00:00Z. March D = 31, April D = 30.
    // March has no renewal (first period): u1 (added in February) is billed at started_at for 31/31
    // = $10; u2 on 03-10: 22/31 → ceil5 0.70968 → $7.0968 → 710; u2 removed 03-15 and re-added 03-20:
    // nothing more; u3 on 03-25: 7/31 → 0.22581 → 226, its removal on 03-28 refunds nothing.
    // 04-01: the periodic invoice renews u1 and u2 in full: 2 × $10 = 2000 (fees from 04-01).
    // u4 on 04-16: 15/30 = 0.5 → 500; u1 removed 04-20. 05-01: renewal of u2 and u4 = 2000.
    const out = output(scenarioInput());
    expect(
      out.invoices.map((i) => [
        i.invoicing_reason,
        i.issuing_date,
        i.total_amount_cents,
        i.fees.map((f) => [f.fee_type, f.pay_in_advance, f.units, f.prorated_units, f.amount_cents]),
      ]),
    ).toEqual([
      ['in_advance_charge', '2024-03-01', 1000, [['charge', true, '1.0', '1.0', 1000]]],
      ['in_advance_charge', '2024-03-10', 710, [['charge', true, '1.0', '0.70968', 710]]],
      ['in_advance_charge', '2024-03-25', 226, [['charge', true, '1.0', '0.22581', 226]]],
      [
        'subscription_periodic',
        '2024-04-01',
        2000,
        [
          ['subscription', false, '1.0', null, 0],
          ['charge', true, '2.0', null, 2000],
        ],
      ],
      ['in_advance_charge', '2024-04-16', 500, [['charge', true, '1.0', '0.5', 500]]],
      [
        'subscription_periodic',
        '2024-05-01',
        2000,
        [
          ['subscription', false, '1.0', null, 0],
          ['charge', true, '2.0', null, 2000],
        ],
      ],
    ]);
    expect(out.invoices.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `ACM-001-00${n}`));
  });

  it('shows in current usage what was billed in the period, which never drops after a removal', () => {
    // As of 04-25: April renewal (u1, u2: 2000) + u4 (500); u1 left on 04-20 and still counts.
    const usage = output(
      scenarioInput((s) => {
        s.as_of = '2024-04-25T00:00:00Z';
      }),
    ).current_usage;
    expect(usage?.charges_usage.map((c) => [c.units, c.prorated_units, c.amount_cents])).toEqual([
      ['3.0', '2.5', 2500],
    ]);
    expect(usage?.amount_cents).toBe(2500);
  });

  it('bills a pay-in-advance charge nothing on the terminating invoice while an arrears charge on the same plan is billed as usual', () => {
    // Second charge in arrears: 'admins' ($5). Terminated 04-10: the in-advance seats were paid.
    const input = scenarioInput((s) => {
      s.subscription = { ...(s.subscription as object), terminated_at: '2024-04-10T12:00:00Z' };
      s.as_of = '2024-04-11T00:00:00Z';
      (s.plan as { charges: unknown[] }).charges.push({
        code: 'admin_fee',
        billable_metric_code: 'seats',
        charge_model: 'standard',
        prorated: true,
        properties: { amount: '5' },
      });
    });
    const out = output(input);
    const last = out.invoices[out.invoices.length - 1];
    expect(last?.invoicing_reason).toBe('subscription_terminating');
    // Arrears: u1 and u2 from 04-01 to 04-10 = 20 seat-days of 30 → 0.66667 × $5 → 333.
    expect(last?.fees.map((f) => [f.charge_code, f.pay_in_advance, f.amount_cents])).toEqual([
      [null, false, 0],
      ['admin_fee', false, 333],
    ]);
    // March's periodic invoice: the arrears charge (u1 31 days + u2 03-10..03-15 and 03-20..03-31
    // = 6 + 12 + u3 03-25..03-28 = 4: 53 seat-days of 31 → ceil5 1.70968 × $5 → 855) plus the renewal.
    expect(out.invoices[3]?.fees.map((f) => [f.charge_code, f.pay_in_advance, f.amount_cents])).toEqual([
      [null, false, 0],
      ['admin_fee', false, 855],
      ['seat_fee', true, 2000],
    ]);
  });

  it('refuses pay_in_advance on a charge that is not prorated standard', () => {
    const scenario = JSON.parse(readFileSync(join(scenarios, 'pay-in-advance.json'), 'utf8')) as {
      plan: { charges: { prorated: boolean }[] };
    };
    (scenario.plan.charges[0] as { prorated: boolean }).prorated = false;
    const parsed = parseScenario(scenario);
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      {
        path: '$.plan.charges[0].pay_in_advance',
        message: 'pay-in-advance charges must be prorated standard charges',
      },
    ]);
  });

  describe('property: each seat active in a period is billed in advance exactly once in it', () => {
    const FROM = at('2024-03-01T00:00:00Z');
    const TO = at('2024-06-01T00:00:00Z');
    const advancePlan: Plan = {
      ...seatPlan(),
      charges: seatPlan().charges.map((c) => ({ ...c, payInAdvance: true })),
    };

    it('(renewal units + in-advance invoices of a period) = the seats with a billed day in it, in arrears', () => {
      const events = fc.array(
        fc.record({
          seatKey: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'),
          op: fc.constantFrom<'add' | 'remove'>('add', 'add', 'remove'),
          at: fc
            .integer({ min: 0, max: (TO - FROM) / 3_600_000 - 1 })
            .map((h) => FROM - 86_400_000 * 5 + h * 3_600_000),
        }),
        { maxLength: 30 },
      );
      fc.assert(
        fc.property(events, fc.integer({ min: 0, max: 40 * 24 }), (story, startHours) => {
          const input = (plan: Plan): SimulationInput => ({
            customer: { externalId: 'c', timeZone: 'UTC', graceDays: 0 },
            metrics: [seatsMetric],
            plan,
            subscription: {
              externalId: 's',
              billingTime: 'calendar',
              subscriptionAt: FROM + startHours * 3_600_000,
              terminatedAt: null,
            },
            events: story.map((e, i) => ({
              transactionId: `t${i}`,
              code: 'seats',
              at: e.at,
              receivedAt: null,
              properties: { user_id: e.seatKey, operation_type: e.op },
            })),
            wallets: [],
            asOf: TO,
            invoiceNumberPrefix: 'T',
            customerSequentialId: 1,
          });
          // Arrival order = timestamp order here (no late events), so nothing is known too late.
          const inArrears = simulate(input(seatPlan())).invoices;
          const inAdvance = simulate(input(advancePlan)).invoices;
          for (const periodic of inArrears) {
            const fee = periodic.invoice.fees.find((f): f is ChargeFee => f.feeType === 'charge');
            const periodStart = periodic.invoice.periodStartAt;
            const adds = inAdvance.filter(
              (i) =>
                i.invoice.invoicingReason === 'in_advance_charge' && i.invoice.periodStartAt === periodStart,
            );
            const renewal = inAdvance
              .flatMap((i) => i.invoice.fees)
              .find(
                (f): f is ChargeFee =>
                  f.feeType === 'charge' && f.fromAt === periodStart && f.proratedUnits === null,
              );
            const billed = adds.length + Number(renewal?.units ?? 0);
            expect(billed).toBe(fee?.seatsEverActive ?? 0);
          }
          // The steps themselves, every invoice kept (storage would dedupe a re-issued key): no
          // seat is issued twice in a period.
          const cycle = openCycle(
            termsOf(input(advancePlan)),
            input(advancePlan).subscription.subscriptionAt,
          );
          const issued: string[] = [];
          const sorted = [...story].sort((a, b) => a.at - b.at);
          const bill = (now: number) => {
            for (const invoice of issueInAdvanceInvoices(cycle, now)) issued.push(invoice.key);
          };
          sorted.forEach((e, seq) => {
            while (cycle.period.endAt <= e.at) {
              closePeriod(cycle);
              bill(cycle.period.startAt);
            }
            recordEvent(cycle, {
              kind: 'seat',
              metricCode: 'seats',
              at: e.at,
              seq,
              seatKey: e.seatKey,
              op: e.op,
            });
            if (e.at >= cycle.startedAt) bill(e.at);
          });
          expect(new Set(issued).size).toBe(issued.length);
        }),
        { numRuns: 150 },
      );
    });
  });
});
