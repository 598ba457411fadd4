/**
 * Plan changes in the subscription workflow (SPEC section 8, docs/plan-changes.md) on Temporal's
 * time-skipping server with the real activities on FerretDB: a Team -> Business upgrade mid-month
 * and a Business -> Team downgrade at the period end, each compared with `prorata simulate` of the
 * same events and plan changes, and with a hand computation.
 */
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from 'mongodb';
import { startMongo, startTimeSkippingEnv, type TestMongo } from '../support/services';
import { workflowCode } from '../support/stack';
import {
  seat,
  seatsMetric,
  seedSubscription,
  simulateFixture,
  teamPlan,
  type SubscriptionFixture,
} from '../support/billing-fixtures';
import { handProratedCharge } from '../support/hand-rule';
import { daysInUtcMonth, monthsAhead } from '../support/scenario-calendar';
import { createActivities } from '../../activities';
import { ensureIndexes } from '../../src/store/indexes';
import { invoices, type InvoiceDoc } from '../../src/store/invoices';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import { sendSeatEvents, type DirectSeatEvent } from '../../src/temporal/seat-events';
import { planChangeUpdate, subscriptionQuery } from '../../src/temporal/messages';
import { planCodeKey } from '../../src/temporal/search-attributes';
import type { Plan } from '../../src/billing/plan';
import type { SimulatedInvoice } from '../../src/billing/simulate';
import type { subscriptionWorkflow } from '../../workflows/subscription';

/** Team: $30 a month and $10 a seat; Business: $60 and $20 (a yearly amount at least Team's: an upgrade). */
const team: Plan = { ...teamPlan, amountCents: 3000 };
const business: Plan = {
  ...teamPlan,
  code: 'business',
  amountCents: 6000,
  charges: teamPlan.charges.map((c) => ({ ...c, properties: { amount: '20' } })),
};
const snapshot = (plan: Plan) => ({ plan, metrics: [seatsMetric] });
/** Half-up rounding of `cents × days / D`, in integers (the subscription fee by hand). */
const handFee = (cents: number, days: number, D: number) => Math.floor((2 * cents * days + D) / (2 * D));

describe('plan changes in the subscription workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let mongo: TestMongo;
  let db: Db;
  const taskQueue = 'plan-changes';
  const started: string[] = [];

  beforeAll(async () => {
    [env, mongo] = await Promise.all([startTimeSkippingEnv(), startMongo()]);
    db = mongo.database.db;
    await ensureIndexes(db);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([env?.teardown(), mongo?.stop()]);
  });
  afterEach(async () => {
    for (const id of started.splice(0))
      await env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
  });

  async function runWorker(fn: () => Promise<void>) {
    const w = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      ...workflowCode(),
      activities: createActivities({ db, client: env.client }),
    });
    await w.runUntil(fn);
  }

  async function sleepUntil(at: number) {
    const now = await env.currentTimeMs();
    if (at > now) await env.sleep(at - now);
  }

  async function start(fixture: SubscriptionFixture) {
    const workflowId = subscriptionWorkflowId(fixture.organizationId, fixture.input.subscription.externalId);
    started.push(workflowId);
    return env.client.workflow.start<typeof subscriptionWorkflow>('subscriptionWorkflow', {
      taskQueue,
      workflowId,
      args: [fixture.input],
    });
  }

  async function finalizedInvoices(subscriptionIds: string[], count: number): Promise<InvoiceDoc[]> {
    const read = () =>
      invoices(db)
        .find({ subscription_id: { $in: subscriptionIds } })
        .toArray();
    for (let i = 0; i < 200; i++) {
      const found = await read();
      if (found.length >= count && found.every((f) => f.status === 'finalized')) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return read();
  }

  /** Stored invoices in the order of the simulation (old subscription first), as comparable rows. */
  function rows(stored: InvoiceDoc[], order: string[]) {
    return [...stored]
      .sort((a, b) => order.indexOf(a.subscription_id ?? '') - order.indexOf(b.subscription_id ?? ''))
      .map((i) => [i.invoicing_reason, i.from_datetime, i.to_datetime, i.fees.map((f) => f.amount_cents)]);
  }
  const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const simulatedRows = (simulated: SimulatedInvoice[]) =>
    simulated.map((s) => [
      s.invoice.invoicingReason,
      iso(s.invoice.fromAt),
      iso(s.invoice.toAt),
      s.invoice.fees.map((f) => f.amountCents),
    ]);

  it('Team -> Business on the 16th at 14:00, seats added before and after: Team bills the 1st-15th at once, Business the 16th to the end', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const D0 = daysInUtcMonth(month(0));
    const subscriptionAt = month(0, 1);
    await sleepUntil(subscriptionAt);
    const seeded = await seedSubscription(db, { externalId: 'acme_upgrade', subscriptionAt });
    const fixture: SubscriptionFixture = {
      ...seeded,
      input: { ...seeded.input, terms: { ...seeded.input.terms, plan: team } },
    };
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'acme_upgrade' };
    const sent: DirectSeatEvent[] = [];
    const send = async (...batch: DirectSeatEvent[]) => {
      sent.push(...batch);
      await sendSeatEvents(env.client, target, batch);
    };
    const upgradeAt = month(0, 16, 14);
    const oldId = fixture.input.subscription.id;
    const newId = `${oldId}-business`;

    await runWorker(async () => {
      const handle = await start(fixture);
      await send(seat('e1', 'u1', 'add', month(0, 3, 9)));
      await sleepUntil(month(0, 10, 9));
      await send(seat('e2', 'u2', 'add', month(0, 10, 9)));
      await sleepUntil(upgradeAt);
      const result = await handle.executeUpdate(planChangeUpdate, {
        args: [
          {
            kind: 'upgrade',
            subscription_id: newId,
            plan: snapshot(business),
            ending_at: null,
            at: upgradeAt,
          },
        ],
        updateId: `plan-change:${newId}`,
      });
      expect(result).toMatchObject({
        previous_subscription_id: oldId,
        subscription_id: newId,
        switches_at: upgradeAt,
      });
      // The old subscription's final invoice is stored at once.
      expect((await finalizedInvoices([oldId], 1)).map((i) => i.invoicing_reason)).toEqual([
        'subscription_terminating',
      ]);
      await sleepUntil(month(0, 20, 9));
      await send(seat('e3', 'u3', 'add', month(0, 20, 9)));
      await sleepUntil(month(0, 25, 9));
      await send(seat('e4', 'u1', 'remove', month(0, 25, 9)));
      await sleepUntil(month(1, 1, 2)); // Business's first invoice

      const stored = await finalizedInvoices([oldId, newId], 2);
      const simulated = simulateFixture(
        fixture,
        sent,
        month(1, 1, 2),
        null,
        [],
        [{ at: upgradeAt, plan: business }],
      ).invoices;
      expect(simulated.map((s) => s.planCode)).toEqual(['team', 'business']);
      expect(rows(stored, [oldId, newId])).toEqual(simulatedRows(simulated));
      // By hand. Team, the 1st to the 15th: fee 3000 × 15/D0; u1 the 3rd-15th (13 days) + u2 the
      // 10th-15th (6) = 19 seat-days of D0 at $10 (31 days: 1451.6 → 1452 and 0.6129 → $6.13).
      // Business, the 16th to the end (D0 - 15 days): fee 6000 × (D0 - 15)/D0; u1 the 16th-25th (10)
      // + u2 (D0 - 15) + u3 from the 20th (D0 - 19) = 2·D0 - 24 seat-days at $20 (31 days: 3097 and
      // 38/31 → 1.22581 → $24.52).
      expect(rows(stored, [oldId, newId]).map((r) => r[3])).toEqual([
        [handFee(3000, 15, D0), handProratedCharge(19, D0, 1000).amountCents],
        [handFee(6000, D0 - 15, D0), handProratedCharge(2 * D0 - 24, D0, 2000).amountCents],
      ]);
      expect(stored.find((i) => i.subscription_id === oldId)?.to_datetime).toBe(iso(month(0, 16) - 1));

      // The chain in the Web UI: one workflow, PlanCode now business, the memo lists Team.
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(planCodeKey)).toBe('business');
      expect(description.memo?.plan_changes).toEqual([
        { lago_id: oldId, plan_code: 'team', started_at: iso(subscriptionAt), terminated_at: iso(upgradeAt) },
      ]);
      expect((await handle.query(subscriptionQuery)).status).toBe('active');
    });
  }, 180_000);

  it('Business -> Team asked on the 10th: Business bills its whole period, Team starts at the period end', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const [D0, D1] = [daysInUtcMonth(month(0)), daysInUtcMonth(month(1))];
    const subscriptionAt = month(0, 1);
    await sleepUntil(subscriptionAt);
    const seeded = await seedSubscription(db, { externalId: 'acme_downgrade', subscriptionAt });
    const fixture: SubscriptionFixture = {
      ...seeded,
      input: {
        ...seeded.input,
        subscription: { ...seeded.input.subscription, planCode: 'business' },
        terms: { ...seeded.input.terms, plan: business },
      },
    };
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'acme_downgrade' };
    const sent: DirectSeatEvent[] = [];
    const send = async (...batch: DirectSeatEvent[]) => {
      sent.push(...batch);
      await sendSeatEvents(env.client, target, batch);
    };
    const askedAt = month(0, 10, 12);
    const oldId = fixture.input.subscription.id;
    const newId = `${oldId}-team`;

    await runWorker(async () => {
      const handle = await start(fixture);
      await send(seat('e1', 'u1', 'add', month(0, 5, 9)));
      await sleepUntil(askedAt);
      const result = await handle.executeUpdate(planChangeUpdate, {
        args: [{ kind: 'downgrade', subscription_id: newId, plan: snapshot(team), ending_at: null }],
        updateId: `plan-change:${newId}`,
      });
      expect(result).toMatchObject({ kind: 'downgrade', switches_at: month(1, 1), final_invoice_id: null });
      await sleepUntil(month(1, 6, 9));
      await send(seat('e2', 'u2', 'add', month(1, 6, 9)));
      await sleepUntil(month(2, 1, 2));

      const stored = await finalizedInvoices([oldId, newId], 2);
      const simulated = simulateFixture(
        fixture,
        sent,
        month(2, 1, 2),
        null,
        [],
        [{ at: askedAt, plan: team }],
      ).invoices;
      expect(simulated.map((s) => s.planCode)).toEqual(['business', 'team']);
      expect(rows(stored, [oldId, newId])).toEqual(simulatedRows(simulated));
      // By hand. Business, its whole month: 6000 + u1 from the 5th (D0 - 4 days) at $20 (31 days:
      // 27/31 → 0.87097 → $17.42). Team, the next month: 3000 + u1 all D1 days + u2 from the 6th
      // (D1 - 5) = 2·D1 - 5 seat-days at $10 (30 days: 55/30 → 1.83334 → $18.33).
      expect(rows(stored, [oldId, newId]).map((r) => r[3])).toEqual([
        [6000, handProratedCharge(D0 - 4, D0, 2000).amountCents],
        [3000, handProratedCharge(2 * D1 - 5, D1, 1000).amountCents],
      ]);
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(planCodeKey)).toBe('team');
      expect(description.memo?.plan_changes).toEqual([
        {
          lago_id: oldId,
          plan_code: 'business',
          started_at: iso(subscriptionAt),
          terminated_at: iso(month(1, 1)),
        },
      ]);
    });
  }, 180_000);
});
