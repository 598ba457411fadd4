/**
 * The subscription workflow on Temporal's time-skipping server, with the real activities writing to
 * MongoDB (FerretDB): months of billing in seconds. Every invoice is compared with `prorata simulate`
 * of the same events, and the amounts with a hand computation.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from 'mongodb';
import { startMongo, startTimeSkippingEnv, type TestMongo } from '../support/services';
import { workflowCode } from '../support/stack';
import {
  seat,
  seedSubscription,
  simulateFixture,
  type SubscriptionFixture,
} from '../support/billing-fixtures';
import { handProratedCharge } from '../support/hand-rule';
import { daysInUtcMonth, monthsAhead, monthsFrom } from '../support/scenario-calendar';
import { createActivities } from '../../activities';
import { ensureIndexes } from '../../src/store/indexes';
import { invoices } from '../../src/store/invoices';
import { events } from '../../src/store/events';
import { recordAwaitingEvents } from '../../src/store/awaiting-events';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import { sendSeatEvents, type DirectSeatEvent } from '../../src/temporal/seat-events';
import { currentUsageQuery, subscriptionQuery, terminateUpdate } from '../../src/temporal/messages';
import type { subscriptionWorkflow } from '../../workflows/subscription';

const HOUR = 3_600_000;

describe('subscription workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let mongo: TestMongo;
  let db: Db;
  const taskQueue = 'subscriptions';
  /** A fresh worker per test (a Worker runs once) with the real activities on FerretDB. */
  const worker = {
    async runUntil(fn: () => Promise<void>) {
      const w = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        ...workflowCode(),
        activities: createActivities({ db, client: env.client }),
      });
      await w.runUntil(fn);
    },
  };

  beforeAll(async () => {
    [env, mongo] = await Promise.all([startTimeSkippingEnv(), startMongo()]);
    db = mongo.database.db;
    await ensureIndexes(db);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([env?.teardown(), mongo?.stop()]);
  });
  // A workflow left running without a worker would hold the server's clock: end each test's workflows.
  const started: string[] = [];
  afterEach(async () => {
    for (const id of started.splice(0))
      await env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
  });

  async function start(fixture: SubscriptionFixture, queue = taskQueue) {
    started.push(subscriptionWorkflowId(fixture.organizationId, fixture.input.subscription.externalId));
    return env.client.workflow.start<typeof subscriptionWorkflow>('subscriptionWorkflow', {
      taskQueue: queue,
      workflowId: subscriptionWorkflowId(fixture.organizationId, fixture.input.subscription.externalId),
      args: [fixture.input],
    });
  }

  /** Advances server time to `at` (epoch ms). */
  async function sleepUntil(at: number) {
    const now = await env.currentTimeMs();
    if (at > now) await env.sleep(at - now);
  }

  async function invoicesOf(subscriptionId: string, count: number) {
    for (let i = 0; i < 200; i++) {
      const found = await invoices(db)
        .find({ subscription_id: subscriptionId })
        .sort({ from_datetime: 1 })
        .toArray();
      if (found.length >= count && found.every((f) => f.status === 'finalized')) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return invoices(db).find({ subscription_id: subscriptionId }).sort({ from_datetime: 1 }).toArray();
  }

  it('bills three months of seats (carry-over, duplicates, out-of-order) exactly as prorata simulate', async () => {
    // The scenario runs over the three months after the current one, so every instant in it lies
    // ahead of the server's clock whatever day the suite runs; the figures follow from those
    // months' lengths (D0, D1, D2), worked by hand below and by `prorata simulate`.
    const month = monthsAhead(await env.currentTimeMs());
    const [D0, D1, D2] = [daysInUtcMonth(month(0)), daysInUtcMonth(month(1)), daysInUtcMonth(month(2))];
    // Start on the 25th, so the first period is partial.
    const subscriptionAt = month(0, 25, 6);
    await sleepUntil(subscriptionAt);
    const fixture = await seedSubscription(db, { externalId: 'acme_team', subscriptionAt });
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'acme_team' };
    const sent: DirectSeatEvent[] = [];
    const send = async (...batch: DirectSeatEvent[]) => {
      sent.push(...batch);
      await sendSeatEvents(env.client, target, batch);
    };

    await worker.runUntil(async () => {
      const handle = await start(fixture);
      await send(seat('e1', 'u1', 'add', month(0, 25, 7)));
      await sleepUntil(month(0, 27, 9));
      await send(seat('e2', 'u2', 'add', month(0, 27, 9)));

      await sleepUntil(month(1, 1, 2)); // first invoice: the partial first month
      await sleepUntil(month(1, 10, 12));
      await send(seat('e3', 'u3', 'add', month(1, 10, 12)));
      await sleepUntil(month(1, 15, 12));
      await send(seat('e4', 'u2', 'remove', month(1, 15, 12)));
      await sendSeatEvents(env.client, target, [seat('e4', 'u2', 'remove', month(1, 15, 12))]); // duplicate delivery
      await sleepUntil(month(1, 20, 12));
      // Out of order: the removal arrives before the add it follows.
      await send(seat('e6', 'u4', 'remove', month(1, 19, 12)));
      await send(seat('e5', 'u4', 'add', month(1, 18, 12)));

      const usage = await handle.query(currentUsageQuery);
      // The second month so far, seats projected to its last day: u1 D1 + u2 15 (1st to 15th) +
      // u3 D1 - 9 (10th to the end) + u4 2 (18th and 19th) = 2·D1 + 8 seat-days of D1
      // (in a 31-day month 70/31 -> 2.25807 -> $22.58).
      const second = handProratedCharge(2 * D1 + 8, D1, 1000);
      expect(usage?.charges_usage[0]).toMatchObject({
        units: '2.0',
        prorated_units: second.proratedUnits,
        amount_cents: second.amountCents,
        events_count: 4,
      });
      // Events accepted by the API but not delivered yet, passed to the query (read your writes):
      // counted once each (e5 is received already, e7 comes twice), the state left untouched.
      const pending = [
        seat('e5', 'u4', 'add', month(1, 18, 12)),
        seat('e7', 'u5', 'add', month(1, 20, 12)),
        seat('e7', 'u5', 'add', month(1, 20, 12)),
      ].map((e) => ({ ...e, recorded: true }));
      expect((await handle.query(currentUsageQuery, pending))?.charges_usage[0]).toMatchObject({
        units: '3.0',
        events_count: 5,
      });
      expect(await handle.query(currentUsageQuery)).toEqual(usage);

      await sleepUntil(month(2, 1, 2)); // the second month's invoice
      const terminatedAt = month(2, 15, 12);
      await sleepUntil(terminatedAt);
      const result = await handle.executeUpdate(terminateUpdate, { args: [{ terminated_at: terminatedAt }] });
      expect(result.terminated_at).toBe(terminatedAt);
      expect((await handle.query(subscriptionQuery)).status).toBe('terminated');

      const stored = await invoicesOf(fixture.input.subscription.id, 3);
      const simulated = simulateFixture(fixture, sent, terminatedAt + 1, terminatedAt).invoices;
      expect(
        stored.map((i) => [i.invoicing_reason, i.from_datetime, i.to_datetime, i.total_amount_cents]),
      ).toEqual(
        simulated.map((s) => [
          s.invoice.invoicingReason,
          new Date(s.invoice.fromAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          new Date(Math.floor(s.invoice.toAt / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          s.invoice.totalAmountCents,
        ]),
      );
      // By hand ($10 per seat-month): the first month u1 from the 25th (D0 - 24 days) + u2 from the
      // 27th (D0 - 26) = 2·D0 - 50 of D0 (30 days: 10/30 -> 0.33334 -> $3.33; 31: 12/31 -> $3.87;
      // 28: 6/28 -> $2.14); the second 2·D1 + 8 of D1 as above; the third to the 15th: u1 15 +
      // u3 15 = 30 of D2 (31 days: 0.96775 -> $9.68).
      const byHand = [handProratedCharge(2 * D0 - 50, D0, 1000), second, handProratedCharge(30, D2, 1000)];
      expect(stored.map((i) => i.total_amount_cents)).toEqual(byHand.map((h) => h.amountCents));
      expect(stored.map((i) => i.fees.find((f) => f.fee_type === 'charge')?.prorated_units)).toEqual(
        byHand.map((h) => h.proratedUnits),
      );
      expect(stored.map((i) => i.invoicing_reason)).toEqual([
        'subscription_periodic',
        'subscription_periodic',
        'subscription_terminating',
      ]);
      expect(new Set(stored.map((i) => i.number)).size).toBe(3);
      if (process.env.SAVE_HISTORIES) {
        // The first run: a partial month closed, its invoice settled in one activity, then
        // continue-as-new. (subscription-period-close.json keeps the run of the earlier code.)
        const history = await env.client.workflow
          .getHandle(handle.workflowId, handle.firstExecutionRunId)
          .fetchHistory();
        writeFileSync(
          join(__dirname, '..', 'histories', 'subscription-period-settled.json'),
          historyToJSON(history),
        );
      }
      // Signalled straight to Temporal, the events are recorded in MongoDB once each.
      expect(
        await events(db).countDocuments({ external_subscription_id: 'acme_team', source: 'temporal' }),
      ).toBe(6);
    });
  }, 180_000);

  it('keeps the invoice a draft through the grace period: a late event changes it, after finalization nothing does', async () => {
    const t0 = await env.currentTimeMs();
    const month = monthsFrom(t0);
    const fixture = await seedSubscription(db, {
      externalId: 'grace_team',
      subscriptionAt: month(-1, 1),
      graceDays: 3,
    });
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'grace_team' };
    await worker.runUntil(async () => {
      await start(fixture);
      await sendSeatEvents(env.client, target, [seat('g1', 'u1', 'add', month(0, 1, 9))]);
      await sleepUntil(month(1, 1, 6)); // period closed: draft until the 4th
      const draftId = `${fixture.input.subscription.id}:subscription_periodic:${new Date(month(0, 1)).toISOString().slice(0, 10)}`;
      let draft = await waitFor(() => invoices(db).findOne({ _id: draftId }));
      expect(draft).toMatchObject({ status: 'draft', number: expect.stringMatching(/-DRAFT$/) });
      const before = draft!.total_amount_cents;

      // A late add inside the closed period, during the grace period: the draft is recomputed.
      await sendSeatEvents(env.client, target, [seat('g2', 'u2', 'add', month(0, 20, 9))]);
      draft = await waitFor(async () => {
        const doc = await invoices(db).findOne({ _id: draftId });
        return doc && doc.total_amount_cents > before ? doc : null;
      });
      expect(draft!.status).toBe('draft');

      await sleepUntil(month(1, 4, 1)); // grace over
      const final = await waitFor(async () => {
        const doc = await invoices(db).findOne({ _id: draftId });
        return doc?.status === 'finalized' ? doc : null;
      });
      // Another late event for that period after finalization changes nothing on it.
      await sendSeatEvents(env.client, target, [seat('g3', 'u3', 'add', month(0, 10, 9))]);
      await env.sleep(HOUR);
      expect((await invoices(db).findOne({ _id: draftId }))!.total_amount_cents).toBe(
        final!.total_amount_cents,
      );
      expect(final!.number).toMatch(/-\d{3}-\d{3}$/);
    });
  }, 120_000);

  it('catches up a subscription that started two months ago: every closed period billed at once, as simulate', async () => {
    const t0 = await env.currentTimeMs();
    const month = monthsFrom(t0);
    const fixture = await seedSubscription(db, { externalId: 'late_team', subscriptionAt: month(-2, 10) });
    // Events stored before the workflow existed are loaded at its start.
    const early = [
      seat('l1', 'u1', 'add', month(-2, 12)),
      seat('l2', 'u2', 'add', month(-1, 5)),
      seat('l3', 'u1', 'remove', month(-1, 20)),
    ];
    const earlyDocs = early.map((e, i) => ({
      _id: `late-${i}`,
      organization_id: fixture.organizationId,
      external_subscription_id: 'late_team',
      transaction_id: e.transaction_id,
      code: e.code,
      timestamp: new Date(e.timestamp),
      properties_json: JSON.stringify(e.properties),
      precise_total_amount_cents: null,
      created_at: new Date(t0 + i),
      delivered_at: null,
      awaiting_subscription: true,
      source: 'api',
      problems: [],
      problems_reported: true,
    }));
    await db.collection('events').insertMany(earlyDocs as never[]);
    // As the API leaves an event whose subscription does not exist yet: stored, then its marker.
    await recordAwaitingEvents(db, earlyDocs);
    await worker.runUntil(async () => {
      await start(fixture);
      const stored = await invoicesOf(fixture.input.subscription.id, 2);
      const simulated = simulateFixture(fixture, early, t0).invoices;
      expect(simulated).toHaveLength(2);
      expect(stored.map((i) => i.total_amount_cents)).toEqual(
        simulated.map((s) => s.invoice.totalAmountCents),
      );
      // Loaded, so settled: still awaiting-marked (as every reader counts settled), none to deliver.
      expect(
        await db.collection('events').countDocuments({
          external_subscription_id: 'late_team',
          delivered_at: null,
          awaiting_subscription: false,
        }),
      ).toBe(0);
    });
  }, 120_000);

  it('leaves exactly one invoice when the invoice activity fails twice before succeeding', async () => {
    const t0 = await env.currentTimeMs();
    const month = monthsFrom(t0);
    // Last month is already over: its invoice is issued as soon as the workflow starts.
    const fixture = await seedSubscription(db, { externalId: 'flaky_team', subscriptionAt: month(-1, 1) });
    const flakyEvent = {
      _id: 'flaky-0',
      organization_id: fixture.organizationId,
      external_subscription_id: 'flaky_team',
      transaction_id: 'f1',
      code: 'seats',
      timestamp: new Date(month(-1, 2)),
      properties_json: JSON.stringify({ user_id: 'u1' }),
      precise_total_amount_cents: null,
      created_at: new Date(t0),
      delivered_at: null,
      awaiting_subscription: true,
      source: 'api',
      problems: [],
      problems_reported: true,
    };
    await db.collection('events').insertOne(flakyEvent as never);
    await recordAwaitingEvents(db, [flakyEvent]);
    const real = createActivities({ db, client: env.client });
    let failures = 0;
    const flaky = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'flaky',
      ...workflowCode(),
      activities: {
        ...real,
        // Writes the invoice (the period close settles it in one activity), then fails (as a crash
        // after the write would), twice.
        async settleInvoice(...args: Parameters<typeof real.settleInvoice>) {
          const result = await real.settleInvoice(...args);
          if (failures++ < 2) throw new Error('worker crashed after writing');
          return result;
        },
      },
    });
    await flaky.runUntil(async () => {
      await start(fixture, 'flaky');
      // Retries follow the activity's backoff (1 s, then 2 s), in real time here.
      const done = await waitFor(async () => (failures >= 3 ? true : null), 600);
      expect(done).toBe(true);
      const stored = await invoicesOf(fixture.input.subscription.id, 1);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ status: 'finalized', total_amount_cents: expect.any(Number) });
      expect(stored[0]!.total_amount_cents).toBeGreaterThan(0);
    });
  }, 120_000);
});

async function waitFor<T>(probe: () => Promise<T | null>, tries = 200): Promise<T | null> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}
