/**
 * ingest: events accepted per second through POST /events (one per request) and POST /events/batch
 * (100 per request), spread over 10, 100 and 1,000 subscriptions, with p50/p99 request latency.
 *
 * Baselines, in the same run on the same services: the same event documents inserted straight into
 * MongoDB's `events` collection (insertOne / insertMany of 100, same concurrency), and signals sent
 * straight to Temporal (one event per signal) to as many trivial workflows on the same worker.
 * Signals per event: `seatEvents` signals the subscription workflows received (counted in their
 * histories, across continue-as-new) divided by the events accepted; below 1 means coalescing.
 *
 * Ceiling of the batch path: what it stores per accepted event (the event, its pending-delivery
 * marker and its two GET /events list entries) written raw, three inserts per 100 events as the
 * API's group write does: how fast the database takes those documents, without the API.
 *
 * Acknowledgement and delivery are decoupled (docs/scaling.md, "Ingest"): a 200 means the event and
 * its pending-delivery marker are stored; the workflows receive it in the background. So each API
 * row also waits until every marker is gone (every event delivered) and reports the end-to-end
 * delivered events/s (from the first request to the last delivery) beside the accepted rate.
 * At 1,000 subscriptions, an open loop at 200 requests/s (single events) gives the p99 at that
 * offered load, beside raw insertOne at the same offered rate.
 *
 * Every baseline and its API row start once the worker and the API are idle (`untilStackQuiet`):
 * without that, the workflow tasks and activities left by creating 1,000 subscriptions, or by delivering the
 * previous row, ran for minutes under whichever row came next (Temporal at 55-65% of a core in
 * `top`), so each ratio depended on what the two rows happened to share the machine with.
 *
 * Args: [single events per spread = 3000] [batches per spread = 10] [spreads = 10,100,1000]
 *       [open-loop seconds = 10]
 */
import { randomUUID } from 'node:crypto';
import { events, listStoredEventsUncounted, toSeatEventMessage, type EventDoc } from '../src/store/events';
import { countUndeliveredEvents } from '../test/support/undelivered';
import { subscriptionWorkflowId } from '../src/temporal/ids';
import { seatEventsSignal } from '../src/temporal/messages';
import type { SeatEventMessage } from '../src/contracts/subscription-workflow';
import { startBenchStack, untilStackQuiet, type BenchStack } from './support/stack';
import { leanApiClient } from './support/http';
import { closedLoop, openLoop, table, until, type LoadResult } from './support/measure';
import { pendingDeliveries, pendingMarker, type PendingDeliveryDoc } from '../src/store/pending-deliveries';
import { subscriptions } from '../src/store/subscriptions';
import { DAY, createSeatCatalog, createSubscriptions, seatEvent, signalsReceived } from './support/seats';
import { baselineSignal, baselineStopSignal, type baselineIdleWorkflow } from './workflows';

const SINGLE_EVENTS = Number(process.argv[2] ?? 3000);
const BATCHES = Number(process.argv[3] ?? 10);
const SPREADS = (process.argv[4] ?? '10,100,1000').split(',').map(Number);
const OPEN_LOOP_SECONDS = Number(process.argv[5] ?? 10);
const OPEN_LOOP_RATE = 200;
const SINGLE_CONCURRENCY = 16;
/** FerretDB (SQLite, one writer) collapses under more concurrent 100-event deliveries: see docs/operations.md. */
const BATCH_CONCURRENCY = 2;

function log(message: string): void {
  console.error(`[ingest ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function main(): Promise<void> {
  const stack: BenchStack = await startBenchStack();
  try {
    const call = leanApiClient(stack.baseUrl, stack.apiKey);
    await createSeatCatalog(call);
    const now = Date.now();
    const subscriptionAt = now - 2 * DAY; // calendar billing: every event below falls in the open period
    const eventAt = (i: number) => subscriptionAt + DAY + (i % 1000) * 1000;
    const rows: (string | number)[][] = [
      [
        'subscriptions',
        'path',
        'events',
        'events/s',
        'p50 ms',
        'p99 ms',
        'raw insert ev/s',
        'ratio',
        'signals/event',
        'delivered ev/s',
        'errors',
      ],
    ];

    /** Waits until no pending-delivery marker is left: every accepted event reached its workflow. */
    const drained = async (what: string) => {
      await until(
        `${what} delivered`,
        900_000,
        async () => (await pendingDeliveries(stack.db).countDocuments({})) === 0,
        100,
      );
      return performance.now();
    };
    /** Each measurement and its baseline start once the worker and the API are idle (`untilStackQuiet`). */
    const quiet = async () => {
      const waited = await untilStackQuiet(stack);
      if (waited > 1_000) log(`waited ${Math.round(waited / 1000)} s for the worker and the API to be idle`);
    };
    const storedRows: (string | number)[][] = [
      [
        'subscriptions',
        'raw insertMany ev/s',
        'raw stored set ev/s',
        'stored set : insertMany',
        'API batch ev/s',
        'API : stored set',
      ],
    ];
    const signalRows: (string | number)[][] = [
      ['subscriptions', 'raw signals/s', 'p50 ms', 'p99 ms', 'API single ev/s : raw signals/s'],
    ];

    for (const spread of SPREADS) {
      const subs = Array.from({ length: spread }, (_, i) => ({
        externalId: `ing${spread}_${i}`,
        subscriptionAt,
      }));
      log(`${spread} subscriptions: creating`);
      await createSubscriptions(call, subs, 8);
      // Measure only once every new workflow has started (loaded its stored events, projected).
      await until(
        `${spread} subscriptions started`,
        900_000,
        async () => {
          const started = await subscriptions(stack.db).countDocuments({
            organization_id: stack.organizationId,
            external_id: { $regex: `^ing${spread}_` },
            current_billing_period_started_at: { $ne: null },
          });
          return started >= spread;
        },
        1_000,
      );
      const workflowIds = subs.map((s) => subscriptionWorkflowId(stack.organizationId, s.externalId));

      // The raw document, as POST /events stores it; for a subscription no one has (never delivered).
      const rawDoc = (tag: string, i: number): EventDoc => {
        const at = new Date();
        return {
          _id: randomUUID(),
          organization_id: stack.organizationId,
          external_subscription_id: `raw_${subs[i % spread]!.externalId}`,
          transaction_id: `${tag}-${i}`,
          code: 'seats',
          timestamp: new Date(eventAt(i)),
          properties_json: JSON.stringify({ user_id: `u${i}`, operation_type: 'add' }),
          precise_total_amount_cents: null,
          created_at: at,
          delivered_at: null,
          marked: true,
          awaiting_subscription: true,
          source: 'api',
          problems: [],
          problems_reported: true,
        };
      };
      const ok = async (res: Promise<{ status: number; body: unknown }>, items: number) => {
        const r = await res;
        if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        return items;
      };

      const record = async (
        path: string,
        api: LoadResult,
        raw: LoadResult,
        signals: number,
        deliveredSeconds: number,
      ) => {
        rows.push([
          spread,
          path,
          api.items,
          api.rate,
          api.p50,
          api.p99,
          raw.rate,
          api.rate / raw.rate,
          signals / api.items,
          api.items / deliveredSeconds,
          api.errors + raw.errors,
        ]);
        for (const e of [...api.errorSamples, ...raw.errorSamples]) log(`error: ${e}`);
      };

      // One event per request.
      await quiet();
      log(`${spread} subscriptions: raw inserts, then POST /events`);
      const rawSingle = await closedLoop(SINGLE_EVENTS, SINGLE_CONCURRENCY, async (i) => {
        await events(stack.db).insertOne(rawDoc(`raw-single-${spread}`, i));
        return 1;
      });
      let signalsBefore = await signalsReceived(stack.client, workflowIds, seatEventsSignal.name);
      let t0 = performance.now();
      const single = await closedLoop(SINGLE_EVENTS, SINGLE_CONCURRENCY, (i) =>
        ok(
          call('POST', '/events', {
            event: seatEvent(
              `single-${spread}-${i}`,
              subs[i % spread]!.externalId,
              `u${i}`,
              'add',
              eventAt(i),
            ),
          }),
          1,
        ),
      );
      let deliveredSeconds = ((await drained('single events')) - t0) / 1000;
      let signalsAfter = await signalsReceived(stack.client, workflowIds, seatEventsSignal.name);
      await record('POST /events', single, rawSingle, signalsAfter - signalsBefore, deliveredSeconds);

      // 100 events per request.
      await quiet();
      log(`${spread} subscriptions: raw insertMany, then POST /events/batch`);
      const rawBatch = await closedLoop(BATCHES, BATCH_CONCURRENCY, async (b) => {
        const docs = Array.from({ length: 100 }, (_, j) => rawDoc(`raw-batch-${spread}`, b * 100 + j));
        await events(stack.db).insertMany(docs);
        return docs.length;
      });
      // What the API stores per accepted event, written raw the way its group write does: the
      // markers, the events, then both list entries (one insert each per batch, no counting). A
      // separate marker collection, so the deliverer never sees these.
      await quiet();
      const rawStored = await closedLoop(BATCHES, BATCH_CONCURRENCY, async (b) => {
        const docs = Array.from({ length: 100 }, (_, j) => rawDoc(`raw-stored-${spread}`, b * 100 + j));
        await stack.db
          .collection<PendingDeliveryDoc>('bench_raw_markers')
          .insertMany(docs.map((d) => pendingMarker(d, toSeatEventMessage(d, ['user_id']))));
        await events(stack.db).insertMany(docs);
        await listStoredEventsUncounted(stack.db, docs);
        return docs.length;
      });
      await quiet();
      signalsBefore = signalsAfter;
      t0 = performance.now();
      const batch = await closedLoop(BATCHES, BATCH_CONCURRENCY, (b) =>
        ok(
          call('POST', '/events/batch', {
            events: Array.from({ length: 100 }, (_, j) => {
              const i = b * 100 + j;
              return seatEvent(
                `batch-${spread}-${i}`,
                subs[i % spread]!.externalId,
                `b${i}`,
                'add',
                eventAt(i),
              );
            }),
          }),
          100,
        ),
      );
      deliveredSeconds = ((await drained('batches')) - t0) / 1000;
      signalsAfter = await signalsReceived(stack.client, workflowIds, seatEventsSignal.name);
      await record('POST /events/batch', batch, rawBatch, signalsAfter - signalsBefore, deliveredSeconds);
      storedRows.push([
        spread,
        rawBatch.rate,
        rawStored.rate,
        rawStored.rate / rawBatch.rate,
        batch.rate,
        batch.rate / rawStored.rate,
      ]);

      if (spread === SPREADS[SPREADS.length - 1] && OPEN_LOOP_SECONDS > 0) {
        await quiet();
        log(`${spread} subscriptions: raw insertOne, then POST /events, at ${OPEN_LOOP_RATE}/s`);
        const rawOpen = await openLoop(OPEN_LOOP_RATE, OPEN_LOOP_SECONDS, async (i) => {
          await events(stack.db).insertOne(rawDoc(`raw-open-${spread}`, i));
          return 1;
        });
        signalsBefore = signalsAfter;
        t0 = performance.now();
        const open = await openLoop(OPEN_LOOP_RATE, OPEN_LOOP_SECONDS, (i) =>
          ok(
            call('POST', '/events', {
              event: seatEvent(
                `open-${spread}-${i}`,
                subs[i % spread]!.externalId,
                `o${i}`,
                'add',
                eventAt(i),
              ),
            }),
            1,
          ),
        );
        deliveredSeconds = ((await drained('open loop')) - t0) / 1000;
        signalsAfter = await signalsReceived(stack.client, workflowIds, seatEventsSignal.name);
        await record(
          `POST /events @${OPEN_LOOP_RATE}/s`,
          open,
          rawOpen,
          signalsAfter - signalsBefore,
          deliveredSeconds,
        );
      }

      // Raw signals to trivial workflows, one event each.
      await quiet();
      log(`${spread} subscriptions: raw signals`);
      const idleIds = Array.from({ length: spread }, (_, i) => `bench-idle-${spread}-${i}`);
      for (const id of idleIds)
        await stack.client.workflow.start<typeof baselineIdleWorkflow>('baselineIdleWorkflow', {
          taskQueue: stack.taskQueue,
          workflowId: id,
          args: [id],
        });
      const message = (i: number): SeatEventMessage => ({
        transaction_id: `sig-${spread}-${i}`,
        code: 'seats',
        timestamp: eventAt(i),
        properties: { user_id: `u${i}`, operation_type: 'add' },
        recorded: true,
      });
      const rawSignals = await closedLoop(SINGLE_EVENTS, SINGLE_CONCURRENCY, async (i) => {
        await stack.client.workflow.getHandle(idleIds[i % spread]!).signal(baselineSignal, [message(i)]);
        return 1;
      });
      for (const id of idleIds) await stack.client.workflow.getHandle(id).signal(baselineStopSignal);
      signalRows.push([
        spread,
        rawSignals.rate,
        rawSignals.p50,
        rawSignals.p99,
        single.rate / rawSignals.rate,
      ]);
    }

    const stored = await events(stack.db).countDocuments({ source: 'api', awaiting_subscription: false });
    const deferred = await countUndeliveredEvents(stack.db, stack.organizationId);
    console.log(
      `MongoDB: ${stack.mongoKind}. ${SINGLE_EVENTS} single events (${SINGLE_CONCURRENCY} concurrent requests) and ` +
        `${BATCHES} batches of 100 (${BATCH_CONCURRENCY} concurrent) per spread; ratio = API events/s : raw ` +
        `insert events/s of the same documents, same concurrency (the @${OPEN_LOOP_RATE}/s row: open loop, ` +
        `${OPEN_LOOP_SECONDS} s, latency from the scheduled send, raw insertOne at the same offered rate). ` +
        `Each baseline and its API row start once the worker and the API have been idle for 2 s (no ` +
        `workflow task, activity, delivery or count flush left from creating the subscriptions or from ` +
        `the previous row). ` +
        `A 200 means the event and its pending-delivery marker are stored; delivered ev/s = events / time ` +
        `from the first request until every marker was gone (all delivered to their workflows). ` +
        `${stored} API events stored; ${deferred} of them not delivered when the run ended.\n`,
    );
    console.log(table(rows));
    console.log(
      '\nceiling: what /events/batch stores per event (the event, its pending-delivery marker, its two ' +
        'GET /events list entries), written raw as the group write does (three inserts per 100 events, ' +
        'no counts), beside raw insertMany of the events alone:\n',
    );
    console.log(table(storedRows));
    console.log(
      '\nbaseline: raw signals straight to Temporal, one event per signal, to trivial workflows:\n',
    );
    console.log(table(signalRows));
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
