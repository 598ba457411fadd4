import {
  addDays,
  addMonths,
  buildDayTable,
  dayIndexOf,
  daysBetween,
  isLocalDate,
  isTimeZone,
  isoSeconds,
  isoWeekdayOf,
  localDateOf,
  parseIsoInstant,
  parseUnixSeconds,
  startOfLocalDay,
  zoneOffsetAt,
} from '../../../src/billing';
import { at } from './billing-stories';

describe('local calendar dates in the customer zone', () => {
  it('adds days and months on the calendar, clamping the anchor day to short months', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2023-12-31', 1)).toBe('2024-01-01');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2024-01-31', 2)).toBe('2024-03-31');
    expect(addMonths('2023-01-31', 1)).toBe('2023-02-28');
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
    expect(addMonths('2024-02-29', 48)).toBe('2028-02-29');
    expect(addMonths('2024-03-15', -3)).toBe('2023-12-15');
    expect(daysBetween('2024-02-01', '2024-03-01')).toBe(29);
    expect(daysBetween('2023-02-01', '2023-03-01')).toBe(28);
    expect(daysBetween('2024-01-01', '2025-01-01')).toBe(366);
  });

  it('knows weekdays (Monday 1) and real dates', () => {
    expect(isoWeekdayOf('2024-06-03')).toBe(1);
    expect(isoWeekdayOf('2024-06-09')).toBe(7);
    expect(isoWeekdayOf('1970-01-01')).toBe(4);
    expect(isLocalDate('2024-02-29')).toBe(true);
    expect(isLocalDate('2023-02-29')).toBe(false);
    expect(isLocalDate('2024-13-01')).toBe(false);
  });

  it('finds the local date of an instant: 23:30 in New York is still the same day there', () => {
    expect(localDateOf(at('2024-03-16T03:30:00Z'), 'America/New_York')).toBe('2024-03-15');
    expect(localDateOf(at('2024-03-15T23:00:00Z'), 'Europe/Paris')).toBe('2024-03-16');
    expect(localDateOf(at('2024-03-15T23:00:00Z'), 'UTC')).toBe('2024-03-15');
    expect(zoneOffsetAt(at('2024-07-01T00:00:00Z'), 'Europe/Paris')).toBe(2 * 3_600_000);
    expect(zoneOffsetAt(at('2024-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * 3_600_000);
  });

  it('finds local midnights across DST changes (never by adding 24 hours)', () => {
    // Paris springs forward on 2024-03-31 (a 23-hour day) and falls back on 2024-10-27 (25 hours).
    expect(isoSeconds(startOfLocalDay('2024-03-31', 'Europe/Paris'))).toBe('2024-03-30T23:00:00Z');
    expect(isoSeconds(startOfLocalDay('2024-04-01', 'Europe/Paris'))).toBe('2024-03-31T22:00:00Z');
    expect(isoSeconds(startOfLocalDay('2024-10-28', 'Europe/Paris'))).toBe('2024-10-27T23:00:00Z');
    // Sydney springs forward on 2023-10-01.
    expect(isoSeconds(startOfLocalDay('2023-10-01', 'Australia/Sydney'))).toBe('2023-09-30T14:00:00Z');
    expect(isoSeconds(startOfLocalDay('2023-10-02', 'Australia/Sydney'))).toBe('2023-10-01T13:00:00Z');
    // Santiago skipped midnight on 2018-08-12: that day started at 01:00 local.
    expect(isoSeconds(startOfLocalDay('2018-08-12', 'America/Santiago'))).toBe('2018-08-12T04:00:00Z');
    expect(localDateOf(startOfLocalDay('2018-08-12', 'America/Santiago') - 1, 'America/Santiago')).toBe(
      '2018-08-11',
    );
  });

  it('maps instants to day indexes with a table of local midnights', () => {
    const table = buildDayTable('2024-03-30', 3, 'Europe/Paris');
    expect(table.starts.map(isoSeconds)).toEqual([
      '2024-03-29T23:00:00Z',
      '2024-03-30T23:00:00Z',
      '2024-03-31T22:00:00Z',
      '2024-04-01T22:00:00Z',
    ]);
    expect(dayIndexOf(table, at('2024-03-29T22:59:59Z'))).toBe(-1);
    expect(dayIndexOf(table, at('2024-03-29T23:00:00Z'))).toBe(0);
    expect(dayIndexOf(table, at('2024-03-31T21:59:59.999Z'))).toBe(1);
    expect(dayIndexOf(table, at('2024-03-31T22:00:00Z'))).toBe(2);
    expect(dayIndexOf(table, at('2024-04-01T22:00:00Z'))).toBe(3);
  });

  it('knows IANA zones', () => {
    expect(['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney'].every(isTimeZone)).toBe(true);
    expect(['Mars/Olympus', '', 'Europe/Pariss'].some(isTimeZone)).toBe(false);
  });
});

describe('instants at the edges', () => {
  it('parses ISO-8601 with an offset, never without one', () => {
    expect(parseIsoInstant('2024-06-05T00:00:00Z')).toBe(Date.UTC(2024, 5, 5));
    expect(parseIsoInstant('2024-06-05T02:00:00+02:00')).toBe(Date.UTC(2024, 5, 5));
    expect(parseIsoInstant('2024-06-05T00:00:00.1239-01:30')).toBe(Date.UTC(2024, 5, 5, 1, 30, 0, 123));
    expect(parseIsoInstant('2024-06-05T00:00Z')).toBe(Date.UTC(2024, 5, 5));
    expect(parseIsoInstant('2024-06-05T00:00:00')).toBeNull();
    expect(parseIsoInstant('2024-06-05')).toBeNull();
    expect(parseIsoInstant('2023-02-29T00:00:00Z')).toBeNull();
  });

  it('parses Unix seconds exactly, fractions truncated to the millisecond', () => {
    expect(parseUnixSeconds(1717545600)).toBe(1717545600000);
    expect(parseUnixSeconds('1717200000.123')).toBe(1717200000123);
    expect(parseUnixSeconds('1.0059')).toBe(1005);
    expect(parseUnixSeconds(1.005)).toBe(1005);
    expect(parseUnixSeconds('soon')).toBeNull();
    expect(parseUnixSeconds(Number.NaN)).toBeNull();
  });

  it('renders instants as Lago does, without fraction', () => {
    expect(isoSeconds(Date.UTC(2024, 3, 1) - 1)).toBe('2024-03-31T23:59:59Z');
  });
});
