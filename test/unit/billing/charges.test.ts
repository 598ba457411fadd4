import {
  applySeatEvent,
  chargeWindow,
  computeChargeFee,
  emptyLedger,
  meteredEventOf,
  periodContainingDate,
  periodDayTable,
  type BillableMetric,
  type Charge,
  type ReceivedEvent,
} from '../../../src/billing';
import { at, schedule, seatsMetric } from './billing-stories';

const calls: BillableMetric = {
  code: 'calls',
  name: 'API calls',
  lagoId: null,
  aggregationType: 'count_agg',
  fieldName: null,
  recurring: false,
};
const storage: BillableMetric = {
  code: 'storage',
  name: 'Storage',
  lagoId: null,
  aggregationType: 'sum_agg',
  fieldName: 'gb',
  recurring: false,
};
const guests: BillableMetric = { ...seatsMetric, code: 'guests', name: 'Guests', recurring: false };
const metrics = [seatsMetric, calls, storage, guests];

function standard(metric: BillableMetric, amount: string): Charge {
  return {
    code: `${metric.code}_fee`,
    lagoId: null,
    billableMetricCode: metric.code,
    chargeModel: 'standard',
    prorated: false,
    properties: { amount },
    invoiceDisplayName: null,
  };
}

function received(code: string, iso: string, properties: Record<string, unknown>, seq = 0): ReceivedEvent {
  return { code, at: at(iso), seq, properties };
}

/** Bills one charge over calendar March 2024 (UTC) from raw events. */
function billMarch(
  metric: BillableMetric,
  amount: string,
  events: ReceivedEvent[],
): [string, number, number] {
  const ledger = emptyLedger();
  for (const event of events) {
    const metered = meteredEventOf(metrics, event);
    if (metered.ok) applySeatEvent(ledger, metered.event);
  }
  const period = periodContainingDate(schedule(), '2024-03-10');
  const fee = computeChargeFee(
    standard(metric, amount),
    metric,
    ledger,
    chargeWindow(period, period.startAt),
    periodDayTable(period, 'UTC'),
    'USD',
  );
  return [fee.units, fee.eventsCount, fee.amountCents];
}

describe('standard charges on count, sum and non-recurring unique counts', () => {
  it('counts the events of the period: 3 calls at $0.5 → units "3.0", 150 cents', () => {
    expect(
      billMarch(calls, '0.5', [
        received('calls', '2024-02-29T23:59:59Z', {}, 0),
        received('calls', '2024-03-01T00:00:00Z', {}, 1),
        received('calls', '2024-03-15T00:00:00Z', {}, 2),
        received('calls', '2024-03-31T23:59:59.999Z', {}, 3),
        received('calls', '2024-04-01T00:00:00Z', {}, 4),
      ]),
    ).toEqual(['3.0', 3, 150]);
  });

  it('sums a decimal property exactly: 2.5 + 4 + 0.1 + 0.2 = 6.8 GB at $2 → 1360 cents', () => {
    expect(
      billMarch(storage, '2', [
        received('storage', '2024-03-02T00:00:00Z', { gb: '2.5' }, 0),
        received('storage', '2024-03-03T00:00:00Z', { gb: 4 }, 1),
        received('storage', '2024-03-04T00:00:00Z', { gb: 0.1 }, 2),
        received('storage', '2024-03-05T00:00:00Z', { gb: '0.2' }, 3),
        received('storage', '2024-03-06T00:00:00Z', { gb: 'lots' }, 4),
      ]),
    ).toEqual(['6.8', 4, 1360]);
  });

  it('resets a negative sum to 0, as Lago does', () => {
    expect(billMarch(storage, '2', [received('storage', '2024-03-02T00:00:00Z', { gb: '-3' })])).toEqual([
      '0.0',
      1,
      0,
    ]);
  });

  it('counts only the period’s events for a non-recurring unique count (no carry-over)', () => {
    expect(
      billMarch(guests, '3', [
        received('guests', '2024-02-10T00:00:00Z', { user_id: 'g1' }, 0),
        received('guests', '2024-03-10T00:00:00Z', { user_id: 'g2' }, 1),
      ]),
    ).toEqual(['1.0', 1, 300]);
  });
});

describe('reading Lago event properties', () => {
  it('takes the seat key from properties[field_name] and the operation (add by default, anything else removes)', () => {
    const at0 = '2024-03-01T00:00:00Z';
    expect(meteredEventOf(metrics, received('seats', at0, { user_id: 'u1' }))).toEqual({
      ok: true,
      event: { kind: 'seat', metricCode: 'seats', at: at(at0), seq: 0, seatKey: 'u1', op: 'add' },
    });
    expect(
      meteredEventOf(metrics, received('seats', at0, { user_id: 42, operation_type: 'remove' })),
    ).toMatchObject({
      ok: true,
      event: { seatKey: '42', op: 'remove' },
    });
    expect(
      meteredEventOf(metrics, received('seats', at0, { user_id: 'u1', operation_type: 'delete' })),
    ).toMatchObject({
      event: { op: 'remove' },
    });
  });

  it('never bills unknown metrics, nor events missing their field', () => {
    const at0 = '2024-03-01T00:00:00Z';
    expect(meteredEventOf(metrics, received('api', at0, { user_id: 'u1' }))).toEqual({
      ok: false,
      error: 'unknown_metric',
    });
    expect(meteredEventOf(metrics, received('seats', at0, { user: 'u1' }))).toEqual({
      ok: false,
      error: 'missing_field',
    });
    expect(meteredEventOf(metrics, received('seats', at0, { user_id: null }))).toEqual({
      ok: false,
      error: 'missing_field',
    });
    expect(meteredEventOf(metrics, received('storage', at0, { gb: '1e3' }))).toEqual({
      ok: false,
      error: 'invalid_value',
    });
    expect(
      meteredEventOf(
        metrics,
        received('seats', at0, JSON.parse('{"__proto__": "u1"}') as Record<string, unknown>),
      ),
    ).toEqual({
      ok: false,
      error: 'missing_field',
    });
  });
});
