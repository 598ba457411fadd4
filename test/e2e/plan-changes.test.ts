/**
 * Plan changes end to end through Lago's official client on the real stack (Temporal dev server,
 * FerretDB, worker, API): `createSubscription` with the external id of an active subscription and
 * another plan. An upgrade switches at once (the old subscription terminated with its final
 * invoice); a downgrade leaves the new subscription pending until the period end. Both
 * subscriptions of each external id are read back, with their invoices and webhooks.
 */
import { Client } from 'lago-javascript-client';
import { createSeatsMetric } from '../support/lago-catalog';
import { startStack, type Stack } from '../support/stack';
import { pendingDeliveries } from '../../src/store/pending-deliveries';
import { handProratedCharge } from '../support/hand-rule';
import { daysInUtcMonth } from '../support/scenario-calendar';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

describe('plan changes through lago-javascript-client', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startStack();
    receiver = await startWebhookReceiver();
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    await lago.webhookEndpoints.createWebhookEndpoint({
      webhook_endpoint: { webhook_url: receiver.url, signature_algo: 'hmac' },
    });
    const metric = await createSeatsMetric(lago);
    // Starter: $10 a month and $10 a seat; Pro: $30 and $20 (a higher yearly amount).
    for (const [code, amountCents, price] of [
      ['starter', 1000, '10'],
      ['pro', 3000, '20'],
    ] as const) {
      await lago.plans.createPlan({
        plan: {
          name: code,
          code,
          interval: 'monthly',
          amount_cents: amountCents,
          amount_currency: 'USD',
          pay_in_advance: false,
          charges: [
            {
              billable_metric_id: metric.billable_metric.lago_id,
              charge_model: 'standard',
              prorated: true,
              properties: { amount: price },
            },
          ],
        },
      });
    }
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const monthStartOf = (now: number) => {
    const d = new Date(now);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  };

  it('upgrades starter -> pro at once: the starter subscription terminated and invoiced, pro active with previous_plan_code', async () => {
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    const monthStart = monthStartOf(Date.now());
    await lago.customers.createCustomer({
      customer: { external_id: 'acme', currency: 'USD', timezone: 'UTC' },
    });
    const { data: first } = await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'acme',
        external_id: 'acme_main',
        plan_code: 'starter',
        subscription_at: new Date(monthStart).toISOString(),
      },
    });
    await lago.events.createEvent({
      event: {
        transaction_id: 'acme-u1',
        code: 'seats',
        external_subscription_id: 'acme_main',
        timestamp: monthStart / 1000,
        properties: { user_id: 'u1' },
      },
    });
    // Delivered: stored, and its pending-delivery marker gone.
    await eventually(
      async () =>
        (await stack.db.collection('events').findOne({ transaction_id: 'acme-u1' })) !== null &&
        (await pendingDeliveries(stack.db).countDocuments()) === 0,
    );

    const { data: upgraded } = await lago.subscriptions.createSubscription({
      subscription: { external_customer_id: 'acme', external_id: 'acme_main', plan_code: 'pro' },
    });
    const switchedAt = Date.now();
    expect(upgraded.subscription).toMatchObject({
      external_id: 'acme_main',
      plan_code: 'pro',
      status: 'active',
      previous_plan_code: 'starter',
      next_plan_code: null,
      subscription_at: new Date(monthStart).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      billing_time: 'calendar',
    });
    expect(upgraded.subscription.lago_id).not.toBe(first.subscription.lago_id);

    // Both subscriptions of the external id: the active one by default, the old one by status.
    const { data: active } = await lago.subscriptions.findSubscription('acme_main');
    expect(active.subscription.lago_id).toBe(upgraded.subscription.lago_id);
    const { data: old } = await lago.subscriptions.findSubscription('acme_main', { status: 'terminated' });
    expect(old.subscription).toMatchObject({
      lago_id: first.subscription.lago_id,
      plan_code: 'starter',
      status: 'terminated',
    });
    expect(old.subscription.terminated_at).not.toBeNull();
    const { data: terminatedList } = await lago.subscriptions.findAllSubscriptions({
      external_customer_id: 'acme',
      'status[]': ['terminated'],
    } as Parameters<typeof lago.subscriptions.findAllSubscriptions>[0]);
    expect(terminatedList.subscriptions.map((s) => s.lago_id)).toEqual([first.subscription.lago_id]);

    // The old subscription's final invoice: days before the upgrade's (UTC) day, on starter.
    // By hand: d = the days of the month before today; fee 1000 × d/D half up, u1 d seat-days at $10.
    const D = daysInUtcMonth(switchedAt);
    const daysBefore = new Date(switchedAt).getUTCDate() - 1;
    const { data: list } = await eventually(async () => {
      const found = await lago.invoices.findAllInvoices({ external_customer_id: 'acme' });
      return found.data.invoices.length > 0 ? found : null;
    });
    expect(list.invoices).toHaveLength(1);
    const invoice = list.invoices[0]!;
    expect(invoice).toMatchObject({ invoice_type: 'subscription', status: 'finalized' });
    const { data: full } = await lago.invoices.findInvoice(invoice.lago_id);
    // Lago's billing period of the invoice names the old subscription, on the days before today.
    const periods = (full.invoice as unknown as { billing_periods: Record<string, string>[] })
      .billing_periods;
    expect(periods.map((p) => [p.lago_subscription_id, p.invoicing_reason, p.charges_to_datetime])).toEqual([
      [
        first.subscription.lago_id,
        'subscription_terminating',
        new Date(
          Date.UTC(
            new Date(switchedAt).getUTCFullYear(),
            new Date(switchedAt).getUTCMonth(),
            daysBefore + 1,
          ) - 1000,
        )
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
      ],
    ]);
    expect(full.invoice.total_amount_cents).toBe(
      Math.floor((2 * 1000 * daysBefore + D) / (2 * D)) + handProratedCharge(daysBefore, D, 1000).amountCents,
    );

    await eventually(() =>
      Promise.resolve(
        receiver.received.some(
          (r) => r.type === 'subscription.terminated' && r.object.lago_id === first.subscription.lago_id,
        ) &&
          receiver.received.some(
            (r) => r.type === 'subscription.started' && r.object.lago_id === upgraded.subscription.lago_id,
          ),
      ),
    );
  }, 120_000);

  it('downgrades pro -> starter at the period end: pro stays active with next_plan_code, starter pending', async () => {
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    const monthStart = monthStartOf(Date.now());
    await lago.customers.createCustomer({
      customer: { external_id: 'beta', currency: 'USD', timezone: 'UTC' },
    });
    const { data: first } = await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'beta',
        external_id: 'beta_main',
        plan_code: 'pro',
        subscription_at: new Date(monthStart).toISOString(),
      },
    });
    const { data: downgraded } = await lago.subscriptions.createSubscription({
      subscription: { external_customer_id: 'beta', external_id: 'beta_main', plan_code: 'starter' },
    });
    const nextMonth = new Date(monthStart);
    nextMonth.setUTCMonth(nextMonth.getUTCMonth() + 1);
    expect(downgraded.subscription).toMatchObject({
      plan_code: 'starter',
      status: 'pending',
      previous_plan_code: 'pro',
      started_at: null,
    });
    const { data: active } = await lago.subscriptions.findSubscription('beta_main');
    expect(active.subscription).toMatchObject({
      lago_id: first.subscription.lago_id,
      plan_code: 'pro',
      status: 'active',
      next_plan_code: 'starter',
      downgrade_plan_date: nextMonth.toISOString().slice(0, 10),
    });
    const { data: pending } = await lago.subscriptions.findSubscription('beta_main', { status: 'pending' });
    expect(pending.subscription.lago_id).toBe(downgraded.subscription.lago_id);
    // Nothing is invoiced before the period end.
    const { data: list } = await lago.invoices.findAllInvoices({ external_customer_id: 'beta' });
    expect(list.invoices).toEqual([]);
    // Retried, the same request answers the same pending subscription.
    const { data: again } = await lago.subscriptions.createSubscription({
      subscription: { external_customer_id: 'beta', external_id: 'beta_main', plan_code: 'starter' },
    });
    expect(again.subscription.lago_id).toBe(downgraded.subscription.lago_id);
  }, 120_000);
});
