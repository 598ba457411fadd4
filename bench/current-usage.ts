/**
 * current-usage: GET /customers/{id}/current_usage?external_subscription_id=... for subscriptions
 * with 10, 1,000 and 10,000 active seats, at a fixed 200 requests/s (Lago's per-organization limit)
 * and at saturation (32 concurrent callers, back to back).
 *
 * Baseline, same run, same worker: a query straight to a trivial workflow (bench/workflows.ts
 * baselineIdleWorkflow) from a Temporal client, at the same rate and concurrency. The ratio shows
 * what the API (auth, two MongoDB reads, JSON) and the usage computation add to a bare query.
 *
 * Seats are signalled straight to the workflows (bench/support/seats.ts signalSeats); ingest is the
 * ingest benchmark's subject.
 *
 * Args: [seconds at the fixed rate = 10] [requests at saturation = 2000] [seats = 10,1000,10000]
 *       [fixed rate, requests/s = 200] (issue #14's p99 target is at 100/s)
 */
import { startBenchStack, untilStackQuiet } from './support/stack';
import { leanApiClient } from './support/http';
import { closedLoop, openLoop, table, until, type LoadResult } from './support/measure';
import {
  DAY,
  createSeatCatalog,
  createSubscriptions,
  seatEvent,
  signalSeats,
  subscriptionWorkflowId,
} from './support/seats';
import { baselinePingQuery, baselineStopSignal, type baselineIdleWorkflow } from './workflows';

const SECONDS = Number(process.argv[2] ?? 10);
const SATURATION_REQUESTS = Number(process.argv[3] ?? 2000);
const SEATS = (process.argv[4] ?? '10,1000,10000').split(',').map(Number);
const RATE = Number(process.argv[5] ?? 200);
const CONCURRENCY = 32;

function log(message: string): void {
  console.error(`[current-usage] ${message}`);
}

async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const call = leanApiClient(stack.baseUrl, stack.apiKey);
    await createSeatCatalog(call);
    const now = Date.now();
    const subscriptionAt = now - 2 * DAY;
    const subs = SEATS.map((seats) => ({ externalId: `usage_${seats}`, subscriptionAt, seats }));
    await createSubscriptions(call, subs, 1);

    for (const sub of subs) {
      log(`${sub.externalId}: signalling ${sub.seats} seats`);
      const seats = Array.from({ length: sub.seats }, (_, i) =>
        seatEvent(`${sub.externalId}-${i}`, sub.externalId, `u${i}`, 'add', subscriptionAt + DAY + i * 1000),
      );
      await signalSeats(stack.client, subscriptionWorkflowId(stack.organizationId, sub.externalId), seats);
      await until(`${sub.seats} seats in current usage`, 120_000, async () => {
        const res = await call<{ customer_usage: { charges_usage: { units: string }[] } }>(
          'GET',
          `/customers/${sub.externalId}_customer/current_usage?external_subscription_id=${sub.externalId}`,
        );
        return Number(res.body?.customer_usage?.charges_usage[0]?.units) === sub.seats;
      });
    }

    const baselineId = 'bench-idle-usage';
    await stack.client.workflow.start<typeof baselineIdleWorkflow>('baselineIdleWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: baselineId,
      args: [baselineId],
    });
    const baselineHandle = stack.client.workflow.getHandle(baselineId);
    const baselineQuery = async () => {
      await baselineHandle.query(baselinePingQuery);
      return 1;
    };

    const rows: (string | number)[][] = [
      ['what', 'load', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'p50 ratio', 'p99 ratio', 'errors'],
    ];
    const add = (what: string, load: string, r: LoadResult, base?: LoadResult) => {
      rows.push([
        what,
        load,
        r.operations,
        r.rate,
        r.p50,
        r.p99,
        base ? r.p50 / base.p50 : '',
        base ? r.p99 / base.p99 : '',
        r.errors,
      ]);
      for (const e of r.errorSamples) log(`error: ${e}`);
    };
    const saturationRows: (string | number)[][] = [['what', 'req/s at saturation', 'ratio to baseline']];

    // Warm both paths (connections, JIT), then measure each subscription beside a fresh baseline.
    await closedLoop(200, CONCURRENCY, baselineQuery);
    for (const sub of subs) {
      const usage = async () => {
        const res = await call(
          'GET',
          `/customers/${sub.externalId}_customer/current_usage?external_subscription_id=${sub.externalId}`,
        );
        if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        return 1;
      };
      // The seats signalled above are recorded in MongoDB by the workflow's activities (and usage is
      // reported): measure each path beside its baseline once that is done, on a quiet machine.
      const waited = await untilStackQuiet(stack);
      if (waited > 1_000) log(`waited ${Math.round(waited / 1000)} s for the worker and the API to be idle`);
      await closedLoop(100, CONCURRENCY, usage);
      log(`${sub.seats} seats: ${RATE} req/s for ${SECONDS} s, then saturation, each beside the baseline`);
      const baseFixed = await openLoop(RATE, SECONDS, baselineQuery);
      const fixed = await openLoop(RATE, SECONDS, usage);
      const baseSat = await closedLoop(SATURATION_REQUESTS, CONCURRENCY, baselineQuery);
      const sat = await closedLoop(SATURATION_REQUESTS, CONCURRENCY, usage);
      add('baseline query', `${RATE}/s`, baseFixed);
      add(`current_usage, ${sub.seats.toLocaleString('en-US')} seats`, `${RATE}/s`, fixed, baseFixed);
      add('baseline query', `saturation`, baseSat);
      add(`current_usage, ${sub.seats.toLocaleString('en-US')} seats`, `saturation`, sat, baseSat);
      saturationRows.push([`${sub.seats.toLocaleString('en-US')} seats`, sat.rate, sat.rate / baseSat.rate]);
    }
    await baselineHandle.signal(baselineStopSignal);

    console.log(
      `MongoDB: ${stack.mongoKind}. Fixed rate: open loop (latency from the scheduled send, so a slow answer ` +
        `cannot hide queueing), ${SECONDS} s. Saturation: ${CONCURRENCY} concurrent callers, ` +
        `${SATURATION_REQUESTS} requests. Ratios: prorata / baseline measured just before it. Each ` +
        `subscription is measured once the worker and the API have been idle for 2 s (its seats recorded).\n`,
    );
    console.log(table(rows));
    console.log('');
    console.log(table(saturationRows));
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
