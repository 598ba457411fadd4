import fc from 'fast-check';
import {
  chargeWindow,
  computeSubscriptionFee,
  nextPeriod,
  periodContaining,
  periodContainingDate,
  subscriptionFeeAfterTrial,
  trialOf,
} from '../../../src/billing';
import { at, schedule, seatPlan } from './billing-stories';

const plan = seatPlan({ amountCents: 3000 });

function marchFee(startedAt: string, trialDays: number, timeZone = 'UTC') {
  const period = periodContainingDate(schedule(timeZone), '2024-03-10');
  const started = at(startedAt);
  const trial = trialOf(started, trialDays, timeZone);
  return { trial, fee: subscriptionFeeAfterTrial(plan, chargeWindow(period, started), timeZone, trial) };
}

describe('trial (SPEC section 8): the subscription fee skips the trial days, $30 a month', () => {
  it('a 14-day trial from March 1st 10:00 ends March 15th 10:00; March bills 17/31 of $30 = 1645 cents', () => {
    const { trial, fee } = marchFee('2024-03-01T10:00:00Z', 14);
    expect(trial).toEqual({ endAt: at('2024-03-15T10:00:00Z'), firstPaidLocalDate: '2024-03-15' });
    expect([fee.usedDays, fee.durationDays, fee.amountCents, fee.fromAt]).toEqual([
      17,
      31,
      1645,
      at('2024-03-15T00:00:00Z'),
    ]);
  });

  it('a trial longer than the period bills nothing in March and 16/30 of April (from April 15th) = 1600 cents', () => {
    const started = at('2024-03-01T10:00:00Z');
    const trial = trialOf(started, 45, 'UTC');
    const march = periodContaining(schedule(), started);
    expect(subscriptionFeeAfterTrial(plan, chargeWindow(march, started), 'UTC', trial).amountCents).toBe(0);
    const april = nextPeriod(schedule(), march);
    const fee = subscriptionFeeAfterTrial(plan, chargeWindow(april, started), 'UTC', trial);
    expect([fee.usedDays, fee.durationDays, fee.amountCents]).toEqual([16, 30, 1600]);
  });

  it('a subscription started on March 16th with a 5-day trial pays March 21st to 31st: 11/31 of $30 = 1064.5… → 1065 cents', () => {
    expect(marchFee('2024-03-16T08:00:00Z', 5).fee.amountCents).toBe(1065);
  });

  it('counts trial days on local dates: 03:30 UTC on March 10th is March 9th in New York, paid from March 16th (16/31 → 1548 cents)', () => {
    const { trial, fee } = marchFee('2024-03-10T03:30:00Z', 7, 'America/New_York');
    expect(trial.firstPaidLocalDate).toBe('2024-03-16');
    expect(fee.amountCents).toBe(1548);
  });

  it('refuses a fractional trial (billing counts whole days)', () => {
    expect(() => trialOf(at('2024-03-01T00:00:00Z'), 1.5, 'UTC')).toThrow(RangeError);
  });

  it('no trial bills what the plain subscription fee bills; a longer trial never bills more, and trial plus paid days are the window', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney'),
        fc.integer({ min: 0, max: 30 * 24 - 1 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 5 }),
        (timeZone, startHour, days, more) => {
          const period = periodContainingDate(schedule(timeZone), '2024-03-10');
          const started = period.startAt + startHour * 3_600_000;
          const window = chargeWindow(period, started);
          const plain = computeSubscriptionFee(plan, window, timeZone);
          const none = subscriptionFeeAfterTrial(plan, window, timeZone, trialOf(started, 0, timeZone));
          expect(none.amountCents).toBe(plain.amountCents);
          const fee = subscriptionFeeAfterTrial(plan, window, timeZone, trialOf(started, days, timeZone));
          const longer = subscriptionFeeAfterTrial(
            plan,
            window,
            timeZone,
            trialOf(started, days + more, timeZone),
          );
          expect(longer.amountCents).toBeLessThanOrEqual(fee.amountCents);
          expect(fee.usedDays + Math.min(days, plain.usedDays)).toBe(plain.usedDays);
        },
      ),
      { numRuns: 300 },
    );
  });
});
