/**
 * The seed's scenario, end to end through Lago's official client against the running stack (Temporal
 * dev server, FerretDB, worker, API): a recurring unique count of `user_id`, a plan at 0 with a
 * prorated standard charge of $10, a customer, a subscription, seats added and removed, current usage
 * equal to `prorata simulate` on the same data, and termination producing a final invoice.
 */
import { Client, getLagoError } from 'lago-javascript-client';
import { startStack, type Stack } from '../support/stack';
import { createSeatCatalog } from '../support/lago-catalog';
import { simulate } from '../../src/billing/simulate';
import { lagoCustomerUsage } from '../../src/billing/lago-shapes';
import { invoices } from '../../src/store/invoices';

const DAY = 86_400_000;

describe('seed scenario through lago-javascript-client', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('bills seats by the day: usage equals prorata simulate, termination stores and lists a final invoice', async () => {
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    const now = Date.now();
    const d = new Date(now);
    const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);

    const { metric, plan } = await createSeatCatalog(lago);
    await lago.customers.createCustomer({
      customer: { external_id: 'acme', name: 'Acme', currency: 'USD', timezone: 'UTC' },
    });
    const { data: created } = await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'acme',
        plan_code: 'team',
        external_id: 'acme_team',
        billing_time: 'calendar',
        subscription_at: new Date(monthStart).toISOString(),
      },
    });
    expect(created.subscription).toMatchObject({
      status: 'active',
      plan_code: 'team',
      external_id: 'acme_team',
    });

    // Seats during this month, all in the past: three added, one removed.
    const at = (day: number) => Math.min(monthStart + (day - 1) * DAY + 9 * 3_600_000, now - 60_000);
    const sent = [
      { transaction_id: 'add-u1', user: 'u1', op: 'add', ts: at(1) },
      { transaction_id: 'add-u2', user: 'u2', op: 'add', ts: at(3) },
      { transaction_id: 'add-u3', user: 'u3', op: 'add', ts: at(5) },
      { transaction_id: 'rm-u2', user: 'u2', op: 'remove', ts: at(8) },
    ];
    await lago.events.createBatchEvents({
      events: sent.map((e) => ({
        transaction_id: e.transaction_id,
        external_subscription_id: 'acme_team',
        code: 'seats',
        timestamp: Math.floor(e.ts / 1000),
        properties: { user_id: e.user, operation_type: e.op },
      })),
    });
    // A retry of an event that already succeeded is a 422 value_already_exist, as in Lago.
    try {
      await lago.events.createEvent({
        event: {
          transaction_id: 'add-u1',
          external_subscription_id: 'acme_team',
          code: 'seats',
          properties: { user_id: 'u1' },
        },
      });
      throw new Error('the duplicate was accepted');
    } catch (err) {
      expect(((await getLagoError<unknown>(err)) as { error_details: unknown }).error_details).toEqual({
        transaction_id: ['value_already_exist'],
      });
    }

    const metrics = [
      {
        code: 'seats',
        name: 'Seats',
        lagoId: metric.billable_metric.lago_id,
        aggregationType: 'unique_count_agg' as const,
        fieldName: 'user_id',
        recurring: true,
      },
    ];
    const simulation = (asOf: number, terminatedAt: number | null) =>
      simulate({
        customer: { externalId: 'acme', timeZone: 'UTC', graceDays: 0 },
        metrics,
        plan: {
          code: 'team',
          interval: 'monthly',
          amountCents: 0,
          currency: 'USD',
          payInAdvance: false,
          charges: [
            {
              code: 'seat_fee',
              lagoId: plan.plan.charges![0]!.lago_id!,
              billableMetricCode: 'seats',
              chargeModel: 'standard',
              prorated: true,
              properties: { amount: '10' },
              invoiceDisplayName: null,
            },
          ],
        },
        subscription: {
          externalId: 'acme_team',
          billingTime: 'calendar',
          subscriptionAt: monthStart,
          terminatedAt,
        },
        events: sent.map((e) => ({
          transactionId: e.transaction_id,
          code: 'seats',
          at: Math.floor(e.ts / 1000) * 1000,
          receivedAt: null,
          properties: { user_id: e.user, operation_type: e.op },
        })),
        wallets: [],
        asOf,
        invoiceNumberPrefix: 'ACM',
        customerSequentialId: 1,
      });

    // Events are delivered asynchronously to the workflow: poll until usage reflects all four.
    let usage:
      | Awaited<ReturnType<typeof lago.customers.findCustomerCurrentUsage>>['data']['customer_usage']
      | undefined;
    for (let i = 0; i < 100; i++) {
      usage = (
        await lago.customers.findCustomerCurrentUsage('acme', { external_subscription_id: 'acme_team' })
      ).data.customer_usage;
      if (usage.charges_usage[0]?.events_count === 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const expected = lagoCustomerUsage(simulation(now, null).currentUsage!, metrics);
    expect(usage).toEqual(expected);
    expect(usage?.charges_usage[0]?.units).toBe('2.0');

    const { data: ended } = await lago.subscriptions.destroySubscription('acme_team');
    expect(ended.subscription.status).toBe('terminated');
    const terminatedAt = Date.parse(ended.subscription.terminated_at!);

    const { data: list } = await lago.invoices.findAllInvoices({ external_customer_id: 'acme' });
    expect(list.invoices).toHaveLength(1);
    const final = list.invoices[0]!;
    const simulated = simulation(terminatedAt + 1000, terminatedAt).invoices.at(-1)!;
    expect(final).toMatchObject({
      invoice_type: 'subscription',
      status: 'finalized',
      total_amount_cents: simulated.invoice.totalAmountCents,
      fees_amount_cents: simulated.invoice.feesAmountCents,
    });
    expect(await invoices(stack.db).countDocuments({ external_subscription_id: 'acme_team' })).toBe(1);
    const { data: one } = await lago.invoices.findInvoice(final.lago_id);
    expect(
      (one.invoice as unknown as { fees: { item: { type: string } }[] }).fees.map((f) => f.item.type),
    ).toEqual(['subscription', 'charge']);
  }, 120_000);
});
