import {
  chargeWindow,
  currentBillingPeriod,
  isoSeconds,
  nextPeriod,
  periodContaining,
  periodContainingDate,
  periodicIssuingDate,
  usedDays,
  type BillingPeriod,
  type BillingSchedule,
} from '../../../src/billing';
import { at, schedule } from './billing-stories';

function days(period: BillingPeriod): [string, string, number] {
  return [period.startLocalDate, period.endLocalDate, period.durationDays];
}

function run(s: BillingSchedule, firstDate: string, count: number): [string, string, number][] {
  const periods: [string, string, number][] = [];
  let period = periodContainingDate(s, firstDate);
  for (let i = 0; i < count; i += 1) {
    periods.push(days(period));
    period = nextPeriod(s, period);
  }
  return periods;
}

describe('billing periods: calendar', () => {
  it('runs calendar months, with D = days in the month (Feb 2024 has 29)', () => {
    expect(run(schedule('UTC', 'monthly'), '2024-01-15', 4)).toEqual([
      ['2024-01-01', '2024-01-31', 31],
      ['2024-02-01', '2024-02-29', 29],
      ['2024-03-01', '2024-03-31', 31],
      ['2024-04-01', '2024-04-30', 30],
    ]);
    expect(days(periodContainingDate(schedule('UTC', 'monthly'), '2023-02-10'))).toEqual([
      '2023-02-01',
      '2023-02-28',
      28,
    ]);
  });

  it('starts calendar weeks on Monday', () => {
    expect(run(schedule('UTC', 'weekly'), '2024-06-05', 2)).toEqual([
      ['2024-06-03', '2024-06-09', 7],
      ['2024-06-10', '2024-06-16', 7],
    ]);
    expect(days(periodContainingDate(schedule('UTC', 'weekly'), '2024-06-09'))).toEqual([
      '2024-06-03',
      '2024-06-09',
      7,
    ]);
    expect(days(periodContainingDate(schedule('UTC', 'weekly'), '2024-06-10'))).toEqual([
      '2024-06-10',
      '2024-06-16',
      7,
    ]);
  });

  it('runs quarters from Jan/Apr/Jul/Oct (90 to 92 days), halves from Jan/Jul, years from Jan 1', () => {
    expect(run(schedule('UTC', 'quarterly'), '2023-02-01', 5).map((p) => p[2])).toEqual([90, 91, 92, 92, 91]);
    expect(days(periodContainingDate(schedule('UTC', 'quarterly'), '2024-05-15'))).toEqual([
      '2024-04-01',
      '2024-06-30',
      91,
    ]);
    expect(run(schedule('UTC', 'semiannual'), '2024-03-01', 3)).toEqual([
      ['2024-01-01', '2024-06-30', 182],
      ['2024-07-01', '2024-12-31', 184],
      ['2025-01-01', '2025-06-30', 181],
    ]);
    expect(run(schedule('UTC', 'yearly'), '2024-03-01', 2)).toEqual([
      ['2024-01-01', '2024-12-31', 366],
      ['2025-01-01', '2025-12-31', 365],
    ]);
  });

  it('bounds periods by local midnights stored as UTC instants, and shows the last second as to_datetime', () => {
    const berlin = periodContainingDate(schedule('Europe/Berlin', 'monthly'), '2024-03-10');
    expect(isoSeconds(berlin.startAt)).toBe('2024-02-29T23:00:00Z');
    expect(isoSeconds(berlin.endAt - 1000)).toBe('2024-03-31T21:59:59Z');
    const sydney = periodContainingDate(schedule('Australia/Sydney', 'monthly'), '2023-09-15');
    expect([sydney.durationDays, isoSeconds(sydney.startAt), isoSeconds(sydney.endAt)]).toEqual([
      30,
      '2023-08-31T14:00:00Z',
      '2023-09-30T14:00:00Z',
    ]);
  });

  it('finds the period of an instant by its local date', () => {
    // 2024-03-31T22:30Z is already April 1st in Paris.
    expect(periodContaining(schedule('Europe/Paris'), at('2024-03-31T22:30:00Z')).startLocalDate).toBe(
      '2024-04-01',
    );
    expect(periodContaining(schedule('UTC'), at('2024-03-31T22:30:00Z')).startLocalDate).toBe('2024-03-01');
  });
});

describe('billing periods: anniversary', () => {
  it('keeps a month-end anchor: Jan 31 → Feb 29 → Mar 31 → Apr 30 → May 31', () => {
    expect(run(schedule('UTC', 'monthly', 'anniversary', '2024-01-31'), '2024-01-31', 5)).toEqual([
      ['2024-01-31', '2024-02-28', 29],
      ['2024-02-29', '2024-03-30', 31],
      ['2024-03-31', '2024-04-29', 30],
      ['2024-04-30', '2024-05-30', 31],
      ['2024-05-31', '2024-06-29', 30],
    ]);
  });

  it('runs anniversary quarters, years (Feb 29 anchors fall on Feb 28 outside leap years) and weeks', () => {
    expect(
      run(schedule('UTC', 'quarterly', 'anniversary', '2024-01-31'), '2024-02-10', 3).map((p) => p[0]),
    ).toEqual(['2024-01-31', '2024-04-30', '2024-07-31']);
    expect(run(schedule('UTC', 'yearly', 'anniversary', '2024-02-29'), '2024-03-01', 5)).toEqual([
      ['2024-02-29', '2025-02-27', 365],
      ['2025-02-28', '2026-02-27', 365],
      ['2026-02-28', '2027-02-27', 365],
      ['2027-02-28', '2028-02-28', 366],
      ['2028-02-29', '2029-02-27', 365],
    ]);
    expect(run(schedule('UTC', 'weekly', 'anniversary', '2024-06-05'), '2024-06-05', 2)).toEqual([
      ['2024-06-05', '2024-06-11', 7],
      ['2024-06-12', '2024-06-18', 7],
    ]);
    expect(
      days(periodContainingDate(schedule('UTC', 'semiannual', 'anniversary', '2024-03-15'), '2024-10-01')),
    ).toEqual(['2024-09-15', '2025-03-14', 181]);
  });

  it('counts an anniversary month across the New York spring-forward as 29 whole days (Feb 10 – Mar 9 2024)', () => {
    const period = periodContainingDate(
      schedule('America/New_York', 'monthly', 'anniversary', '2024-01-10'),
      '2024-03-01',
    );
    expect(days(period)).toEqual(['2024-02-10', '2024-03-09', 29]);
    expect(isoSeconds(period.endAt)).toBe('2024-03-10T05:00:00Z');
  });

  it('has periods before the anchor too (events sent before the subscription)', () => {
    expect(
      days(periodContainingDate(schedule('UTC', 'monthly', 'anniversary', '2024-01-31'), '2023-12-25')),
    ).toEqual(['2023-11-30', '2023-12-30', 31]);
  });
});

describe('charge windows, used days and issuing dates', () => {
  const june = periodContainingDate(schedule('UTC'), '2024-06-15');

  it('starts a first partial period at started_at (exact instant) and keeps the full D', () => {
    const window = chargeWindow(june, at('2024-06-05T09:30:00Z'));
    expect(isoSeconds(window.fromAt)).toBe('2024-06-05T09:30:00Z');
    expect(isoSeconds(window.toAt)).toBe('2024-06-30T23:59:59Z');
    expect(window.period.durationDays).toBe(30);
    expect(usedDays(window, 'UTC')).toBe(26);
  });

  it('ends a terminated period at terminated_at, the termination day included, D unchanged', () => {
    const july = periodContainingDate(schedule('UTC'), '2024-07-01');
    const window = chargeWindow(july, july.startAt, at('2024-07-15T01:10:00Z'));
    expect(usedDays(window, 'UTC')).toBe(15);
    expect(window.period.durationDays).toBe(31);
    expect(usedDays(chargeWindow(july, july.startAt, july.startAt), 'UTC')).toBe(1);
  });

  it('issues on the first local day after the period, plus grace days', () => {
    expect(periodicIssuingDate(june, 0)).toBe('2024-07-01');
    expect(periodicIssuingDate(june, 3)).toBe('2024-07-04');
  });
});

describe("a subscription's current billing period (Lago's current_billing_period_*)", () => {
  const iso = (p: { startAt: number; endAt: number }) => [isoSeconds(p.startAt), isoSeconds(p.endAt)];
  it.each([
    // The first period starts with the subscription, mid-month.
    [
      'UTC',
      'calendar',
      '2026-12-04',
      '2026-12-04T10:00:00Z',
      '2026-12-20T00:00:00Z',
      '2026-12-04T10:00:00Z',
      '2027-01-01T00:00:00Z',
    ],
    // Later periods start at the local midnight: February 2028 has 29 days.
    [
      'UTC',
      'calendar',
      '2026-12-04',
      '2026-12-04T10:00:00Z',
      '2028-02-29T12:00:00Z',
      '2028-02-01T00:00:00Z',
      '2028-03-01T00:00:00Z',
    ],
    // Paris' month starts at 23:00 UTC; seen a minute before that, still the old period.
    [
      'Europe/Paris',
      'calendar',
      '2026-12-04',
      '2026-12-04T10:00:00Z',
      '2026-12-31T22:59:00Z',
      '2026-12-04T10:00:00Z',
      '2026-12-31T23:00:00Z',
    ],
    // Anniversary on the 31st: February's period is clamped to the 28th.
    [
      'UTC',
      'anniversary',
      '2027-01-31',
      '2027-01-31T08:00:00Z',
      '2027-03-05T00:00:00Z',
      '2027-02-28T00:00:00Z',
      '2027-03-31T00:00:00Z',
    ],
  ] as const)(
    'in %s (%s, anchor %s), started %s, seen %s: %s to %s',
    (zone, billingTime, anchor, started, seen, from, to) => {
      const period = currentBillingPeriod(
        schedule(zone, 'monthly', billingTime, anchor),
        at(started),
        at(seen),
      );
      expect(iso(period)).toEqual([from, to]);
    },
  );
});
