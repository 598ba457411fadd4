import { nearPeriodBoundary } from '../../../api/event-delivery';
import { formatLocalDate, startOfLocalDay } from '../../../src/billing/local-time';

describe('delivery does not yield near a period boundary', () => {
  it('is true in the last minute before each UTC quarter-hour, false elsewhere', () => {
    const quarter = Date.UTC(2026, 11, 31, 23, 45);
    expect(nearPeriodBoundary(quarter - 60_000)).toBe(true);
    expect(nearPeriodBoundary(quarter - 1)).toBe(true);
    expect(nearPeriodBoundary(quarter - 60_001)).toBe(false);
    expect(nearPeriodBoundary(quarter)).toBe(false);
    expect(nearPeriodBoundary(quarter + 7 * 60_000)).toBe(false);
  });

  it('covers every local midnight of every time zone this runtime knows (pinned days of 2026 and 2027)', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(300);
    const days = [2026, 2027].flatMap((year) =>
      Array.from({ length: 12 }, (_, m) => [
        formatLocalDate(year, m + 1, 1),
        formatLocalDate(year, m + 1, 15),
      ]).flat(),
    );
    const missed: string[] = [];
    for (const zone of zones)
      for (const day of days) {
        const midnight = startOfLocalDay(day, zone);
        if (!nearPeriodBoundary(midnight - 1_000)) missed.push(`${zone} ${day}`);
      }
    expect(missed).toEqual([]);
  });
});
