import { isPersistableFee } from '../../../src/billing';
import { ledgerOf, seatEvents, seatFee, type SeatFeeStory, type SeatStory } from './billing-stories';

/** amount_cents, prorated_units, units and events_count of a seat story. */
function bill(story: SeatFeeStory): [number, string | null, string, number] {
  const fee = seatFee(story);
  return [fee.amountCents, fee.proratedUnits, fee.units, fee.eventsCount];
}

describe('SPEC §1: seats are billed by whole local days, both ends included', () => {
  // Calendar March 2024 in UTC: D = 31, $10 per seat per month.
  const march = { period: '2024-03-15' };

  it('bills a seat active the whole month as exactly 1 unit (1000 cents)', () => {
    expect(bill({ ...march, events: [['u1', 'add', '2024-02-10T09:00:00Z']] })).toEqual([
      1000,
      '1.0',
      '1.0',
      0,
    ]);
  });

  it('bills a seat removed on the 16th for 16/31: ceil5(0.516129…) = 0.51613 → 516 cents, units 0', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-02-01T09:00:00Z'],
          ['u1', 'remove', '2024-03-16T08:00:00Z'],
        ],
      }),
    ).toEqual([516, '0.51613', '0.0', 1]);
  });

  it('bills a seat added and removed on the same day for 1 day: 1/31 → 0.03226 → 32 cents', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-03-10T09:00:00Z'],
          ['u1', 'remove', '2024-03-10T17:00:00Z'],
        ],
      }),
    ).toEqual([32, '0.03226', '0.0', 2]);
  });

  it('rule 1: drops a remove followed later the same local day by an add (no gap): 31/31', () => {
    const fee = seatFee({
      ...march,
      events: [
        ['u1', 'add', '2024-02-01T09:00:00Z'],
        ['u1', 'remove', '2024-03-10T09:00:00Z'],
        ['u1', 'add', '2024-03-10T15:00:00Z'],
      ],
    });
    expect([fee.amountCents, fee.units, fee.eventsCount]).toEqual([1000, '1.0', 2]);
    expect(fee.seats?.[0]?.stints).toEqual([
      { fromLocalDate: '2024-03-01', toLocalDate: '2024-03-31', days: 31 },
    ]);
  });

  it('bills a remove on day d and a re-add on d+1 as the full month (both days count)', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-02-01T09:00:00Z'],
          ['u1', 'remove', '2024-03-10T09:00:00Z'],
          ['u1', 'add', '2024-03-11T09:00:00Z'],
        ],
      })[0],
    ).toBe(1000);
  });

  it('leaves a one-day gap for a re-add on d+2: 30/31 → 0.96775 → 968 cents', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-02-01T09:00:00Z'],
          ['u1', 'remove', '2024-03-10T09:00:00Z'],
          ['u1', 'add', '2024-03-12T09:00:00Z'],
        ],
      }),
    ).toEqual([968, '0.96775', '1.0', 2]);
  });

  it('adds up several stints: three one-day stints are 3/31 → 0.09678 → 97 cents', () => {
    const fee = seatFee({
      ...march,
      events: [
        ['u1', 'add', '2024-03-05T09:00:00Z'],
        ['u1', 'remove', '2024-03-05T10:00:00Z'],
        ['u1', 'add', '2024-03-12T09:00:00Z'],
        ['u1', 'remove', '2024-03-12T10:00:00Z'],
        ['u1', 'add', '2024-03-20T09:00:00Z'],
        ['u1', 'remove', '2024-03-20T10:00:00Z'],
      ],
    });
    expect([fee.amountCents, fee.proratedUnits, fee.seatDays]).toEqual([97, '0.09678', 3]);
  });

  it('rule 2: a second add while active does nothing (one seat, 31 days, 2 events counted)', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-03-01T09:00:00Z'],
          ['u1', 'add', '2024-03-15T09:00:00Z'],
        ],
      }),
    ).toEqual([1000, '1.0', '1.0', 2]);
  });

  it('rule 2: a remove with no prior add does nothing: the later add alone bills 12/31 → 387 cents', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'remove', '2024-03-05T09:00:00Z'],
          ['u1', 'add', '2024-03-20T09:00:00Z'],
        ],
      }),
    ).toEqual([387, '0.3871', '1.0', 2]);
  });

  it('counts 0 days for a seat added and removed before the period, and such a fee is not persisted', () => {
    const fee = seatFee({
      ...march,
      events: [
        ['u1', 'add', '2024-02-01T09:00:00Z'],
        ['u1', 'remove', '2024-02-20T09:00:00Z'],
      ],
    });
    expect([fee.amountCents, fee.proratedUnits, fee.units, fee.eventsCount]).toEqual([0, '0.0', '0.0', 0]);
    expect(isPersistableFee(fee)).toBe(false);
  });

  it('ignores events after the period end (they belong to later periods)', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-03-30T09:00:00Z'],
          ['u1', 'remove', '2024-04-02T09:00:00Z'],
          ['u2', 'add', '2024-04-01T00:00:00Z'],
        ],
      }),
    ).toEqual([65, '0.06452', '1.0', 1]); // 2/31 = 0.0645161… → 0.06452 × $10 = $0.6452 → 65 cents
  });

  it('sums days exactly before the one ceil: two seats all month are 62/31 = 2.0, not Lago’s 2.00001', () => {
    expect(
      bill({
        ...march,
        price: '1000',
        events: [
          ['u1', 'add', '2024-02-01T09:00:00Z'],
          ['u2', 'add', '2024-02-02T09:00:00Z'],
        ],
      }),
    ).toEqual([200_000, '2.0', '2.0', 0]);
  });

  it('bills non-prorated seats as the seats active at T times the price', () => {
    expect(
      bill({
        ...march,
        prorated: false,
        events: [
          ['u1', 'add', '2024-03-30T09:00:00Z'],
          ['u2', 'add', '2024-03-02T09:00:00Z'],
          ['u2', 'remove', '2024-03-20T09:00:00Z'],
        ],
      }),
    ).toEqual([1000, null, '1.0', 3]);
  });
});

describe('SPEC §1: ties, arrival order and duplicates', () => {
  const march = { period: '2024-03-15' };

  it('breaks a timestamp tie by ingestion order: add then remove at the same instant is 1 day', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-03-10T12:00:00Z'],
          ['u1', 'remove', '2024-03-10T12:00:00Z'],
        ],
      }),
    ).toEqual([32, '0.03226', '0.0', 2]);
  });

  it('breaks a timestamp tie by ingestion order: remove then add at the same instant keeps the seat from that day', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'remove', '2024-03-10T12:00:00Z'],
          ['u1', 'add', '2024-03-10T12:00:00Z'],
        ],
      }),
    ).toEqual([710, '0.70968', '1.0', 2]); // 22/31 = 0.709677… → 0.70968
  });

  it('treats a remove then an add at the same instant on an active seat as no gap', () => {
    expect(
      bill({
        ...march,
        events: [
          ['u1', 'add', '2024-02-01T09:00:00Z'],
          ['u1', 'remove', '2024-03-10T12:00:00Z'],
          ['u1', 'add', '2024-03-10T12:00:00Z'],
        ],
      })[0],
    ).toBe(1000);
  });
});

describe('SPEC §1: out-of-order and repeated delivery', () => {
  it('bills the worked example the same (1355 cents) when events arrive in reverse order, each twice', () => {
    const story: SeatStory[] = [
      ['u1', 'add', '2024-03-01T09:00:00Z'],
      ['u2', 'add', '2024-03-10T15:00:00Z'],
      ['u1', 'remove', '2024-03-20T08:00:00Z'],
    ];
    const events = seatEvents(story);
    const scrambled = ledgerOf([...events].reverse().flatMap((event) => [event, { ...event }]));
    const fee = seatFee({ period: '2024-03-15', events: [] }, scrambled);
    expect([fee.amountCents, fee.proratedUnits, fee.units, fee.eventsCount]).toEqual([
      1355,
      '1.35484',
      '1.0',
      3,
    ]);
  });
});

describe('SPEC §1: local days in the customer zone (never 24-hour steps)', () => {
  it('counts a removal at 00:00 local (Paris) as a billed day: Mar 1..16 = 16/31 → 516 cents', () => {
    expect(
      bill({
        period: '2024-03-15',
        timeZone: 'Europe/Paris',
        events: [
          ['u1', 'add', '2024-02-01T10:00:00Z'],
          ['u1', 'remove', '2024-03-15T23:00:00Z'],
        ],
      })[0],
    ).toBe(516);
  });

  it('counts an add at 23:30 local (Paris) from that day: Mar 20..31 = 12/31 → 387 cents', () => {
    expect(
      bill({
        period: '2024-03-15',
        timeZone: 'Europe/Paris',
        events: [['u1', 'add', '2024-03-20T22:30:00Z']],
      })[0],
    ).toBe(387);
  });

  it('counts a removal at 23:30 in New York on Mar 15 (Mar 16 in UTC) on Mar 15: 15/31 → 484 cents', () => {
    expect(
      bill({
        period: '2024-03-15',
        timeZone: 'America/New_York',
        events: [
          ['u1', 'add', '2024-02-01T15:00:00Z'],
          ['u1', 'remove', '2024-03-16T03:30:00Z'],
        ],
      }),
    ).toEqual([484, '0.48388', '0.0', 1]);
  });

  it('bills Sydney, September 2023 (spring-forward on Oct 1) as exactly 30/30 = 1 unit, not Lago’s 1.03334', () => {
    expect(
      bill({
        period: '2023-09-10',
        timeZone: 'Australia/Sydney',
        events: [['u1', 'add', '2023-08-01T00:00:00Z']],
      }),
    ).toEqual([1000, '1.0', '1.0', 0]);
    // Removed at 23:30 on Sep 30, the eve of the spring-forward: still exactly 30 days.
    expect(
      bill({
        period: '2023-09-10',
        timeZone: 'Australia/Sydney',
        events: [
          ['u1', 'add', '2023-08-01T00:00:00Z'],
          ['u1', 'remove', '2023-09-30T13:30:00Z'],
        ],
      })[1],
    ).toBe('1.0');
  });

  it('bills the New York anniversary month Feb 10 – Mar 9 2024 as exactly 29/29 = 1 unit, not Lago’s 1.03449', () => {
    expect(
      bill({
        period: '2024-03-01',
        timeZone: 'America/New_York',
        billingTime: 'anniversary',
        anchor: '2024-01-10',
        events: [['u1', 'add', '2024-01-10T15:00:00Z']],
      }),
    ).toEqual([1000, '1.0', '1.0', 0]);
  });

  it('bills a New York removal at 22:30 on Mar 9 2024 (eve of the spring-forward) for 9 days, not 10', () => {
    const fee = seatFee({
      period: '2024-03-15',
      timeZone: 'America/New_York',
      events: [
        ['u1', 'add', '2024-02-01T15:00:00Z'],
        ['u1', 'remove', '2024-03-10T03:30:00Z'],
      ],
    });
    expect([fee.seatDays, fee.proratedUnits, fee.amountCents]).toEqual([9, '0.29033', 290]);
  });

  it('treats Paris DST days as ordinary days: the 23-hour Mar 31 and the 25-hour Oct 27 count once each', () => {
    expect(
      bill({
        period: '2024-03-15',
        timeZone: 'Europe/Paris',
        events: [['u1', 'add', '2024-01-01T00:00:00Z']],
      })[1],
    ).toBe('1.0');
    // Added at 01:30 local on Mar 31 2024 (the night of the spring-forward): 1 day.
    expect(
      seatFee({
        period: '2024-03-15',
        timeZone: 'Europe/Paris',
        events: [['u1', 'add', '2024-03-31T00:30:00Z']],
      }).seatDays,
    ).toBe(1);
    // Added at 02:30 CEST on Oct 27 2024 (the repeated hour): Oct 27..31 = 5/31 → 0.1613 → 161 cents.
    expect(
      bill({
        period: '2024-10-15',
        timeZone: 'Europe/Paris',
        events: [['u1', 'add', '2024-10-27T00:30:00Z']],
      }),
    ).toEqual([161, '0.1613', '1.0', 1]);
    expect(
      bill({
        period: '2024-10-15',
        timeZone: 'Europe/Paris',
        events: [['u1', 'add', '2024-01-01T00:00:00Z']],
      })[1],
    ).toBe('1.0');
  });

  it('bills New York November 2024 (fall-back on Nov 3) as 30/30', () => {
    expect(
      bill({
        period: '2024-11-15',
        timeZone: 'America/New_York',
        events: [['u1', 'add', '2024-10-01T12:00:00Z']],
      })[1],
    ).toBe('1.0');
  });
});

describe('SPEC §1-2: D is the whole period', () => {
  it('uses D = 29 in February 2024: a seat from Feb 15 is 15/29 → 0.51725 → 517 cents', () => {
    expect(bill({ period: '2024-02-10', events: [['u1', 'add', '2024-02-15T09:00:00Z']] })).toEqual([
      517,
      '0.51725',
      '1.0',
      1,
    ]);
    expect(bill({ period: '2024-02-10', events: [['u1', 'add', '2024-01-15T09:00:00Z']] })[0]).toBe(1000);
  });

  it('uses D = 28 in February 2023: a seat from Feb 15 is 14/28 = 0.5 → 500 cents', () => {
    expect(bill({ period: '2023-02-10', events: [['u1', 'add', '2023-02-15T09:00:00Z']] })[0]).toBe(500);
  });

  it('bills a month-end anniversary period Feb 29 – Mar 30 (D = 31) in full for a seat added on Feb 29', () => {
    const fee = seatFee({
      period: '2024-03-10',
      billingTime: 'anniversary',
      anchor: '2024-01-31',
      events: [['u1', 'add', '2024-02-29T10:00:00Z']],
    });
    expect([fee.durationDays, fee.seatDays, fee.amountCents]).toEqual([31, 31, 1000]);
  });

  it('bills the first partial period from started_at: June from 06-05, seat added 06-11 → 20/30 → 667 cents', () => {
    expect(
      bill({
        period: '2024-06-10',
        startedAt: '2024-06-05T00:00:00Z',
        events: [['u1', 'add', '2024-06-11T10:00:00Z']],
      }),
    ).toEqual([667, '0.66667', '1.0', 1]);
    // A seat added before started_at counts from started_at's day: 26/30 → 0.86667 → 867 cents.
    expect(
      bill({
        period: '2024-06-10',
        startedAt: '2024-06-05T14:00:00Z',
        events: [['u1', 'add', '2024-05-20T10:00:00Z']],
      })[0],
    ).toBe(867);
  });

  it('bills a termination on the first day for 1/31 and on the last day for 31/31, D unchanged', () => {
    const carried: SeatStory[] = [['u1', 'add', '2024-06-01T10:00:00Z']];
    const july: SeatFeeStory = { period: '2024-07-10', events: carried };
    expect(bill({ ...july, terminatedAt: '2024-07-01T10:00:00Z' })).toEqual([32, '0.03226', '1.0', 0]);
    expect(bill({ ...july, terminatedAt: '2024-07-15T01:10:00Z' })).toEqual([484, '0.48388', '1.0', 0]);
    expect(bill({ ...july, terminatedAt: '2024-07-31T18:00:00Z' })).toEqual([1000, '1.0', '1.0', 0]);
    // Events after terminated_at do not count.
    expect(
      bill({
        ...july,
        terminatedAt: '2024-07-15T01:10:00Z',
        events: [...carried, ['u2', 'add', '2024-07-15T02:00:00Z']],
      })[3],
    ).toBe(0);
  });
});

describe('SPEC §7: rounding once per fee to the currency minor unit', () => {
  it('bills yen without decimals: 10/31 → 0.32259 × ¥333 = 107.42247 → ¥107', () => {
    const fee = seatFee({
      period: '2024-03-10',
      price: '333',
      currency: 'JPY',
      events: [['u1', 'add', '2024-03-22T00:00:00Z']],
    });
    expect([fee.proratedUnits, fee.preciseAmount, fee.amountCents]).toEqual(['0.32259', '107.42247', 107]);
  });

  it('rounds half up at .5: 15/30 × $0.01 = $0.005 → 1 cent; 15/30 × $10.01 = $5.005 → 501 cents', () => {
    const june: SeatFeeStory = { period: '2024-06-10', events: [['u1', 'add', '2024-06-16T00:00:00Z']] };
    expect(bill({ ...june, price: '0.01' })[0]).toBe(1);
    expect(bill({ ...june, price: '10.01' })[0]).toBe(501);
  });
});
