/**
 * Billing core benchmark (a script, not a test): `node dist/bench/billing-current-usage.js`.
 *
 * 1. Current usage of one subscription with 10,000 seats and 100,000 seat events in the period
 *    (budget: < 200 ms), plus the cost of applying those events to the ledger.
 * 2. Simulation of 1,000 subscriptions × 12 monthly periods (about 60 events per subscription and
 *    month), each through the same steps the subscription workflow runs.
 *
 * Prints the median of several runs. Inputs come from a fixed-seed generator, so runs compare.
 */
import { performance } from 'node:perf_hooks';
import {
  applySeatEvent,
  currentUsage,
  openCycle,
  parseIsoInstant,
  periodContainingDate,
  scheduleOf,
  simulate,
  type BillingTerms,
  type MeteredEvent,
  type SimulationEvent,
  type SimulationInput,
} from '../src/billing';

/** xorshift32: deterministic inputs without Math.random. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

function instant(iso: string): number {
  const at = parseIsoInstant(iso);
  if (at === null) throw new Error(iso);
  return at;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function time<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

const terms: BillingTerms = {
  timeZone: 'Europe/Paris',
  graceDays: 0,
  billingTime: 'calendar',
  anchorLocalDate: '2024-01-01',
  plan: {
    code: 'team',
    interval: 'monthly',
    amountCents: 0,
    currency: 'USD',
    payInAdvance: false,
    charges: [
      {
        code: 'seat_fee',
        lagoId: null,
        billableMetricCode: 'seats',
        chargeModel: 'standard',
        prorated: true,
        properties: { amount: '10' },
        invoiceDisplayName: null,
      },
    ],
  },
  metrics: [
    {
      code: 'seats',
      name: 'Seats',
      lagoId: null,
      aggregationType: 'unique_count_agg',
      fieldName: 'user_id',
      recurring: true,
    },
  ],
};

function currentUsageBenchmark(): void {
  const seats = 10_000;
  const eventsInPeriod = 100_000;
  const periodStart = instant('2024-03-01T00:00:00+01:00');
  const periodMs = instant('2024-04-01T00:00:00+02:00') - periodStart;
  const random = generator(42);
  const events: MeteredEvent[] = [];
  // Every seat was added before March (carried over), then 100,000 adds/removes land in March.
  for (let i = 0; i < seats; i += 1) {
    events.push({
      kind: 'seat',
      metricCode: 'seats',
      at: periodStart - 86_400_000 * (1 + (i % 60)),
      seq: i,
      seatKey: `user-${i}`,
      op: 'add',
    });
  }
  for (let i = 0; i < eventsInPeriod; i += 1) {
    events.push({
      kind: 'seat',
      metricCode: 'seats',
      at: periodStart + Math.floor(random() * periodMs),
      seq: seats + i,
      seatKey: `user-${Math.floor(random() * seats)}`,
      op: random() < 0.5 ? 'add' : 'remove',
    });
  }
  // Arrival in a shuffled order (late and out-of-order events are the hard case for the ledger).
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j] as MeteredEvent, events[i] as MeteredEvent];
  }

  const applyTimes: number[] = [];
  const usageTimes: number[] = [];
  let amount = 0;
  for (let run = 0; run < 7; run += 1) {
    // A subscription started in January, looked at in March (no invoice is needed for the bench).
    const cycle = openCycle(terms, instant('2024-01-01T00:00:00+01:00'));
    cycle.period = periodContainingDate(scheduleOf(terms), '2024-03-15');
    const [, applyMs] = time(() => {
      for (const event of events) applySeatEvent(cycle.ledger, event);
    });
    applyTimes.push(applyMs);
    const [usage, usageMs] = time(() => currentUsage(cycle));
    usageTimes.push(usageMs);
    amount = usage?.amountCents ?? 0;
  }
  console.log(
    `current usage, 10,000 seats, 100,000 events in the period (Europe/Paris): median ${median(usageTimes).toFixed(1)} ms ` +
      `(min ${Math.min(...usageTimes).toFixed(1)}, max ${Math.max(...usageTimes).toFixed(1)}; amount ${amount} cents)`,
  );
  console.log(
    `  applying the 110,000 events to an empty ledger, shuffled arrival: median ${median(applyTimes).toFixed(1)} ms ` +
      `(${((median(applyTimes) * 1000) / events.length).toFixed(2)} µs/event)`,
  );
}

const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney', 'Asia/Tokyo'];

function subscriptionScenario(index: number): SimulationInput {
  const random = generator(1000 + index);
  const timeZone = ZONES[index % ZONES.length] as string;
  const start = instant('2024-01-01T00:00:00Z');
  const year = instant('2025-01-01T00:00:00Z') - start;
  const events: SimulationEvent[] = [];
  const seats = 20 + Math.floor(random() * 20);
  for (let i = 0; i < 12 * 60; i += 1) {
    events.push({
      transactionId: `t${i}`,
      code: 'seats',
      at: start + Math.floor(random() * year),
      receivedAt: null,
      properties: {
        user_id: `u${Math.floor(random() * seats)}`,
        operation_type: random() < 0.6 ? 'add' : 'remove',
      },
    });
  }
  return {
    customer: { externalId: `c${index}`, timeZone, graceDays: index % 4 === 0 ? 2 : 0 },
    metrics: terms.metrics,
    plan: { ...terms.plan, amountCents: 1500 },
    subscription: {
      externalId: `s${index}`,
      billingTime: index % 2 === 0 ? 'calendar' : 'anniversary',
      subscriptionAt: start + Math.floor(random() * 86_400_000 * 20),
      terminatedAt: null,
    },
    events,
    wallets: [
      {
        code: 'prepaid',
        name: null,
        currency: 'USD',
        rateAmount: '1',
        grantedCredits: '500',
        priority: 50,
        createdAt: start,
        expirationAt: null,
        appliesTo: { feeTypes: [], billableMetricCodes: [] },
      },
    ],
    asOf: instant('2025-01-25T00:00:00Z'),
    invoiceNumberPrefix: 'BEN',
    customerSequentialId: index + 1,
  };
}

function simulationBenchmark(): void {
  const subscriptions = 1000;
  const inputs = Array.from({ length: subscriptions }, (_, i) => subscriptionScenario(i));
  const times: number[] = [];
  let invoices = 0;
  let billed = 0;
  for (let run = 0; run < 3; run += 1) {
    const [results, ms] = time(() => inputs.map((input) => simulate(input)));
    times.push(ms);
    invoices = results.reduce((sum, result) => sum + result.invoices.length, 0);
    billed = results.reduce(
      (sum, result) => sum + result.invoices.reduce((s, r) => s + r.invoice.feesAmountCents, 0),
      0,
    );
  }
  const events = inputs.reduce((sum, input) => sum + input.events.length, 0);
  console.log(
    `simulate 1,000 subscriptions × 12 months (${events.toLocaleString('en-US')} events, ${invoices.toLocaleString('en-US')} invoices, ` +
      `5 zones): median ${median(times).toFixed(0)} ms (${(median(times) / invoices).toFixed(3)} ms/invoice; billed ${billed} cents)`,
  );
}

currentUsageBenchmark();
simulationBenchmark();
