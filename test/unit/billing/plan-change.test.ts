import fc from 'fast-check';
import {
  applySeatEvent,
  chargeWindow,
  computeChargeFee,
  computeSubscriptionFee,
  emptyLedger,
  periodContainingDate,
  periodDayTable,
  closePeriod,
  downgradeCycleAtPeriodEnd,
  isoSeconds,
  planChangeKind,
  recordEvent,
  splitByPlanChanges,
  upgradeCycle,
  usedDays,
  type MeteredEvent,
} from '../../../src/billing';
import { at, ledgerOf, schedule, seatCycle, seatEvents, seatPlan, seatsMetric } from './billing-stories';

const team = seatPlan({ price: '10', amountCents: 3000 });
const business = { ...seatPlan({ price: '20', amountCents: 6000 }), code: 'business' };

describe('plan change day split (SPEC section 8): each day at the plan in force at its end', () => {
  const period = periodContainingDate(schedule(), '2024-03-10');
  const table = periodDayTable(period, 'UTC');
  const window = chargeWindow(period, period.startAt);

  it('an upgrade at 14:00 on March 16th: Team bills March 1-15, Business March 16-31', () => {
    const spans = splitByPlanChanges(window, table, [at('2024-03-16T14:00:00Z')]);
    expect(spans.map((s) => [s.planIndex, s.firstLocalDate, s.lastLocalDate, s.days])).toEqual([
      [0, '2024-03-01', '2024-03-15', 15],
      [1, '2024-03-16', '2024-03-31', 16],
    ]);
    expect(spans[0]!.window.toAt).toBe(at('2024-03-16T00:00:00Z') - 1);
    expect(spans[1]!.window.fromAt).toBe(at('2024-03-16T00:00:00Z'));
  });

  it('prices a seat present all month once per day: Team 15/31 × $10 = 484, Business 16/31 × $20 = 1032; fees 1452 + 3097', () => {
    const ledger = ledgerOf(seatEvents([['u1', 'add', '2024-02-20T09:00:00Z']]));
    const [old, upgraded] = splitByPlanChanges(window, table, [at('2024-03-16T14:00:00Z')]);
    const fee = (plan: typeof team, span: typeof old) =>
      computeChargeFee(plan.charges[0]!, seatsMetric, ledger, span!.window, table, 'USD');
    // ceil5(15/31) = 0.48388 → $4.8388; ceil5(16/31) = 0.51613 → $10.3226.
    expect([fee(team, old).amountCents, fee(business, upgraded).amountCents]).toEqual([484, 1032]);
    // 3000 × 15/31 = 1451.6 → 1452; 6000 × 16/31 = 3096.8 → 3097.
    expect(computeSubscriptionFee(team, old!.window, 'UTC').amountCents).toBe(1452);
    expect(computeSubscriptionFee(business, upgraded!.window, 'UTC').amountCents).toBe(3097);
  });

  it('an upgrade during the first day leaves the old plan no day of the period', () => {
    const spans = splitByPlanChanges(window, table, [at('2024-03-01T09:00:00Z')]);
    expect(spans.map((s) => [s.planIndex, s.days])).toEqual([[1, 31]]);
  });

  it('two changes the same day: the day goes to the last plan', () => {
    const spans = splitByPlanChanges(window, table, [at('2024-03-10T09:00:00Z'), at('2024-03-10T18:00:00Z')]);
    expect(spans.map((s) => [s.planIndex, s.firstLocalDate, s.days])).toEqual([
      [0, '2024-03-01', 9],
      [2, '2024-03-10', 22],
    ]);
  });

  it('splits at local midnights: 03:00 UTC on March 16th is March 15th in New York, a Business day', () => {
    const ny = periodContainingDate(schedule('America/New_York'), '2024-03-10');
    const nyTable = periodDayTable(ny, 'America/New_York');
    const spans = splitByPlanChanges(chargeWindow(ny, ny.startAt), nyTable, [at('2024-03-16T03:00:00Z')]);
    expect(spans.map((s) => [s.firstLocalDate, s.lastLocalDate])).toEqual([
      ['2024-03-01', '2024-03-14'],
      ['2024-03-15', '2024-03-31'],
    ]);
  });
});

describe('plan change invariants', () => {
  const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'];
  const FROM = at('2024-02-01T00:00:00Z');
  const HOURS = (at('2024-04-05T00:00:00Z') - FROM) / 3_600_000;
  const instant = fc.integer({ min: 0, max: HOURS - 1 }).map((h) => FROM + h * 3_600_000);
  const seatHistory = fc.array(
    fc.record({
      seatKey: fc.constantFrom('u1', 'u2', 'u3'),
      op: fc.constantFrom<'add' | 'remove'>('add', 'remove'),
      at: instant,
    }),
    { maxLength: 25 },
  );

  it('an upgrade never bills a seat-day twice nor skips one (seat-days and fee days add up to the whole window)', () => {
    fc.assert(
      fc.property(
        seatHistory,
        fc.array(instant, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...ZONES),
        fc.option(fc.integer({ min: 0, max: 30 * 24 - 1 })),
        (events, changes, timeZone, startHour) => {
          const period = periodContainingDate(schedule(timeZone), '2024-03-10');
          const table = periodDayTable(period, timeZone);
          const window = chargeWindow(period, period.startAt + (startHour ?? 0) * 3_600_000);
          const ledger = emptyLedger();
          events.forEach((e, seq) =>
            applySeatEvent(ledger, { kind: 'seat', metricCode: 'seats', seq, ...e } satisfies MeteredEvent),
          );
          const spans = splitByPlanChanges(window, table, changes);
          expect(spans[0]!.window.fromAt).toBe(window.fromAt);
          expect(spans.at(-1)!.window.toAt).toBe(window.toAt);
          spans.slice(1).forEach((span, i) => {
            expect(span.window.fromAt).toBe(spans[i]!.window.toAt + 1);
            expect(span.planIndex).toBeGreaterThan(spans[i]!.planIndex);
          });
          const charge = team.charges[0]!;
          const whole = computeChargeFee(charge, seatsMetric, ledger, window, table, 'USD', true);
          const parts = spans.map((s) =>
            computeChargeFee(charge, seatsMetric, ledger, s.window, table, 'USD', true),
          );
          const perSeat = (fees: typeof parts) => {
            const days = new Map<string, number>();
            for (const fee of fees)
              for (const seat of fee.seats ?? [])
                days.set(seat.seatKey, (days.get(seat.seatKey) ?? 0) + seat.days);
            return Object.fromEntries([...days].filter(([, d]) => d > 0).sort());
          };
          expect(perSeat(parts)).toEqual(perSeat([whole]));
          const feeDays = spans.map((s) => computeSubscriptionFee(team, s.window, timeZone).usedDays);
          expect(feeDays.reduce((a, b) => a + b, 0)).toBe(usedDays(window, timeZone));
          expect(spans.reduce((a, s) => a + s.days, 0)).toBe(usedDays(window, timeZone));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('plan changes on a billing cycle (SPEC section 8)', () => {
  it('upgrade or downgrade by yearly amount (amount_cents × 52, 12, 4, 2 or 1): equal is an upgrade', () => {
    expect(planChangeKind(team, business)).toBe('upgrade');
    expect(planChangeKind(business, team)).toBe('downgrade');
    expect(planChangeKind(team, { ...team, code: 'same' })).toBe('upgrade');
    // 3000 × 12 = 36000 a year; 35000 yearly is less, 700 weekly (36400) is more.
    expect(planChangeKind(team, { ...team, interval: 'yearly', amountCents: 35_000 })).toBe('downgrade');
    expect(planChangeKind(team, { ...team, interval: 'weekly', amountCents: 700 })).toBe('upgrade');
  });

  it('an upgrade at 14:00 on March 16th: Team bills March 1-15 at once, Business from March 16th, seats carried over', () => {
    const cycle = seatCycle('2024-03-01T00:00:00Z', { plan: team });
    for (const e of seatEvents([['u1', 'add', '2024-02-20T09:00:00Z']])) recordEvent(cycle, e);
    const upgrade = upgradeCycle(cycle, at('2024-03-16T14:00:00Z'), business, [seatsMetric]);
    if (!upgrade.ok) throw new Error(upgrade.error);
    // Team: fee 3000 × 15/31 = 1451.6 → 1452; seat ceil5(15/31) = 0.48388 × $10 → 484.
    expect(upgrade.invoice.fees.map((f) => [f.feeType, f.amountCents])).toEqual([
      ['subscription', 1452],
      ['charge', 484],
    ]);
    expect(isoSeconds(upgrade.invoice.toAt)).toBe('2024-03-15T23:59:59Z');
    expect(cycle.terminatedAt).toBe(at('2024-03-16T14:00:00Z'));
    expect(isoSeconds(upgrade.next.startedAt)).toBe('2024-03-16T00:00:00Z');
    expect(upgrade.next.period.durationDays).toBe(31);
    // Business: fee 6000 × 16/31 = 3096.8 → 3097; seat ceil5(16/31) = 0.51613 × $20 → 1032.
    const march = closePeriod(upgrade.next);
    expect(march.fees.map((f) => [f.feeType, f.amountCents])).toEqual([
      ['subscription', 3097],
      ['charge', 1032],
    ]);
    expect(closePeriod(upgrade.next).fees.map((f) => f.amountCents)).toEqual([6000, 2000]);
  });

  it('a seat removed on the morning of an upgrade day is billed that day once, on the new plan', () => {
    const cycle = seatCycle('2024-03-01T00:00:00Z', { plan: team });
    for (const e of seatEvents([
      ['u1', 'add', '2024-03-01T09:00:00Z'],
      ['u1', 'remove', '2024-03-16T10:00:00Z'],
    ]))
      recordEvent(cycle, e);
    const upgrade = upgradeCycle(cycle, at('2024-03-16T14:00:00Z'), business, [seatsMetric]);
    if (!upgrade.ok) throw new Error(upgrade.error);
    // Team: March 1-15 = 15 days; Business: March 16th = 1 day, ceil5(1/31) = 0.03226 × $20 → 65.
    expect(upgrade.invoice.fees[1]?.amountCents).toBe(484);
    expect(closePeriod(upgrade.next).fees[1]?.amountCents).toBe(65);
  });

  it('an upgrade on the first day of the old subscription leaves its final invoice without fees', () => {
    const cycle = seatCycle('2024-03-05T10:00:00Z', { plan: team });
    const upgrade = upgradeCycle(cycle, at('2024-03-05T18:00:00Z'), business, [seatsMetric]);
    if (!upgrade.ok) throw new Error(upgrade.error);
    expect(upgrade.invoice.fees).toEqual([]);
    expect(upgrade.next.startedAt).toBe(at('2024-03-05T10:00:00Z'));
  });

  it('a downgrade bills the old plan for its whole last period and starts the new one at the period end', () => {
    const cycle = seatCycle('2024-03-01T00:00:00Z', { plan: business });
    for (const e of seatEvents([['u1', 'add', '2024-03-10T09:00:00Z']])) recordEvent(cycle, e);
    const { invoice, next } = downgradeCycleAtPeriodEnd(cycle, team, [seatsMetric]);
    // Business: 6000; seat March 10-31 = 22/31 → 0.70968 × $20 → 1419.
    expect(invoice.fees.map((f) => f.amountCents)).toEqual([6000, 1419]);
    expect(cycle.terminatedAt).toBe(at('2024-04-01T00:00:00Z'));
    expect([isoSeconds(next.startedAt), next.terms.plan.code]).toEqual(['2024-04-01T00:00:00Z', 'team']);
    expect(closePeriod(next).fees.map((f) => f.amountCents)).toEqual([3000, 1000]);
  });
});
