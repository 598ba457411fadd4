import { clearOfMonthEnd, nextMonthStart } from '../../../scripts/clear-of-month-end';

describe('the real-clock tests guard against a month ending mid-file', () => {
  it.each([
    ['2026-12-31T23:30:00Z', 'UTC', '2027-01-01T00:00:00.000Z'],
    ['2026-12-31T22:30:00Z', 'Europe/Paris', '2026-12-31T23:00:00.000Z'],
    // Already January in Paris at 23:30 UTC: its next month is February.
    ['2026-12-31T23:30:00Z', 'Europe/Paris', '2027-01-31T23:00:00.000Z'],
    ['2028-02-29T12:00:00Z', 'UTC', '2028-03-01T00:00:00.000Z'],
    // Summer time: Paris' month starts at 22:00 UTC.
    ['2027-03-28T00:30:00Z', 'Europe/Paris', '2027-03-31T22:00:00.000Z'],
  ])('at %s the next month in %s starts at %s', (at, zone, expected) => {
    expect(new Date(nextMonthStart(Date.parse(at), zone)).toISOString()).toBe(expected);
  });

  it('returns at once when no month ends within the margin', async () => {
    await expect(clearOfMonthEnd(60_000, () => Date.parse('2027-02-14T12:00:00Z'))).resolves.toBeUndefined();
  });
});
