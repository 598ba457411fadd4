import fc from 'fast-check';
import {
  allocateCredits,
  applySeatEvent,
  buildInvoice,
  chargeWindow,
  computeChargeFee,
  copyLedger,
  creditWallet,
  Dec,
  emptyLedger,
  newWallet,
  periodContaining,
  periodContainingDate,
  periodDayTable,
  rollLedger,
  topUpAmount,
  type BillingSchedule,
  type ChargeFee,
  type Fee,
  type Interval,
  type MeteredEvent,
  type SeatLedger,
  type Wallet,
} from '../../../src/billing';
import { at, seatPlan, seatsMetric } from './billing-stories';

const RUNS = { numRuns: 200 };
const ZONES = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'America/Santiago',
];
const INTERVALS: Interval[] = ['weekly', 'monthly', 'quarterly', 'semiannual', 'yearly'];
const FROM = at('2023-11-01T00:00:00Z');
const TO = at('2024-05-31T00:00:00Z');

const zone = fc.constantFrom(...ZONES);
const seatEvent = fc.record({
  seatKey: fc.constantFrom('u1', 'u2', 'u3', 'u4', '__proto__'),
  op: fc.constantFrom<'add' | 'remove'>('add', 'remove'),
  // Minute resolution with many collisions on purpose (same-day and same-instant ties).
  at: fc
    .integer({ min: 0, max: Math.floor((TO - FROM) / 3_600_000) })
    .map((hours) => FROM + hours * 3_600_000),
});
const history = fc
  .array(seatEvent, { maxLength: 40 })
  .map((events) =>
    events.map((event, seq): MeteredEvent => ({ kind: 'seat', metricCode: 'seats', seq, ...event })),
  );

function ledgerOf(events: readonly MeteredEvent[]): SeatLedger {
  const ledger = emptyLedger();
  for (const event of events) applySeatEvent(ledger, event);
  return ledger;
}

function feeOf(ledger: SeatLedger, timeZone: string, monthDate: string, price = '10'): ChargeFee {
  const period = periodContainingDate(
    { interval: 'monthly', billingTime: 'calendar', timeZone, anchorLocalDate: '2024-01-01' },
    monthDate,
  );
  const plan = seatPlan({ price });
  return computeChargeFee(
    plan.charges[0]!,
    seatsMetric,
    ledger,
    chargeWindow(period, period.startAt),
    periodDayTable(period, timeZone),
    'USD',
  );
}

const MONTHS = ['2023-12-15', '2024-01-15', '2024-02-15', '2024-03-15', '2024-04-15'];

describe('billing invariants (property tests)', () => {
  it('bills a seat active during a whole period as exactly 1 unit, in any zone, interval and billing time', () => {
    fc.assert(
      fc.property(
        zone,
        fc.constantFrom(...INTERVALS),
        fc.constantFrom<'calendar' | 'anniversary'>('calendar', 'anniversary'),
        fc.integer({ min: 0, max: 3650 }),
        fc.integer({ min: 0, max: 400 }),
        (timeZone, interval, billingTime, anchorDay, offsetDays) => {
          const anchor = new Date(Date.UTC(2020, 0, 1) + anchorDay * 86_400_000).toISOString().slice(0, 10);
          const schedule: BillingSchedule = { interval, billingTime, timeZone, anchorLocalDate: anchor };
          const period = periodContaining(
            schedule,
            Date.UTC(2020, 0, 1) + (anchorDay + offsetDays) * 86_400_000,
          );
          const ledger = ledgerOf([
            {
              kind: 'seat',
              metricCode: 'seats',
              at: period.startAt - 3_600_000,
              seq: 0,
              seatKey: 'u1',
              op: 'add',
            },
          ]);
          const fee = computeChargeFee(
            seatPlan().charges[0]!,
            seatsMetric,
            ledger,
            chargeWindow(period, period.startAt),
            periodDayTable(period, timeZone),
            'USD',
          );
          expect([fee.proratedUnits, fee.seatDays, fee.amountCents]).toEqual([
            '1.0',
            period.durationDays,
            1000,
          ]);
        },
      ),
      RUNS,
    );
  });

  it('keeps 0 <= prorated units <= seats ever active, and units (active at T) <= seats', () => {
    fc.assert(
      fc.property(history, zone, fc.constantFrom(...MONTHS), (events, timeZone, month) => {
        const fee = feeOf(ledgerOf(events), timeZone, month);
        const prorated = new Dec(fee.proratedUnits!);
        expect(prorated.gte(0)).toBe(true);
        expect(prorated.lte(fee.seatsEverActive!)).toBe(true);
        expect(new Dec(fee.units).lte(fee.seatsEverActive!)).toBe(true);
        expect(fee.amountCents).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it('never lowers the amount when a seat-day is added', () => {
    fc.assert(
      fc.property(history, zone, fc.constantFrom(...MONTHS), seatEvent, (events, timeZone, month, extra) => {
        const before = feeOf(ledgerOf(events), timeZone, month, '7.77');
        const added: MeteredEvent = {
          kind: 'seat',
          metricCode: 'seats',
          seq: events.length,
          ...extra,
          seatKey: 'new',
          op: 'add',
        };
        const after = feeOf(ledgerOf([...events, added]), timeZone, month, '7.77');
        expect(after.seatDays!).toBeGreaterThanOrEqual(before.seatDays!);
        expect(after.amountCents).toBeGreaterThanOrEqual(before.amountCents);
      }),
      RUNS,
    );
  });

  it('gives the same bill whatever the arrival order, and when events are delivered twice', () => {
    fc.assert(
      fc.property(
        history,
        zone,
        fc.constantFrom(...MONTHS),
        fc.integer(),
        (events, timeZone, month, seed) => {
          const shuffled = fc.sample(
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            {
              numRuns: 1,
              seed,
            },
          )[0]!;
          const reference = feeOf(ledgerOf(events), timeZone, month);
          expect(feeOf(ledgerOf(shuffled), timeZone, month)).toEqual(reference);
          expect(feeOf(ledgerOf([...shuffled, ...events]), timeZone, month)).toEqual(reference);
        },
      ),
      RUNS,
    );
  });

  it('gives the same bill after compactions at period boundaries as from the full history, late events included', () => {
    const boundaries = ['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01'];
    fc.assert(
      fc.property(
        history,
        zone,
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 4, maxLength: 4 }),
        fc.integer(),
        (events, timeZone, rollPoints, seed) => {
          const arrival = fc.sample(
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            {
              numRuns: 1,
              seed,
            },
          )[0]!;
          const full = ledgerOf(events);
          const rolled = emptyLedger();
          const schedule: BillingSchedule = {
            interval: 'monthly',
            billingTime: 'calendar',
            timeZone,
            anchorLocalDate: '2024-01-01',
          };
          const rollAfter = [...rollPoints].sort((a, b) => a - b);
          let rolls = 0;
          arrival.forEach((event, i) => {
            while (rolls < rollAfter.length && rollAfter[rolls]! <= i) {
              rollLedger(
                rolled,
                periodContainingDate(schedule, boundaries[rolls]!).startAt,
                Number.MIN_SAFE_INTEGER,
              );
              rolls += 1;
            }
            applySeatEvent(rolled, event);
          });
          while (rolls < boundaries.length) {
            rollLedger(
              rolled,
              periodContainingDate(schedule, boundaries[rolls]!).startAt,
              Number.MIN_SAFE_INTEGER,
            );
            rolls += 1;
          }
          const copy = JSON.parse(JSON.stringify(rolled)) as SeatLedger;
          expect(copy).toEqual(copyLedger(rolled));
          for (const month of ['2024-04-15', '2024-05-15']) {
            expect(feeOf(copy, timeZone, month)).toEqual(feeOf(full, timeZone, month));
          }
        },
      ),
      RUNS,
    );
  });

  it('never applies more credits than a wallet holds or than is due, and their sum is prepaid_credit_amount_cents', () => {
    const walletSpec = fc.record({
      credits: fc.integer({ min: 0, max: 50_000 }).map((cents) => (cents / 100).toFixed(2)),
      rate: fc.constantFrom('1', '0.5', '2', '0.333', '1.25'),
      priority: fc.integer({ min: 1, max: 50 }),
      createdDay: fc.integer({ min: 1, max: 28 }),
      feeTypes: fc.subarray(['charge', 'subscription'] as const),
      metrics: fc.subarray(['seats', 'storage']),
    });
    const feeSpec = fc.record({
      type: fc.constantFrom<'charge' | 'subscription'>('charge', 'subscription'),
      metric: fc.constantFrom('seats', 'storage'),
      cents: fc.integer({ min: 0, max: 100_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(walletSpec, { maxLength: 5 }),
        fc.array(feeSpec, { maxLength: 6 }),
        (specs, feeSpecs) => {
          const wallets: Wallet[] = specs.map((spec, i) => {
            const wallet = newWallet({
              code: `w${i}`,
              name: null,
              lagoId: null,
              currency: 'USD',
              rateAmount: spec.rate,
              priority: spec.priority,
              createdAt: Date.UTC(2024, 1, spec.createdDay),
              expirationAt: null,
              appliesTo: { feeTypes: [...spec.feeTypes], billableMetricCodes: [...spec.metrics] },
            });
            const topUp = topUpAmount(spec.credits, spec.rate, 'USD');
            return topUp.ok ? creditWallet(wallet, topUp.credits, topUp.amountCents) : wallet;
          });
          const fees: Fee[] = feeSpecs.map((spec, i) =>
            spec.type === 'subscription'
              ? {
                  feeType: 'subscription',
                  planCode: 'p',
                  fromAt: 0,
                  toAt: 0,
                  usedDays: 1,
                  durationDays: 1,
                  units: '1.0',
                  eventsCount: 0,
                  preciseAmount: '0',
                  amountCents: spec.cents,
                  currency: 'USD',
                  inAdvance: false,
                }
              : {
                  feeType: 'charge',
                  chargeCode: `c${i}`,
                  chargeLagoId: null,
                  chargeModel: 'standard',
                  invoiceDisplayName: null,
                  billableMetricCode: spec.metric,
                  fromAt: 0,
                  toAt: 0,
                  durationDays: 30,
                  units: '1.0',
                  proratedUnits: null,
                  seatDays: null,
                  seatsEverActive: null,
                  eventsCount: 0,
                  preciseAmount: '0',
                  amountCents: spec.cents,
                  currency: 'USD',
                  seats: null,
                },
          );
          const invoice = buildInvoice({
            key: 'k',
            invoicingReason: 'subscription_periodic',
            status: 'finalized',
            currency: 'USD',
            periodStartAt: 0,
            periodEndAt: 0,
            fromAt: 0,
            toAt: 0,
            issuingLocalDate: '2024-03-01',
            finalizesAt: Date.UTC(2024, 2, 1),
            fees,
          });
          const allocation = allocateCredits(invoice, wallets, Date.UTC(2024, 2, 1));
          const sum = allocation.takes.reduce((total, take) => total + take.amountCents, 0);
          expect(sum).toBe(allocation.prepaidCreditAmountCents);
          expect(allocation.prepaidCreditAmountCents).toBeLessThanOrEqual(
            invoice.subTotalIncludingTaxesAmountCents,
          );
          expect(new Set(allocation.takes.map((take) => take.walletCode)).size).toBe(allocation.takes.length);
          for (const take of allocation.takes) {
            const before = wallets.find((wallet) => wallet.code === take.walletCode)!;
            expect(take.amountCents).toBeGreaterThan(0);
            expect(take.amountCents).toBeLessThanOrEqual(before.balanceCents);
          }
          for (const wallet of allocation.wallets) {
            expect(wallet.balanceCents).toBeGreaterThanOrEqual(0);
            expect(new Dec(wallet.creditsBalance).gte(0)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });
});
