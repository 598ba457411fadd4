/**
 * Seat plans as sold (SPEC section 8) in the subscription workflow, on Temporal's time-skipping
 * server with the real activities on FerretDB: pay-in-advance seats over two renewals and a trial
 * ending mid-period. Every stored invoice equals `prorata simulate` of the same events, and a hand
 * computation written next to it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from 'mongodb';
import { timeSkippingSuite } from '../support/time-skipping-suite';
import {
  seat,
  seedSubscription,
  simulateFixture,
  teamPlan,
  type SubscriptionFixture,
} from '../support/billing-fixtures';
import { handProratedCharge } from '../support/hand-rule';
import { daysInUtcMonth, monthsAhead } from '../support/scenario-calendar';
import { invoices, type InvoiceDoc } from '../../src/store/invoices';
import { subscriptions } from '../../src/store/subscriptions';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import { sendSeatEvents, type DirectSeatEvent } from '../../src/temporal/seat-events';
import { currentUsageQuery, terminateUpdate } from '../../src/temporal/messages';
import { isoSeconds } from '../../src/billing/instant';
import type { Plan } from '../../src/billing/plan';
import type { SimulatedInvoice } from '../../src/billing/simulate';

const DAY = 86_400_000;

/** $10 per seat per month, prorated, billed when each seat is added. */
const advancePlan: Plan = {
  ...teamPlan,
  code: 'team_in_advance',
  charges: teamPlan.charges.map((charge) => ({ ...charge, payInAdvance: true })),
};

/** $30 a month in arrears with a 10-day trial, plus the team plan's $10 seats in arrears. */
const trialPlan: Plan = { ...teamPlan, code: 'team_trial', amountCents: 3000, trialPeriodDays: 10 };

/** What both sides are compared on: reason, window start, fees (in advance?, amount), total. */
function storedRows(stored: InvoiceDoc[]) {
  return stored.map((i) => [
    i.invoicing_reason,
    i.from_datetime,
    i.fees.map((f) => [f.fee_type, f.fee_type !== 'credit' && f.pay_in_advance, f.amount_cents]),
    i.total_amount_cents,
  ]);
}

function simulatedRows(simulated: SimulatedInvoice[]) {
  return simulated.map((s) => [
    s.invoice.invoicingReason,
    isoSeconds(s.invoice.fromAt),
    s.invoice.fees.map((f) => [
      f.feeType,
      f.feeType === 'subscription' ? f.inAdvance : f.payInAdvance === true,
      f.amountCents,
    ]),
    s.invoice.totalAmountCents,
  ]);
}

describe('seat plans as sold in the subscription workflow (time-skipping)', () => {
  const suite = timeSkippingSuite();
  const taskQueue = 'seat-plans';
  const runWorker = (fn: () => Promise<void>) => suite.runWorker(taskQueue, fn);
  const start = (fixture: SubscriptionFixture) => suite.startSubscription(fixture, taskQueue);
  const sleepUntil = (at: number) => suite.sleepUntil(at);
  let env: TestWorkflowEnvironment;
  let db: Db;
  beforeAll(() => {
    ({ env, db } = suite);
  });

  /** The subscription's invoices in numbering order, once `count` are finalized. */
  async function invoicesOf(subscriptionId: string, count: number): Promise<InvoiceDoc[]> {
    const read = () =>
      invoices(db).find({ subscription_id: subscriptionId }).sort({ sequential_id: 1 }).toArray();
    for (let i = 0; i < 200; i++) {
      const found = await read();
      if (found.length >= count && found.every((f) => f.status === 'finalized')) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return read();
  }

  /** The stored document the API would have written, so the workflow's projection has a target. */
  async function storeSubscriptionDoc(fixture: SubscriptionFixture, plan: Plan, at: number) {
    const s = fixture.input.subscription;
    await subscriptions(db).insertOne({
      _id: s.id,
      organization_id: s.organizationId,
      external_id: s.externalId,
      external_customer_id: s.externalCustomerId,
      customer_id: s.customerId,
      plan_id: `plan-${plan.code}`,
      plan_code: plan.code,
      name: null,
      status: 'active',
      billing_time: 'calendar',
      subscription_at: new Date(at),
      started_at: new Date(at),
      ending_at: null,
      terminated_at: null,
      canceled_at: null,
      created_at: new Date(at),
      updated_at: new Date(at),
      current_billing_period_started_at: null,
      current_billing_period_ending_at: null,
      active_units: {},
      workflow_id: subscriptionWorkflowId(fixture.organizationId, s.externalId),
    });
  }

  it('pay in advance over two renewals: an invoice per add, none for a re-add, no refund, full renewals', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const [D0, D1] = [daysInUtcMonth(month(0)), daysInUtcMonth(month(1))];
    const subscriptionAt = month(0, 3, 6);
    await sleepUntil(subscriptionAt);
    const fixture = await seedSubscription(db, {
      externalId: 'advance_team',
      subscriptionAt,
      plan: advancePlan,
    });
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'advance_team' };
    const sent: DirectSeatEvent[] = [];
    const sendAt = async (event: DirectSeatEvent) => {
      await sleepUntil(event.timestamp);
      sent.push(event);
      await sendSeatEvents(env.client, target, [event]);
    };
    const subscriptionId = fixture.input.subscription.id;

    await runWorker(async () => {
      const handle = await start(fixture);
      await sendAt(seat('a1', 'u1', 'add', month(0, 3, 7)));
      await sendAt(seat('a2', 'u2', 'add', month(0, 10, 12)));
      await sendAt(seat('a3', 'u2', 'remove', month(0, 15, 12)));
      await sendAt(seat('a4', 'u2', 'add', month(0, 20, 12))); // re-added: billed already
      await sendAt(seat('b1', 'u3', 'add', month(1, 16, 9)));
      await sendAt(seat('b2', 'u1', 'remove', month(1, 20, 9))); // no refund
      await sleepUntil(month(2, 5));
      // Month 2 so far: its renewal (u2, u3), nothing else; u1, gone, is not renewed.
      const usage = await handle.query(currentUsageQuery);
      expect(usage?.charges_usage.map((c) => [c.units, c.amount_cents])).toEqual([['2.0', 2000]]);
      const terminatedAt = month(2, 10, 12);
      await sleepUntil(terminatedAt);
      await handle.executeUpdate(terminateUpdate, { args: [{ terminated_at: terminatedAt }] });

      const stored = await invoicesOf(subscriptionId, 6);
      const simulated = simulateFixture(fixture, sent, terminatedAt + 1, terminatedAt).invoices;
      expect(storedRows(stored)).toEqual(simulatedRows(simulated));
      // By hand ($10 a seat): u1 from the 3rd, D0 - 2 days of D0 (31: 29/31 → 0.93549 → 935); u2 from
      // the 10th, D0 - 9 days (31: 22/31 → 0.70968 → 710); its re-add on the 20th bills nothing. Month
      // 1 opens with the renewal of u1 and u2 (2 × $10); u3 from the 16th, D1 - 15 days (30: 15/30 =
      // 0.5 → 500); u1's removal refunds nothing. Month 2 opens with u2 and u3 renewed (2000). The
      // termination bills the $0 subscription fee only: the seats were paid in advance.
      const byHand = [
        ['in_advance_charge', handProratedCharge(D0 - 2, D0, 1000).amountCents],
        ['in_advance_charge', handProratedCharge(D0 - 9, D0, 1000).amountCents],
        ['subscription_periodic', 2000],
        ['in_advance_charge', handProratedCharge(D1 - 15, D1, 1000).amountCents],
        ['subscription_periodic', 2000],
        ['subscription_terminating', 0],
      ];
      expect(stored.map((i) => [i.invoicing_reason, i.total_amount_cents])).toEqual(byHand);
      expect(stored.map((i) => i.fees.length)).toEqual([1, 1, 2, 1, 2, 1]);
      expect(new Set(stored.map((i) => i.number)).size).toBe(6);
    });
  }, 180_000);

  it('a trial ending mid-period: no subscription fee for its days, trial_ended_at and one subscription.trial_ended at its end', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const D0 = daysInUtcMonth(month(0));
    const subscriptionAt = month(0, 5, 10);
    const trialEnd = subscriptionAt + 10 * DAY; // the 15th, 10:00 UTC
    await sleepUntil(subscriptionAt);
    const fixture = await seedSubscription(db, { externalId: 'trial_team', subscriptionAt, plan: trialPlan });
    await storeSubscriptionDoc(fixture, trialPlan, subscriptionAt);
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'trial_team' };
    const sent = [seat('t1', 'u1', 'add', month(0, 6))];
    const subscriptionId = fixture.input.subscription.id;

    await runWorker(async () => {
      const handle = await start(fixture);
      await sleepUntil(month(0, 6));
      await sendSeatEvents(env.client, target, sent);
      await sleepUntil(trialEnd - 60_000);
      expect((await subscriptions(db).findOne({ _id: subscriptionId }))?.trial_ended_at ?? null).toBeNull();
      await sleepUntil(month(1, 1, 2));
      const stored = await invoicesOf(subscriptionId, 1);
      expect((await subscriptions(db).findOne({ _id: subscriptionId }))?.trial_ended_at?.getTime()).toBe(
        trialEnd,
      );

      // The webhook was asked once, by the timer at the trial's end (workflow time), in the run
      // before the period's close (continue-as-new).
      const history = await env.client.workflow
        .getHandle(handle.workflowId, handle.firstExecutionRunId)
        .fetchHistory();
      const decoder = new TextDecoder();
      const trialEnded = (history.events ?? []).filter((event) => {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled?.activityType?.name !== 'notifySubscription') return false;
        const data = scheduled.input?.payloads?.[0]?.data;
        return data ? decoder.decode(data).includes('subscription.trial_ended') : false;
      });
      expect(trialEnded).toHaveLength(1);
      const askedAt = Number(trialEnded[0]?.eventTime?.seconds ?? 0) * 1000;
      expect(askedAt).toBeGreaterThanOrEqual(trialEnd - 1000);
      expect(askedAt).toBeLessThan(trialEnd + 60_000);

      const simulated = simulateFixture(fixture, sent, month(1, 1, 2)).invoices;
      expect(storedRows(stored)).toEqual(simulatedRows(simulated));
      // By hand: the fee pays the days from the 15th (the trial's end day is paid) to the month's
      // end, D0 - 14 of D0: round_half_up(3000 × (D0 - 14) / D0) (31 days: 1645.16 → 1645); the
      // seat charge is untouched by the trial: u1 from the 6th, D0 - 5 days (31: 26/31 → 839).
      const fee = Math.floor((3000 * (D0 - 14) * 2 + D0) / (2 * D0));
      const charge = handProratedCharge(D0 - 5, D0, 1000).amountCents;
      expect(stored[0]?.fees.map((f) => f.amount_cents)).toEqual([fee, charge]);
      expect(stored[0]?.total_amount_cents).toBe(fee + charge);
    });
  }, 180_000);
});
