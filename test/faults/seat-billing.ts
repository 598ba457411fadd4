/**
 * What the fault drills share: the seed's per-seat catalog created through the API, the billing
 * simulation of one subscription (`src/billing/simulate.ts`), and stored documents reduced to the
 * fields the simulation predicts, so a drill compares MongoDB with the simulation field by field.
 */
import type { BillableMetric } from '../../src/billing/billable-metric';
import type { Plan } from '../../src/billing/plan';
import { simulate, type SimulationEvent, type SimulationResult } from '../../src/billing/simulate';
import { lagoInvoiceAmounts, type LagoInvoiceAmounts } from '../../src/billing/lago-shapes';
import type { InvoiceDoc } from '../../src/store/invoices';

export const DAY = 86_400_000;

/** A small HTTP client for one organization; `body` is sent as JSON. */
export function apiClient(baseUrl: string, apiKey: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

export type ApiCall = ReturnType<typeof apiClient>;

async function expectOk<T>(what: string, p: Promise<{ status: number; body: T }>): Promise<T> {
  const res = await p;
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface SeatCatalog {
  metrics: BillableMetric[];
  plan: Plan;
}

/** The seed's catalog: a recurring unique count of `user_id`, plan `team` at 0 + $10 per seat, prorated. */
export async function createSeatCatalog(call: ApiCall): Promise<SeatCatalog> {
  const { billable_metric: metric } = await expectOk(
    'metric',
    call<{ billable_metric: { lago_id: string } }>('POST', '/billable_metrics', {
      billable_metric: {
        name: 'Seats',
        code: 'seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      },
    }),
  );
  const { plan } = await expectOk(
    'plan',
    call<{ plan: { charges: { lago_id: string }[] } }>('POST', '/plans', {
      plan: {
        name: 'Team',
        code: 'team',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          {
            billable_metric_id: metric.lago_id,
            code: 'seat_fee',
            charge_model: 'standard',
            prorated: true,
            properties: { amount: '10' },
          },
        ],
      },
    }),
  );
  return {
    metrics: [
      {
        code: 'seats',
        name: 'Seats',
        lagoId: metric.lago_id,
        aggregationType: 'unique_count_agg',
        fieldName: 'user_id',
        recurring: true,
      },
    ],
    plan: {
      code: 'team',
      interval: 'monthly',
      amountCents: 0,
      currency: 'USD',
      payInAdvance: false,
      charges: [
        {
          code: 'seat_fee',
          lagoId: plan.charges[0]!.lago_id,
          billableMetricCode: 'seats',
          chargeModel: 'standard',
          prorated: true,
          properties: { amount: '10' },
          invoiceDisplayName: null,
        },
      ],
    },
  };
}

/** POST /subscriptions for a customer of the same name + `_customer` (created on the fly, UTC, no grace). */
export async function createSubscription(call: ApiCall, externalId: string, subscriptionAt: number) {
  await expectOk(
    `subscription ${externalId}`,
    call('POST', '/subscriptions', {
      subscription: {
        external_customer_id: `${externalId}_customer`,
        plan_code: 'team',
        external_id: externalId,
        billing_time: 'calendar',
        subscription_at: new Date(subscriptionAt).toISOString(),
      },
    }),
  );
}

/**
 * Creates the subscriptions `concurrency` at a time, the first one alone: the first customers of an
 * organization, created concurrently, race to create its customer counter (src/store/sequences.ts
 * upserts it; FerretDB answers the losers E11000, which the API turns into a 500). Reported with
 * the drills; not what they test.
 */
export async function createSubscriptions(
  call: ApiCall,
  subs: { externalId: string; subscriptionAt: number }[],
  concurrency: number,
) {
  const [first, ...rest] = subs;
  if (first) await createSubscription(call, first.externalId, first.subscriptionAt);
  await inParallel(rest, concurrency, (s) => createSubscription(call, s.externalId, s.subscriptionAt));
}

/** A seat event as the API takes it; `timestamp` in whole Unix seconds. */
export interface SeatEventInput {
  transaction_id: string;
  external_subscription_id: string;
  code: 'seats';
  timestamp: number;
  properties: { user_id: string; operation_type: 'add' | 'remove' };
}

export function seatEvent(
  transactionId: string,
  externalSubscriptionId: string,
  user: string,
  op: 'add' | 'remove',
  atMs: number,
): SeatEventInput {
  return {
    transaction_id: transactionId,
    external_subscription_id: externalSubscriptionId,
    code: 'seats',
    timestamp: Math.floor(atMs / 1000),
    properties: { user_id: user, operation_type: op },
  };
}

/** `prorata simulate` of one subscription created by `createSubscription` with these events. */
export function simulateSubscription(
  catalog: SeatCatalog,
  externalId: string,
  subscriptionAt: number,
  events: SeatEventInput[],
  asOf: number,
): SimulationResult {
  const simEvents: SimulationEvent[] = events.map((e) => ({
    transactionId: e.transaction_id,
    code: e.code,
    at: e.timestamp * 1000,
    receivedAt: null,
    properties: e.properties,
  }));
  return simulate({
    customer: { externalId: `${externalId}_customer`, timeZone: 'UTC', graceDays: 0 },
    metrics: catalog.metrics,
    plan: catalog.plan,
    subscription: { externalId, billingTime: 'calendar', subscriptionAt, terminatedAt: null },
    events: simEvents,
    wallets: [],
    asOf,
    invoiceNumberPrefix: 'ACM',
    customerSequentialId: 1,
  });
}

/** The simulated invoices of a subscription, as the fields stored invoices must carry, oldest first. */
export function expectedInvoices(catalog: SeatCatalog, simulation: SimulationResult): LagoInvoiceAmounts[] {
  return simulation.invoices
    .map((i) => lagoInvoiceAmounts(i.invoice, catalog.metrics))
    .sort((a, b) => a.from_datetime.localeCompare(b.from_datetime));
}

/** A stored invoice reduced to what the simulation predicts (fee ids dropped). */
export function storedAmounts(doc: InvoiceDoc): LagoInvoiceAmounts {
  return {
    invoicing_reason: doc.invoicing_reason as LagoInvoiceAmounts['invoicing_reason'],
    status: doc.status as LagoInvoiceAmounts['status'],
    payment_status: doc.payment_status as LagoInvoiceAmounts['payment_status'],
    issuing_date: doc.issuing_date,
    from_datetime: doc.from_datetime!,
    to_datetime: doc.to_datetime!,
    currency: doc.currency,
    fees_amount_cents: doc.fees_amount_cents,
    taxes_amount_cents: doc.taxes_amount_cents,
    sub_total_excluding_taxes_amount_cents: doc.sub_total_excluding_taxes_amount_cents,
    sub_total_including_taxes_amount_cents: doc.sub_total_including_taxes_amount_cents,
    prepaid_credit_amount_cents: doc.prepaid_credit_amount_cents,
    total_amount_cents: doc.total_amount_cents,
    fees: doc.fees.map((fee) => {
      const { lago_id: _id, ...rest } = fee;
      return rest as LagoInvoiceAmounts['fees'][number];
    }),
  };
}

/** A seeded pseudo-random generator (mulberry32): drills are reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `task` over `items` with at most `concurrency` at a time. */
export async function inParallel<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** Polls `probe` until it returns a value (not undefined), or throws `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
