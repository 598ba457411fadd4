/**
 * Pay-in-advance seats and a trial end to end through Lago's official client against the running
 * stack (Temporal dev server, FerretDB, worker, API): a plan whose seat charge is paid in advance,
 * a subscription, an event, and the `in_advance_charge` invoice it produces, equal to
 * `prorata simulate` of the same data.
 */
import { Client } from 'lago-javascript-client';
import { startStack, type Stack } from '../support/stack';
import { createSeatsMetric } from '../support/lago-catalog';
import { simulate } from '../../src/billing/simulate';
import type { Plan } from '../../src/billing/plan';
import type { BillableMetric } from '../../src/billing/billable-metric';
import { lagoCustomerUsage } from '../../src/billing/lago-shapes';

const DAY = 86_400_000;

interface InvoiceWithFees {
  lago_id: string;
  billing_periods: { invoicing_reason: string }[];
  total_amount_cents: number;
  fees: { pay_in_advance: boolean; amount_cents: number; item: { type: string } }[];
}

describe('pay-in-advance seats through lago-javascript-client', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('bills an added seat at once on an in_advance_charge invoice, as prorata simulate; the trial end shows', async () => {
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    const now = Date.now();
    // Started six days ago (whole seconds, as the API keeps them) with a 5-day trial: it has ended.
    const subscriptionAt = Math.floor((now - 6 * DAY) / 1000) * 1000;

    const metric = await createSeatsMetric(lago);
    const { data: plan } = await lago.plans.createPlan({
      plan: {
        name: 'Plus',
        code: 'plus',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        trial_period: 5,
        charges: [
          {
            billable_metric_id: metric.billable_metric.lago_id,
            code: 'seat_fee',
            charge_model: 'standard',
            pay_in_advance: true,
            prorated: true,
            properties: { amount: '10' },
          },
        ],
      },
    });
    expect(plan.plan).toMatchObject({ trial_period: 5, charges: [{ pay_in_advance: true, prorated: true }] });
    await lago.customers.createCustomer({
      customer: { external_id: 'plus_co', name: 'Plus Co', currency: 'USD', timezone: 'UTC' },
    });
    await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'plus_co',
        plan_code: 'plus',
        external_id: 'plus_sub',
        billing_time: 'calendar',
        subscription_at: new Date(subscriptionAt).toISOString(),
      },
    });
    const addedAt = Math.floor((now - 60_000) / 1000) * 1000;
    await lago.events.createEvent({
      event: {
        transaction_id: 'add-u1',
        external_subscription_id: 'plus_sub',
        code: 'seats',
        timestamp: addedAt / 1000,
        properties: { user_id: 'u1' },
      },
    });
    // Billed when it reaches prorata (a timestamp before a period boundary that has passed by then
    // belongs to the renewal, as in Lago): simulate it arriving now.
    const receivedAt = Date.now();

    const billingPlan: Plan = {
      code: 'plus',
      interval: 'monthly',
      amountCents: 0,
      currency: 'USD',
      payInAdvance: false,
      trialPeriodDays: 5,
      charges: [
        {
          code: 'seat_fee',
          lagoId: plan.plan.charges![0]!.lago_id!,
          billableMetricCode: 'seats',
          chargeModel: 'standard',
          prorated: true,
          payInAdvance: true,
          properties: { amount: '10' },
          invoiceDisplayName: null,
        },
      ],
    };
    const simulationMetrics: BillableMetric[] = [
      {
        code: 'seats',
        name: 'Seats',
        lagoId: metric.billable_metric.lago_id,
        aggregationType: 'unique_count_agg',
        fieldName: 'user_id',
        recurring: true,
      },
    ];
    const simulation = simulate({
      customer: { externalId: 'plus_co', timeZone: 'UTC', graceDays: 0 },
      metrics: simulationMetrics,
      plan: billingPlan,
      subscription: { externalId: 'plus_sub', billingTime: 'calendar', subscriptionAt, terminatedAt: null },
      events: [
        {
          transactionId: 'add-u1',
          code: 'seats',
          at: addedAt,
          receivedAt,
          properties: { user_id: 'u1' },
        },
      ],
      wallets: [],
      asOf: receivedAt,
      invoiceNumberPrefix: 'PLU',
      customerSequentialId: 1,
    });
    const simulated = simulation.invoices;
    // Six days ago may lie in the previous month: then its periodic invoice comes first.
    expect(simulated.at(-1)?.invoice.invoicingReason).toBe('in_advance_charge');

    // The workflow issues the invoice when the event reaches it: poll the list.
    let listed: { lago_id: string }[] = [];
    for (let i = 0; i < 150 && listed.length < simulated.length; i++) {
      listed = (await lago.invoices.findAllInvoices({ external_customer_id: 'plus_co' })).data.invoices;
      if (listed.length < simulated.length) await new Promise((r) => setTimeout(r, 100));
    }
    const found = await Promise.all(
      listed.map(
        async (i) => (await lago.invoices.findInvoice(i.lago_id)).data.invoice as unknown as InvoiceWithFees,
      ),
    );
    const rows = (list: [string, number, [string, boolean, number][]][]) =>
      [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    expect(
      rows(
        found.map((i) => [
          i.billing_periods[0]!.invoicing_reason,
          i.total_amount_cents,
          i.fees.map((f) => [f.item.type, f.pay_in_advance, f.amount_cents]),
        ]),
      ),
    ).toEqual(
      rows(
        simulated.map((s) => [
          s.invoice.invoicingReason,
          s.invoice.totalAmountCents,
          s.invoice.fees.map((f) => [
            f.feeType,
            f.feeType === 'subscription' ? f.inAdvance : f.payInAdvance === true,
            f.amountCents,
          ]),
        ]),
      ),
    );
    const inAdvance = found.find((i) => i.billing_periods[0]?.invoicing_reason === 'in_advance_charge');
    expect(inAdvance?.total_amount_cents).toBeGreaterThan(0);

    // Current usage of the charge: what was billed in the period, as simulate says.
    const { data: usage } = await lago.customers.findCustomerCurrentUsage('plus_co', {
      external_subscription_id: 'plus_sub',
    });
    expect(usage.customer_usage).toEqual(lagoCustomerUsage(simulation.currentUsage!, simulationMetrics));
    expect(usage.customer_usage.charges_usage[0]?.amount_cents).toBe(inAdvance?.total_amount_cents);

    // trial_ended_at: started_at + 5 days, set when the trial ended (the workflow's start, here).
    let trialEndedAt: string | null | undefined = null;
    for (let i = 0; i < 100 && !trialEndedAt; i++) {
      trialEndedAt = (await lago.subscriptions.findSubscription('plus_sub')).data.subscription.trial_ended_at;
      if (!trialEndedAt) await new Promise((r) => setTimeout(r, 100));
    }
    expect(trialEndedAt).toBe(new Date(subscriptionAt + 5 * DAY).toISOString().replace('.000Z', 'Z'));
  }, 120_000);
});
