/**
 * Prepaid credits on Temporal's time-skipping server with the real activities on FerretDB (SPEC
 * section 6): wallet workflows and subscription workflows together, months in seconds. Balances are
 * compared with `prorata simulate` of the same seats and wallets, and with a hand computation.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from 'mongodb';
import { timeSkippingSuite } from '../support/time-skipping-suite';
import {
  seat,
  seedSubscription,
  simulateFixture,
  type SubscriptionFixture,
} from '../support/billing-fixtures';
import { createActivities } from '../../activities';
import { createWallet, type NewWallet } from '../../api/wallet-control';
import type { WalletSetup } from '../../src/billing/simulate';
import { invoices } from '../../src/store/invoices';
import { wallets, walletTransactions, type WalletDoc } from '../../src/store/wallets';
import { customers } from '../../src/store/customers';
import { sendSeatEvents, type DirectSeatEvent } from '../../src/temporal/seat-events';
import { walletConsumeUpdate, walletSettleUpdate, walletTopUpUpdate } from '../../src/temporal/messages';
import { handProratedCharge } from '../support/hand-rule';
import { daysInUtcMonth, monthsAhead } from '../support/scenario-calendar';

describe('wallets and credits (time-skipping)', () => {
  const suite = timeSkippingSuite();
  const { runWorker, sleepUntil, startSubscription } = suite;
  let env: TestWorkflowEnvironment;
  let db: Db;
  beforeAll(() => {
    ({ env, db } = suite);
  });

  type WalletOptions = Partial<Omit<NewWallet, 'organizationId' | 'customer'>>;
  async function openWallet(
    fixture: SubscriptionFixture,
    queue: string,
    options: WalletOptions & { granted?: string; paid?: string; changesPerRun?: number },
  ) {
    const customer = (await customers(db).findOne({ _id: fixture.input.subscription.customerId }))!;
    const items = [
      ...(options.paid
        ? [{ id: `paid-${Math.random()}`, kind: 'paid' as const, credits: options.paid }]
        : []),
      ...(options.granted
        ? [{ id: `granted-${Math.random()}`, kind: 'granted' as const, credits: options.granted }]
        : []),
    ];
    const doc = await createWallet(
      { db, temporal: { client: env.client, connection: env.connection }, taskQueue: queue },
      {
        organizationId: fixture.organizationId,
        customer,
        currency: 'USD',
        rateAmount: options.rateAmount ?? '1',
        name: options.name ?? null,
        code: null,
        priority: options.priority ?? 50,
        createdAt: options.createdAt ?? (await env.currentTimeMs()),
        expirationAt: options.expirationAt ?? null,
        appliesTo: { feeTypes: [], billableMetricCodes: [] },
        invoiceRequiresSuccessfulPayment: false,
        paidTopUpMinAmountCents: null,
        paidTopUpMaxAmountCents: null,
        changesPerRun: options.changesPerRun,
        initialTopUp: items.length
          ? { items, name: null, metadata: [], invoice_requires_successful_payment: false, source: 'manual' }
          : null,
      },
    );
    suite.terminateAfterTest(doc.workflow_id);
    return doc;
  }

  const setupOf = (doc: WalletDoc, granted: string): WalletSetup => ({
    code: doc._id,
    name: doc.name,
    currency: doc.currency,
    rateAmount: doc.rate_amount,
    grantedCredits: granted,
    priority: doc.priority,
    createdAt: doc.created_at.getTime(),
    expirationAt: doc.expiration_at ? doc.expiration_at.getTime() : null,
    appliesTo: { feeTypes: [], billableMetricCodes: [] },
  });

  async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, tries = 400): Promise<T> {
    for (let i = 0; i < tries; i++) {
      const v = await probe();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('condition not reached');
  }

  const finalizedInvoices = (subscriptionId: string, count: number) =>
    waitFor(async () => {
      const found = await invoices(db)
        .find({ subscription_id: subscriptionId, status: 'finalized' })
        .sort({ from_datetime: 1 })
        .toArray();
      return found.length >= count ? found : null;
    });
  const balanceOf = async (id: string) => (await wallets(db).findOne({ _id: id }))!;

  it('draws two wallets by priority over three months, as prorata simulate; the rest stays due', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const subscriptionAt = month(0, 25, 6);
    await sleepUntil(subscriptionAt);
    const fixture = await seedSubscription(db, { externalId: 'credits_team', subscriptionAt });
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'credits_team' };
    const sent: DirectSeatEvent[] = [];
    const send = async (...batch: DirectSeatEvent[]) => {
      sent.push(...batch);
      await sendSeatEvents(env.client, target, batch);
    };
    await runWorker('credits', async () => {
      // Priority 2 is created first: priority, not age, decides the order.
      const second = await openWallet(fixture, 'credits', { priority: 2, rateAmount: '0.5', granted: '20' });
      const first = await openWallet(fixture, 'credits', { priority: 1, rateAmount: '1', granted: '30' });
      await waitFor(async () => (await balanceOf(first._id)).balance_cents === 3000);
      await waitFor(async () => (await balanceOf(second._id)).balance_cents === 1000);
      const subscription = await startSubscription(fixture, 'credits');
      await send(seat('c1', 'u1', 'add', month(0, 25, 7)));
      await sleepUntil(month(0, 27, 9));
      await send(seat('c2', 'u2', 'add', month(0, 27, 9)));
      const setups = [setupOf(second, '20'), setupOf(first, '30')];
      const expectBalances = async (count: number, asOf: number) => {
        const stored = await finalizedInvoices(fixture.input.subscription.id, count);
        const sim = simulateFixture(fixture, sent, asOf, null, setups);
        const simInvoice = sim.invoices[count - 1]!.invoice;
        expect(stored[count - 1]).toMatchObject({
          prepaid_credit_amount_cents: simInvoice.prepaidCreditAmountCents,
          total_amount_cents: simInvoice.totalAmountCents,
          payment_status: simInvoice.paymentStatus,
        });
        for (const w of sim.wallets) {
          const doc = await balanceOf(w.code);
          expect({ wallet: w.code, balance: doc.balance_cents }).toEqual({
            wallet: w.code,
            balance: w.balanceCents,
          });
        }
        return stored[count - 1]!;
      };

      // By hand ($10 per seat-month), from the months' own lengths D0, D1, D2 (the scenario runs in
      // the three months after the current one).
      const [D0, D1] = [daysInUtcMonth(month(0)), daysInUtcMonth(month(1))];
      await sleepUntil(month(1, 1, 2));
      // First month: u1 from the 25th (D0 - 24 days) + u2 from the 27th (D0 - 26) = 2·D0 - 50 of D0
      // (30 days: 10/30 → 0.33334 × $10 = 333 cents; 28: 214; 31: 387), all from `first`.
      const firstDue = handProratedCharge(2 * D0 - 50, D0, 1000).amountCents;
      expect(await expectBalances(1, month(1, 1, 2))).toMatchObject({
        prepaid_credit_amount_cents: firstDue,
        total_amount_cents: 0,
        payment_status: 'succeeded',
      });
      expect((await balanceOf(first._id)).balance_cents).toBe(3000 - firstDue);

      await sleepUntil(month(1, 10, 12));
      await send(seat('c3', 'u3', 'add', month(1, 10, 12)));
      await sleepUntil(month(1, 15, 12));
      await send(seat('c4', 'u2', 'remove', month(1, 15, 12)));
      await sleepUntil(month(2, 1, 2));
      // Second month: u1 D1 + u2 15 + u3 D1 - 9 = 2·D1 + 6 of D1 (31 days: 68/31 → 2.19355 → 2194
      // cents), still all from `first`: at most 387 + 2194 of its 3000.
      const secondDue = handProratedCharge(2 * D1 + 6, D1, 1000).amountCents;
      expect(await expectBalances(2, month(2, 1, 2))).toMatchObject({
        prepaid_credit_amount_cents: secondDue,
        total_amount_cents: 0,
      });
      const left = 3000 - firstDue - secondDue; // 473 after a 30- and a 31-day month; never over 1000
      expect((await balanceOf(first._id)).balance_cents).toBe(left);
      expect((await balanceOf(second._id)).balance_cents).toBe(1000);

      await sleepUntil(month(3, 1, 2));
      // Third month: two whole seats → 2000 cents whatever its length: `first` gives its last `left`,
      // `second` its 1000, the rest stays due (527 after a 30- and a 31-day month).
      expect(await expectBalances(3, month(3, 1, 2))).toMatchObject({
        prepaid_credit_amount_cents: left + 1000,
        total_amount_cents: 2000 - left - 1000,
        payment_status: 'pending',
      });
      expect((await balanceOf(first._id)).balance_cents).toBe(0);
      expect((await balanceOf(second._id)).balance_cents).toBe(0);
      // One outbound `invoiced` transaction per wallet and invoice: 3 from `first`, 1 from `second`.
      const outbound = await walletTransactions(db)
        .find({ transaction_status: 'invoiced', wallet_id: { $in: [first._id, second._id] } })
        .toArray();
      expect(
        outbound.map((t) => [t.wallet_id === first._id ? 'first' : 'second', t.amount_cents]).sort(),
      ).toEqual(
        [
          ['first', secondDue],
          ['first', firstDue],
          ['first', left],
          ['second', 1000],
        ].sort(),
      );
      if (process.env.SAVE_HISTORIES) {
        // Histories for test/workflow/replay.test.ts: a period closed with credits (settleInvoice;
        // subscription-credits-applied.json keeps the run of the earlier code), and a wallet's story.
        const runs = [
          [subscription.workflowId, subscription.firstExecutionRunId, 'subscription-credits-settled'],
          [first.workflow_id, undefined, 'wallet-granted-and-consumed'],
        ] as const;
        for (const [workflowId, runId, name] of runs) {
          const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
          writeFileSync(join(__dirname, '..', 'histories', `${name}.json`), historyToJSON(history));
        }
      }
      // Credits at 0.5 per credit: 1000 cents are 20 credits.
      expect(outbound.find((t) => t.wallet_id === second._id)?.credit_amount).toBe('20');
    });
  }, 180_000);

  it('does not spend a paid top-up before its credit invoice is paid, nor an expired wallet', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const subscriptionAt = month(0, 25, 6);
    await sleepUntil(subscriptionAt);
    const fixture = await seedSubscription(db, { externalId: 'paid_team', subscriptionAt });
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'paid_team' };
    await runWorker('paid', async () => {
      const paid = await openWallet(fixture, 'paid', { priority: 2, paid: '50' });
      // Expires at noon on the period's last day, before the invoice is finalized.
      const expiring = await openWallet(fixture, 'paid', {
        priority: 1,
        granted: '100',
        expirationAt: month(1, 1, 0) - 12 * 3_600_000,
      });
      const pendingTx = await waitFor(() =>
        walletTransactions(db).findOne({ wallet_id: paid._id, status: 'pending' }),
      );
      expect(pendingTx).toMatchObject({
        transaction_status: 'purchased',
        amount_cents: 5000,
        credit_amount: '50',
      });
      const creditInvoice = await waitFor(() =>
        invoices(db).findOne({ lago_id: pendingTx.invoice_lago_id! }),
      );
      expect(creditInvoice).toMatchObject({
        invoice_type: 'credit',
        status: 'finalized',
        payment_status: 'pending',
        total_amount_cents: 5000,
      });
      expect((await balanceOf(paid._id)).balance_cents).toBe(0);

      await startSubscription(fixture, 'paid');
      const added = [seat('p1', 'u1', 'add', month(0, 25, 7))];
      await sendSeatEvents(env.client, target, added);
      await sleepUntil(month(1, 1, 2));
      // The first (partial) month is due in full: the paid credits are pending and the granted wallet
      // expired the day before.
      const due = simulateFixture(fixture, added, month(1, 1, 2)).invoices[0]!.invoice.totalAmountCents;
      expect(due).toBeGreaterThan(0);
      const [first] = await finalizedInvoices(fixture.input.subscription.id, 1);
      expect(first).toMatchObject({
        sub_total_including_taxes_amount_cents: due,
        prepaid_credit_amount_cents: 0,
        total_amount_cents: due,
        payment_status: 'pending',
      });
      expect(await balanceOf(expiring._id)).toMatchObject({ status: 'terminated', balance_cents: 10000 });
      expect(
        await walletTransactions(db).countDocuments({
          wallet_id: expiring._id,
          transaction_status: 'invoiced',
        }),
      ).toBe(0);

      // The credit invoice is paid (what PUT /invoices/{id} does): the top-up settles.
      await env.client.workflow.getHandle(paid.workflow_id).executeUpdate(walletSettleUpdate, {
        args: [{ transaction_id: pendingTx._id, payment_status: 'succeeded' }],
      });
      expect((await balanceOf(paid._id)).balance_cents).toBe(5000);
      await sleepUntil(month(2, 1, 2));
      // A whole month of one seat: 1000 cents, paid by the settled top-up.
      const [, second] = await finalizedInvoices(fixture.input.subscription.id, 2);
      expect(second).toMatchObject({
        sub_total_including_taxes_amount_cents: 1000,
        prepaid_credit_amount_cents: 1000,
        total_amount_cents: 0,
        payment_status: 'succeeded',
      });
      expect((await balanceOf(paid._id)).balance_cents).toBe(4000);
    });
  }, 180_000);

  it('spends exactly once when credit application is retried after a crash', async () => {
    const month = monthsAhead(await env.currentTimeMs());
    const subscriptionAt = month(0, 25, 6);
    await sleepUntil(subscriptionAt);
    const fixture = await seedSubscription(db, { externalId: 'crash_team', subscriptionAt });
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'crash_team' };
    const real = createActivities({ db, client: env.client });
    let crashes = 0;
    const flaky = {
      ...real,
      // The wallet gave its credits, then the worker "crashed" before the workflow heard: twice.
      async consumeWalletCredits(...args: Parameters<typeof real.consumeWalletCredits>) {
        const result = await real.consumeWalletCredits(...args);
        if (crashes++ < 2) throw new Error('worker crashed after the wallet paid');
        return result;
      },
    };
    await runWorker(
      'crash',
      async () => {
        const wallet = await openWallet(fixture, 'crash', { granted: '5' });
        await waitFor(async () => (await balanceOf(wallet._id)).balance_cents === 500);
        await startSubscription(fixture, 'crash');
        const added = [seat('x1', 'u1', 'add', month(0, 25, 7))];
        await sendSeatEvents(env.client, target, added);
        await sleepUntil(month(1, 1, 2));
        const due = simulateFixture(fixture, added, month(1, 1, 2)).invoices[0]!.invoice.totalAmountCents;
        expect(due).toBeGreaterThan(0);
        expect(due).toBeLessThan(500);
        const [invoice] = await finalizedInvoices(fixture.input.subscription.id, 1);
        expect(crashes).toBe(3);
        expect(invoice).toMatchObject({
          prepaid_credit_amount_cents: due,
          total_amount_cents: 0,
          payment_status: 'succeeded',
        });
        expect((await balanceOf(wallet._id)).balance_cents).toBe(500 - due);
        expect(
          await walletTransactions(db).countDocuments({
            wallet_id: wallet._id,
            transaction_status: 'invoiced',
          }),
        ).toBe(1);
      },
      flaky,
    );
  }, 180_000);

  it('keeps the balance exact across continue-as-new; a consumption retried after it spends nothing more', async () => {
    const fixture = await seedSubscription(db, {
      externalId: 'can_team',
      subscriptionAt: await env.currentTimeMs(),
    });
    await runWorker('can', async () => {
      const wallet = await openWallet(fixture, 'can', { granted: '10', changesPerRun: 3 });
      const handle = env.client.workflow.getHandle(wallet.workflow_id);
      const topUp = (i: number) =>
        handle.executeUpdate(walletTopUpUpdate, {
          args: [
            {
              items: [{ id: `can-${i}`, kind: 'granted', credits: '1.5' }],
              name: null,
              metadata: [],
              invoice_requires_successful_payment: false,
              source: 'manual',
            },
          ],
        });
      for (let i = 0; i < 4; i++) await topUp(i);
      const request = {
        invoice_id: 'sub-x:subscription_periodic:2026-01-01',
        invoice_lago_id: 'inv-x',
        amount_cents: 700,
      };
      const first = await handle.executeUpdate(walletConsumeUpdate, {
        args: [request],
        updateId: 'inv-x:first',
      });
      expect(first).toMatchObject({ amount_cents: 700, credit_amount: '7' });
      for (let i = 4; i < 8; i++) await topUp(i);
      // Several runs by now (3 changes per run): the retry reaches a run where Temporal's update-id
      // memory of the first call is gone; only the wallet's own memory can answer it.
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(started?.continuedExecutionRunId).toBeTruthy();
      const retried = await handle.executeUpdate(walletConsumeUpdate, {
        args: [request],
        updateId: 'inv-x:retried',
      });
      expect(retried).toEqual(first);
      const doc = await waitFor(async () => {
        const w = await balanceOf(wallet._id);
        return w.balance_cents === 1000 + 8 * 150 - 700 ? w : null;
      });
      expect(doc).toMatchObject({ credits_balance: '15', consumed_credits: '7' });
      expect(await walletTransactions(db).countDocuments({ wallet_id: wallet._id })).toBe(10);
    });
  }, 120_000);
});
