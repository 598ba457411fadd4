import {
  applySeatEvent,
  copyLedger,
  emptyLedger,
  rollLedger,
  seatsActiveAt,
  type MeteredEvent,
  type SeatLedger,
} from '../../../src/billing';
import { at, seatEvents, seatFee } from './billing-stories';

function seat(seatKey: string, op: 'add' | 'remove', iso: string, seq: number): MeteredEvent {
  return { kind: 'seat', metricCode: 'seats', at: at(iso), seq, seatKey, op };
}

function roundTrip(ledger: SeatLedger): SeatLedger {
  return JSON.parse(JSON.stringify(ledger)) as SeatLedger;
}

describe('the seat ledger is plain JSON, incremental and order-independent', () => {
  it('stores marks sorted by (timestamp, sequence) whatever the arrival order', () => {
    const ledger = emptyLedger();
    const events = [
      seat('u1', 'remove', '2024-03-20T08:00:00Z', 2),
      seat('u1', 'add', '2024-03-01T09:00:00Z', 0),
      seat('u1', 'add', '2024-03-25T08:00:00Z', 3),
      seat('u1', 'add', '2024-03-20T08:00:00Z', 1),
    ];
    expect(events.map((event) => applySeatEvent(ledger, event))).toEqual([
      'recorded',
      'recorded',
      'recorded',
      'recorded',
    ]);
    expect(ledger.metrics[0]?.seats[0]?.marks).toEqual([
      [at('2024-03-01T09:00:00Z'), 0, 'add'],
      [at('2024-03-20T08:00:00Z'), 1, 'add'],
      [at('2024-03-20T08:00:00Z'), 2, 'remove'],
      [at('2024-03-25T08:00:00Z'), 3, 'add'],
    ]);
  });

  it('applies a redelivered event once (same timestamp and sequence)', () => {
    const ledger = emptyLedger();
    const event = seat('u1', 'add', '2024-03-01T09:00:00Z', 7);
    expect(applySeatEvent(ledger, event)).toBe('recorded');
    expect(applySeatEvent(ledger, { ...event })).toBe('duplicate');
    expect(ledger.metrics[0]?.seats[0]?.marks).toHaveLength(1);
  });

  it('survives a JSON round trip (continue-as-new) and keeps working, even with seat keys like "__proto__"', () => {
    const ledger = emptyLedger();
    applySeatEvent(ledger, seat('__proto__', 'add', '2024-03-01T09:00:00Z', 0));
    applySeatEvent(ledger, seat('constructor', 'add', '2024-03-02T09:00:00Z', 1));
    const copy = roundTrip(ledger);
    expect(copy).toEqual(ledger);
    expect(applySeatEvent(copy, seat('__proto__', 'remove', '2024-03-05T09:00:00Z', 2))).toBe('recorded');
    expect(applySeatEvent(copy, seat('constructor', 'add', '2024-03-02T09:00:00Z', 1))).toBe('duplicate');
    expect(seatsActiveAt(copy, 'seats', at('2024-03-10T00:00:00Z'))).toEqual(['constructor']);
    expect(Object.getPrototypeOf(copy.metrics[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('copies deeply', () => {
    const ledger = emptyLedger();
    applySeatEvent(ledger, seat('u1', 'add', '2024-03-01T09:00:00Z', 0));
    const copy = copyLedger(ledger);
    applySeatEvent(copy, seat('u1', 'remove', '2024-03-05T09:00:00Z', 1));
    expect(ledger.metrics[0]?.seats[0]?.marks).toHaveLength(1);
  });
});

describe('compaction at a period roll', () => {
  const april = at('2024-04-01T00:00:00Z');

  function marchLedger(): SeatLedger {
    const ledger = emptyLedger();
    for (const event of seatEvents([
      ['u1', 'add', '2024-03-01T09:00:00Z'],
      ['u2', 'add', '2024-03-10T15:00:00Z'],
      ['u1', 'remove', '2024-03-20T08:00:00Z'],
      ['u3', 'add', '2024-02-01T08:00:00Z'],
      ['u3', 'remove', '2024-02-02T08:00:00Z'],
      ['u4', 'add', '2024-04-15T08:00:00Z'],
    ])) {
      applySeatEvent(ledger, event);
    }
    return ledger;
  }

  it('collapses everything before the horizon to each seat’s last mark and keeps future-dated events', () => {
    const ledger = marchLedger();
    const summary = rollLedger(ledger, april, at('2024-03-01T00:00:00Z'));
    expect(summary).toEqual({ seats: 3, forgotten: 1, usageDropped: 0 });
    expect(ledger.compactedBefore).toBe(april);
    expect(ledger.forgottenBefore).toBe(at('2024-03-01T00:00:00Z'));
    expect(ledger.metrics[0]?.seats).toEqual([
      // u1 left in March: kept as a tombstone for one more period (late events).
      { key: 'u1', carry: [at('2024-03-20T08:00:00Z'), 2, 'remove'], marks: [] },
      { key: 'u2', carry: [at('2024-03-10T15:00:00Z'), 1, 'add'], marks: [] },
      { key: 'u4', carry: null, marks: [[at('2024-04-15T08:00:00Z'), 5, 'add']] },
    ]);
    // u3 (gone since February) was dropped.
  });

  it('merges a late event before the horizon with the carried state by (timestamp, sequence)', () => {
    const ledger = marchLedger();
    rollLedger(ledger, april, at('2024-03-01T00:00:00Z'));
    // An add of u1 older than its removal changes nothing…
    expect(applySeatEvent(ledger, seat('u1', 'add', '2024-03-15T08:00:00Z', 9))).toBe('stale');
    // …a removal of u2 after its add ends it before April…
    expect(applySeatEvent(ledger, seat('u2', 'remove', '2024-03-25T08:00:00Z', 10))).toBe('carried');
    // …and a brand-new seat added late in March is active from April 1.
    expect(applySeatEvent(ledger, seat('u5', 'add', '2024-03-31T22:00:00Z', 11))).toBe('carried');
    expect(seatsActiveAt(ledger, 'seats', april)).toEqual(['u5']);
    // April: u5 all month (30/30) and u4 from the 15th (16/30): 46/30 → 1.53334 → 1533 cents.
    const fee = seatFee({ period: '2024-04-10', events: [] }, ledger);
    expect([fee.seatDays, fee.proratedUnits, fee.amountCents, fee.units]).toEqual([
      46,
      '1.53334',
      1533,
      '2.0',
    ]);
  });

  it('refuses a late event older than the tombstones it may contradict', () => {
    const ledger = marchLedger();
    rollLedger(ledger, april, at('2024-03-01T00:00:00Z'));
    // u3's removal (Feb 2) was forgotten: an add dated Feb 1 cannot be placed, so it is refused.
    expect(applySeatEvent(ledger, seat('u3', 'add', '2024-02-01T07:00:00Z', 12))).toBe('forgotten');
    // A late add after the forgetting limit is exact again.
    expect(applySeatEvent(ledger, seat('u3', 'add', '2024-03-05T07:00:00Z', 13))).toBe('carried');
  });

  it('never moves the horizon back', () => {
    const ledger = marchLedger();
    rollLedger(ledger, april);
    expect(() => rollLedger(ledger, at('2024-03-01T00:00:00Z'))).toThrow(RangeError);
  });

  it('drops non-recurring usage of finished periods and refuses it when late', () => {
    const ledger = emptyLedger();
    applySeatEvent(ledger, {
      kind: 'usage',
      metricCode: 'calls',
      at: at('2024-03-10T00:00:00Z'),
      seq: 0,
      value: '1',
    });
    applySeatEvent(ledger, {
      kind: 'usage',
      metricCode: 'calls',
      at: at('2024-04-10T00:00:00Z'),
      seq: 1,
      value: '1',
    });
    expect(rollLedger(ledger, april).usageDropped).toBe(1);
    expect(ledger.metrics[0]?.usage).toEqual([[at('2024-04-10T00:00:00Z'), 1, '1']]);
    expect(
      applySeatEvent(ledger, {
        kind: 'usage',
        metricCode: 'calls',
        at: at('2024-03-11T00:00:00Z'),
        seq: 2,
        value: '1',
      }),
    ).toBe('stale');
  });
});
