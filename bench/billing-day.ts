/**
 * billing-day: N subscriptions whose monthly periods all closed at the same instant (calendar
 * billing, subscribed on the same day of last month, so their first period ended at 00:00 UTC on
 * the 1st). They are created with the worker stopped, backdated, seats already sent; the clock starts
 * when the worker reports it is polling (the boundary as the worker sees it) and stops when every
 * invoice is stored in MongoDB. Reports invoices/s and the worker's peak resident memory (VmHWM),
 * and checks the stored total against `prorata simulate` of every subscription.
 *
 * Baseline, same run, same services, same worker binary: N workflows of one timer, one activity (an
 * idempotent MongoDB upsert) and continue-as-new, started with the worker stopped, then timed the same
 * way until all N documents are stored. The worker is restarted between the two, so each peak is its own.
 *
 * Args: [N = 1000] [no-baseline: skip the baseline (for a long run at 10,000, whose ratio the
 *       1,000 run already gives)]
 */
import { invoices } from '../src/store/invoices';
import { pendingDeliveries } from '../src/store/pending-deliveries';
import { BASELINE_COLLECTION } from './activities';
import { processMemory, startBenchStack, type BenchStack } from './support/stack';
import { table, until } from './support/measure';
import {
  activityTimes,
  apiClient,
  createSeatCatalog,
  createSubscriptions,
  expectedInvoices,
  inParallel,
  seatEvent,
  simulateSubscription,
  subscriptionWorkflowId,
  type ActivityTimes,
  type SeatEventInput,
} from './support/seats';
import type { baselineCycleWorkflow } from './workflows';

const N = Number(process.argv[2] ?? 1000);
const WITH_BASELINE = process.argv[3] !== 'no-baseline';
const TIMEOUT_MS = 60 * 60_000;
/** Workflows whose histories are read for the time breakdown (evenly spread over the N). */
const SAMPLE = 50;

function log(message: string): void {
  console.error(`[billing-day] ${message}`);
}

interface Run {
  seconds: number;
  perSecond: number;
  peakMiB: number;
}

/** Starts the worker, waits until `done`, samples its memory, stops it. */
async function timedRun(stack: BenchStack, what: string, done: () => Promise<boolean>): Promise<Run> {
  await stack.start('worker');
  const pid = stack.pid('worker');
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, processMemory(pid)?.peakMiB ?? 0);
  }, 250);
  try {
    const ms = await until(what, TIMEOUT_MS, done, 100);
    peak = Math.max(peak, processMemory(pid)?.peakMiB ?? 0);
    return { seconds: ms / 1000, perSecond: N / (ms / 1000), peakMiB: peak };
  } finally {
    clearInterval(sampler);
    await stack.kill('worker');
  }
}

async function main(): Promise<void> {
  const stack = await startBenchStack({ worker: false });
  try {
    // Baseline first: N timer + activity + continue-as-new workflows, queued before the worker starts.
    let baseline: Run | null = null;
    if (WITH_BASELINE) {
      log(`baseline: starting ${N} workflows`);
      await inParallel(
        Array.from({ length: N }, (_, i) => `bench-cycle-${i}`),
        32,
        async (id) => {
          await stack.client.workflow.start<typeof baselineCycleWorkflow>('baselineCycleWorkflow', {
            taskQueue: stack.taskQueue,
            workflowId: id,
            args: [{ id }],
          });
        },
      );
      log('baseline: worker on');
      baseline = await timedRun(
        stack,
        `${N} baseline documents`,
        async () => (await stack.db.collection(BASELINE_COLLECTION).countDocuments()) >= N,
      );
      log(`baseline: ${baseline.seconds.toFixed(1)} s`);
    }

    // prorata: N subscriptions, seats sent before they exist (their workflows load them at start).
    const call = apiClient(stack.baseUrl, stack.apiKey);
    const catalog = await createSeatCatalog(call);
    const now = new Date();
    const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 10);
    const subs = Array.from({ length: N }, (_, i) => {
      const externalId = `day_${String(i).padStart(5, '0')}`;
      const at = (days: number) => lastMonth + days * 86_400_000;
      const events: SeatEventInput[] = [
        seatEvent(`${externalId}-1`, externalId, 'u1', 'add', at(0.5)),
        seatEvent(`${externalId}-2`, externalId, 'u2', 'add', at(2 + (i % 5))),
        seatEvent(`${externalId}-3`, externalId, 'u1', 'remove', at(12 + (i % 3))),
      ];
      return { externalId, subscriptionAt: lastMonth, events };
    });
    log(`prorata: sending ${N * 3} events`);
    const all = subs.flatMap((s) => s.events);
    await inParallel(
      Array.from({ length: Math.ceil(all.length / 100) }, (_, b) => all.slice(b * 100, b * 100 + 100)),
      4,
      async (events) => {
        const res = await call('POST', '/events/batch', { events });
        if (res.status !== 200) throw new Error(`events: ${res.status} ${JSON.stringify(res.body)}`);
      },
    );
    log(`prorata: creating ${N} subscriptions`);
    await createSubscriptions(call, subs, 8);
    // The API delivers accepted events in the background (and yields while requests come): the
    // clock starts once none is left to deliver, so that delivery does not run inside it.
    const deliveredAfter = await until(
      'events delivered',
      600_000,
      async () => (await pendingDeliveries(stack.db).countDocuments({})) === 0,
      500,
    );
    log(
      `prorata: events delivered ${(deliveredAfter / 1000).toFixed(1)} s after the subscriptions were created`,
    );
    const expectedCents = subs
      .map((s) => simulateSubscription(catalog, s.externalId, s.subscriptionAt, s.events, Date.now()))
      .flatMap((sim) => expectedInvoices(catalog, sim))
      .reduce((n, inv) => n + inv.total_amount_cents, 0);
    log('prorata: worker on');
    const count = () => invoices(stack.db).countDocuments({ invoice_type: 'subscription' });
    const prorata = await timedRun(stack, `${N} invoices`, async () => (await count()) >= N);
    log(`prorata: ${prorata.seconds.toFixed(1)} s`);

    const stored = await invoices(stack.db).find({ invoice_type: 'subscription' }).toArray();
    const storedCents = stored.reduce((n, d) => n + d.total_amount_cents, 0);
    const periods = new Set(stored.map((d) => `${d.external_subscription_id} ${d.from_datetime}`)).size;
    if (stored.length !== N || periods !== N || storedCents !== expectedCents)
      throw new Error(
        `billing-day stored ${stored.length} invoices for ${periods} periods, ${storedCents} cents; ` +
          `expected ${N}, ${expectedCents} cents`,
      );

    const sample = (ids: string[]) =>
      Array.from(
        { length: Math.min(SAMPLE, ids.length) },
        (_, i) => ids[Math.floor((i * ids.length) / SAMPLE)]!,
      );
    const breakdown = (who: string, times: ActivityTimes[]) =>
      times.map((t) => [`${who}: ${t.activity}`, t.perWorkflow, t.waitMs, t.runMs, t.perWorkflow * t.runMs]);
    const baselineTimes = baseline
      ? await activityTimes(stack.client, sample(Array.from({ length: N }, (_, i) => `bench-cycle-${i}`)))
      : [];
    const prorataTimes = await activityTimes(
      stack.client,
      sample(subs.map((s) => subscriptionWorkflowId(stack.organizationId, s.externalId))),
    );

    const settings = ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 'WORKER_MAX_CONCURRENT_ACTIVITIES']
      .map((k) => `${k}=${process.env[k] ?? 'default (40)'}`)
      .join(', ');
    console.log(
      `MongoDB: ${stack.mongoKind}; Temporal dev server (SQLite file); worker ${settings}. ` +
        `${N} subscriptions, 3 seat events each; stored ${stored.length} invoices, one per subscription ` +
        `and period, ${storedCents} cents = prorata simulate.\n`,
    );
    const prorataRow = [
      'prorata: close the period, store the invoice',
      N,
      prorata.seconds,
      prorata.perSecond,
      prorata.peakMiB,
    ];
    console.log(
      table([
        ['what', 'workflows', 'seconds to all stored', 'per second', 'worker peak MiB'],
        ...(baseline
          ? [
              [
                'baseline: timer + activity + continue-as-new',
                N,
                baseline.seconds,
                baseline.perSecond,
                baseline.peakMiB,
              ],
              prorataRow,
              [
                'ratio prorata / baseline',
                '',
                prorata.seconds / baseline.seconds,
                prorata.perSecond / baseline.perSecond,
                prorata.peakMiB / baseline.peakMiB,
              ],
            ]
          : [prorataRow]),
      ]),
    );
    console.log(
      `\nWhere the time went (histories of ${Math.min(SAMPLE, N)} workflows of each kind; wait = scheduled ` +
        'to started, run = started to completed, means in ms):\n',
    );
    console.log(
      table([
        ['activity', 'calls per workflow', 'wait ms', 'run ms', 'run ms per workflow'],
        ...breakdown('baseline', baselineTimes),
        ...breakdown('prorata', prorataTimes),
      ]),
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
