/**
 * big-subscription: one subscription receiving 100,000 seat events in one period (60,000 users
 * join, 40,000 of them leave; 20,000 seats at the end), sent as batches of 100 through the API.
 * Reports the ingest rate, the workflow's runs (continue-as-new count) with history length and size
 * per run, current-usage latency at the end through the API and as a bare query, and the worker's
 * memory; checks the usage against `prorata simulate` of the same events.
 *
 * Baselines, same run, same worker: a query to a trivial workflow (latency), and the worker's
 * memory before the load.
 *
 * Args: [events = 100000]
 */
import { currentUsageQuery, seatEventsSignal } from '../src/temporal/messages';
import { subscriptionWorkflowId } from '../src/temporal/ids';
import { processMemory, startBenchStack } from './support/stack';
import { closedLoop, table, until } from './support/measure';
import {
  apiClient,
  createSeatCatalog,
  createSubscriptions,
  runHistories,
  seatEvent,
  signalSeats,
  simulateSubscription,
  type SeatEventInput,
} from './support/seats';
import { baselinePingQuery, baselineStopSignal, type baselineIdleWorkflow } from './workflows';

const EVENTS = Math.floor(Number(process.argv[2] ?? 100_000) / 5) * 5;

function log(message: string): void {
  console.error(`[big-subscription] ${message}`);
}

async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const call = apiClient(stack.baseUrl, stack.apiKey);
    const catalog = await createSeatCatalog(call);
    const now = new Date();
    const periodStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const span = Math.max(60_000, now.getTime() - 60_000 - periodStart);
    const externalId = 'big';
    await createSubscriptions(call, [{ externalId, subscriptionAt: periodStart }], 1);
    const workflowId = subscriptionWorkflowId(stack.organizationId, externalId);

    // Blocks of five: users 3b, 3b+1, 3b+2 join, then 2b and 2b+1 (joined earlier) leave.
    const events: SeatEventInput[] = [];
    for (let b = 0; b < EVENTS / 5; b++) {
      const ops: [number, 'add' | 'remove'][] = [
        [3 * b, 'add'],
        [3 * b + 1, 'add'],
        [3 * b + 2, 'add'],
        [2 * b, 'remove'],
        [2 * b + 1, 'remove'],
      ];
      for (const [user, op] of ops) {
        const k = events.length;
        events.push(
          seatEvent(`e${k}`, externalId, `u${user}`, op, periodStart + Math.floor((k / EVENTS) * span)),
        );
      }
    }
    const seatsAtEnd = (EVENTS / 5) * 3 - (EVENTS / 5) * 2;
    const idleMemory = processMemory(stack.pid('worker'));

    log(`signalling ${EVENTS} events, 100 per signal`);
    const t0 = performance.now();
    await signalSeats(stack.client, workflowId, events);
    const ingest = {
      items: EVENTS,
      rate: EVENTS / ((performance.now() - t0) / 1000),
      errors: 0,
      errorSamples: [],
    };
    const usagePath = `/customers/${externalId}_customer/current_usage?external_subscription_id=${externalId}`;
    type Usage = { customer_usage: { amount_cents: number; charges_usage: { units: string }[] } };
    const settleMs = await until(`${seatsAtEnd} seats in current usage`, 600_000, async () => {
      const res = await call<Usage>('GET', usagePath);
      return Number(res.body?.customer_usage?.charges_usage[0]?.units) === seatsAtEnd;
    });
    const simulation = simulateSubscription(catalog, externalId, periodStart, events, Date.now());
    const usage = (await call<Usage>('GET', usagePath)).body.customer_usage;

    log('query latency');
    const baselineId = 'bench-idle-big';
    await stack.client.workflow.start<typeof baselineIdleWorkflow>('baselineIdleWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: baselineId,
      args: [baselineId],
    });
    const baseline = stack.client.workflow.getHandle(baselineId);
    const handle = stack.client.workflow.getHandle(workflowId);
    await closedLoop(50, 1, async () => (await baseline.query(baselinePingQuery), 1));
    const baseQuery = await closedLoop(200, 1, async () => (await baseline.query(baselinePingQuery), 1));
    const bareQuery = await closedLoop(200, 1, async () => (await handle.query(currentUsageQuery), 1));
    const apiQuery = await closedLoop(200, 1, async () => {
      const res = await call('GET', usagePath);
      if (res.status !== 200) throw new Error(`${res.status}`);
      return 1;
    });
    await baseline.signal(baselineStopSignal);
    const memory = processMemory(stack.pid('worker'));

    const runs = (await runHistories(stack.client, workflowId, seatEventsSignal.name)).reverse();
    const signals = runs.reduce((n, r) => n + r.signals, 0);
    const expectedCents = simulation.currentUsage?.amountCents;

    console.log(
      `MongoDB: ${stack.mongoKind}. ${EVENTS.toLocaleString('en-US')} events for one subscription, ` +
        `${seatsAtEnd.toLocaleString('en-US')} seats at the end; current usage ${usage.amount_cents} cents ` +
        `(prorata simulate: ${expectedCents}${usage.amount_cents === expectedCents ? ', equal' : ', DIFFERENT'}).\n`,
    );
    console.log(
      table([
        ['ingest', 'events', 'signalled events/s', 'applied after the last signal, ms'],
        ['signals of 100 events, 4 concurrent', ingest.items, ingest.rate, settleMs],
      ]),
    );
    console.log('');
    console.log(
      table([
        [
          'history',
          'runs',
          'continue-as-new',
          'signals',
          'events per signal',
          'max events/run',
          'max KiB/run',
          'last run events',
        ],
        [
          'subscription workflow',
          runs.length,
          runs.length - 1,
          signals,
          EVENTS / signals,
          Math.max(...runs.map((r) => r.events)),
          Math.max(...runs.map((r) => r.bytes)) / 1024,
          runs[runs.length - 1]!.events,
        ],
      ]),
    );
    console.log('');
    console.log(
      table([
        ['query at the end (sequential)', 'p50 ms', 'p99 ms', 'p50 ratio to baseline'],
        ['baseline: trivial workflow query', baseQuery.p50, baseQuery.p99, 1],
        ['currentUsage query, bare', bareQuery.p50, bareQuery.p99, bareQuery.p50 / baseQuery.p50],
        ['GET current_usage (API)', apiQuery.p50, apiQuery.p99, apiQuery.p50 / baseQuery.p50],
      ]),
    );
    console.log('');
    console.log(
      table([
        ['worker memory', 'RSS MiB', 'peak MiB'],
        ['before the events (baseline)', idleMemory?.rssMiB ?? NaN, idleMemory?.peakMiB ?? NaN],
        ['after', memory?.rssMiB ?? NaN, memory?.peakMiB ?? NaN],
      ]),
    );
    if (usage.amount_cents !== expectedCents) throw new Error('current usage differs from prorata simulate');
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
