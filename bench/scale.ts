/**
 * scale (issue #13): do the hot paths cost the same whatever the data size? Grows one organization's
 * data to each size in turn (default 1,000, then 10,000, then 100,000 customers; stored seat events
 * and invoices in proportion, up to 1,000,000 and 100,000 at the largest size), loading it through
 * the store layer, and at each size measures through the API, one request at a time, p50/p99 of:
 * customer upsert, subscription create, a single event POST, current usage, GET /invoices (first
 * page), GET /customers page 50, and the cost per invoice of a billing day for a sample of
 * subscriptions crossing their boundary. Ends with the ratio of each figure at the largest size to
 * its figure at the smallest (the issue asks for at most 2).
 *
 * Subscriptions with running workflows are created through the API only as far as a time budget
 * allows (default 30 minutes in all, said in the output): the loaded customers have none, the
 * loaded events belong to subscription ids without workflows (delivered), the loaded invoices to
 * loaded customers.
 *
 * Args: [sizes = 1000,10000,100000] [events at the largest size = 1000000]
 *       [invoices at the largest size = 100000] [samples per figure = 200] [billing-day sample = 200]
 * Environment: SCALE_SUBSCRIPTION_BUDGET_S (1800).
 */
import { randomUUID } from 'node:crypto';
import { eventId, events, type EventDoc } from '../src/store/events';
import { upsertCustomer } from '../src/store/customers';
import { insertInvoiceIfMissing, invoiceCountSequence, type InvoiceDoc } from '../src/store/invoices';
import { sequenceTop } from '../src/store/sequences';
import { startBenchStack, type BenchStack } from './support/stack';
import { percentile, table } from './support/measure';
import {
  activityTimes,
  apiClient,
  createSeatCatalog,
  inParallel,
  seatEvent,
  subscriptionWorkflowId,
  type ActivityTimes,
  type ApiCall,
} from './support/seats';

const SIZES = (process.argv[2] ?? '1000,10000,100000').split(',').map(Number);
const LARGEST = Math.max(...SIZES);
const EVENTS_AT_LARGEST = Number(process.argv[3] ?? 1_000_000);
const INVOICES_AT_LARGEST = Number(process.argv[4] ?? 100_000);
const SAMPLES = Number(process.argv[5] ?? 200);
const BILLING_SAMPLE = Number(process.argv[6] ?? 200);
const SUBSCRIPTION_BUDGET_MS = Number(process.env.SCALE_SUBSCRIPTION_BUDGET_S ?? 1800) * 1000;
const LOAD_PARALLELISM = 8;

function log(message: string): void {
  console.error(`[scale] ${message}`);
}

interface Figure {
  p50: number;
  p99: number;
}

/** `SAMPLES` calls of `op(i)`, one at a time; each must answer 200. */
async function measure(what: string, count: number, op: (i: number) => Promise<{ status: number }>) {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await op(i);
    ms.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${what}: answered ${res.status}`);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** Loads customers, events and invoices through the store layer up to `size` customers. */
/** Lago ids of the loaded customers, by external id. */
const loadedCustomers = new Map<string, string>();

async function grow(stack: BenchStack, from: number, size: number): Promise<void> {
  const db = stack.db;
  const org = stack.organizationId;
  const customerIds = Array.from(
    { length: size - from },
    (_, i) => `load_${String(from + i).padStart(7, '0')}`,
  );
  let t0 = performance.now();
  await inParallel(customerIds, LOAD_PARALLELISM, async (external_id) => {
    const { customer } = await upsertCustomer(db, org, { external_id, name: external_id, currency: 'USD' });
    loadedCustomers.set(external_id, customer._id);
  });
  log(`${size}: ${customerIds.length} customers loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const eventsFrom = Math.round((EVENTS_AT_LARGEST * from) / LARGEST);
  const eventsTo = Math.round((EVENTS_AT_LARGEST * size) / LARGEST);
  t0 = performance.now();
  const now = new Date();
  for (let start = eventsFrom; start < eventsTo; start += 1000) {
    const docs: EventDoc[] = [];
    for (let n = start; n < Math.min(eventsTo, start + 1000); n++) {
      const key = {
        external_subscription_id: `load_sub_${n % Math.max(1, size)}`,
        transaction_id: `load-${n}`,
      };
      docs.push({
        _id: eventId(org, key),
        organization_id: org,
        ...key,
        code: 'seats',
        timestamp: now,
        properties_json: JSON.stringify({ user_id: `u${n % 10}` }),
        precise_total_amount_cents: null,
        created_at: now,
        delivered_at: now,
        awaiting_subscription: false,
        source: 'api',
        problems: [],
        problems_reported: true,
      });
    }
    await events(db).insertMany(docs, { ordered: false });
  }
  log(
    `${size}: ${eventsTo - eventsFrom} stored events loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );

  const invoicesFrom = Math.round((INVOICES_AT_LARGEST * from) / LARGEST);
  const invoicesTo = Math.round((INVOICES_AT_LARGEST * size) / LARGEST);
  t0 = performance.now();
  await inParallel(
    Array.from({ length: invoicesTo - invoicesFrom }, (_, i) => invoicesFrom + i),
    LOAD_PARALLELISM,
    async (n) => {
      const customer = `load_${String(n % size).padStart(7, '0')}`;
      await insertInvoiceIfMissing(db, loadedInvoice(org, loadedCustomers.get(customer)!, customer, n));
    },
  );
  log(
    `${size}: ${invoicesTo - invoicesFrom} invoices loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

function loadedInvoice(
  organizationId: string,
  customerId: string,
  externalCustomerId: string,
  n: number,
): InvoiceDoc {
  const at = new Date(Date.UTC(2025, 0, 1) + n * 1000);
  return {
    _id: `load:${n}`,
    lago_id: randomUUID(),
    organization_id: organizationId,
    customer_id: customerId,
    external_customer_id: externalCustomerId,
    subscription_id: null,
    external_subscription_id: null,
    invoice_type: 'subscription',
    invoicing_reason: 'subscription_periodic',
    status: 'finalized',
    payment_status: 'pending',
    number: `LOAD-${n}`,
    sequential_id: null,
    net_payment_term: 0,
    prepaid_credit_amount_cents: 0,
    total_amount_cents: 1000,
    created_at: at,
    updated_at: at,
    finalized_at: at,
    version_number: 1,
    currency: 'USD',
    issuing_date: at.toISOString().slice(0, 10),
    payment_due_date: at.toISOString().slice(0, 10),
    from_datetime: at.toISOString(),
    to_datetime: at.toISOString(),
    fees_amount_cents: 1000,
    sub_total_excluding_taxes_amount_cents: 1000,
    sub_total_including_taxes_amount_cents: 1000,
    taxes_amount_cents: 0,
    fees: [],
  };
}

/** The figures at one size, through the API. */
async function figuresAt(stack: BenchStack, call: ApiCall, size: number, subsBudgetMs: number) {
  const tag = `s${size}`;
  const figures: Record<string, Figure> = {};
  figures['customer upsert'] = await measure('customer upsert', SAMPLES, (i) =>
    call('POST', '/customers', {
      customer: { external_id: `${tag}_new_${i}`, name: 'New', currency: 'USD' },
    }),
  );
  const started = performance.now();
  let subscriptions = 0;
  const subscriptionMs: number[] = [];
  while (subscriptions < SAMPLES && performance.now() - started < subsBudgetMs) {
    const t0 = performance.now();
    const res = await call('POST', '/subscriptions', {
      subscription: {
        external_customer_id: `${tag}_new_${subscriptions}`,
        plan_code: 'team',
        external_id: `${tag}_sub_${subscriptions}`,
        billing_time: 'calendar',
      },
    });
    subscriptionMs.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`subscription create: answered ${res.status}`);
    subscriptions++;
  }
  subscriptionMs.sort((a, b) => a - b);
  figures['subscription create'] = {
    p50: percentile(subscriptionMs, 50),
    p99: percentile(subscriptionMs, 99),
  };
  const at = Date.now();
  figures['single event POST'] = await measure('event', SAMPLES, (i) =>
    call('POST', '/events', {
      event: seatEvent(`${tag}-ev-${i}`, `${tag}_sub_${i % subscriptions}`, `u${i}`, 'add', at),
    }),
  );
  figures['current usage'] = await measure('current usage', SAMPLES, (i) =>
    call(
      'GET',
      `/customers/${tag}_new_${i % subscriptions}/current_usage?external_subscription_id=${tag}_sub_${i % subscriptions}`,
    ),
  );
  figures['GET /invoices first page'] = await measure('invoices', SAMPLES, () =>
    call('GET', '/invoices?per_page=20'),
  );
  figures['GET /invoices?external_customer_id first page'] = await measure(
    'customer invoices',
    SAMPLES,
    (i) =>
      call('GET', `/invoices?per_page=20&external_customer_id=load_${String(i % size).padStart(7, '0')}`),
  );
  figures['GET /customers page 50'] = await measure('customers page 50', SAMPLES, () =>
    call('GET', '/customers?per_page=20&page=50'),
  );
  const day = await billingDay(stack, call, tag);
  figures['billing day, ms per invoice'] = day;
  return { figures, subscriptions, billingTimes: day.times };
}

/**
 * `BILLING_SAMPLE` subscriptions that started last month (their first period has closed), created
 * with the worker stopped; the clock runs from the worker's start until all their invoices are
 * stored (the organization's invoice count, a point read). Reported as ms per invoice, twice (p50
 * and p99 columns hold the same figure).
 */
async function billingDay(
  stack: BenchStack,
  call: ApiCall,
  tag: string,
): Promise<Figure & { times: ActivityTimes[] }> {
  const now = new Date();
  const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 10);
  const before = await sequenceTop(stack.db, invoiceCountSequence(stack.organizationId));
  await stack.kill('worker');
  await inParallel(
    Array.from({ length: BILLING_SAMPLE }, (_, i) => i),
    4,
    async (i) => {
      const res = await call('POST', '/subscriptions', {
        subscription: {
          external_customer_id: `${tag}_day_${i}`,
          plan_code: 'team',
          external_id: `${tag}_day_${i}`,
          billing_time: 'calendar',
          subscription_at: new Date(lastMonth).toISOString(),
        },
      });
      if (res.status !== 200) throw new Error(`billing-day subscription: answered ${res.status}`);
    },
  );
  const t0 = performance.now();
  await stack.start('worker');
  for (;;) {
    const stored = (await sequenceTop(stack.db, invoiceCountSequence(stack.organizationId))) - before;
    if (stored >= BILLING_SAMPLE) break;
    if (performance.now() - t0 > 30 * 60_000)
      throw new Error(`billing day: ${stored} of ${BILLING_SAMPLE} invoices`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const perInvoice = (performance.now() - t0) / BILLING_SAMPLE;
  const times = await activityTimes(
    stack.client,
    Array.from({ length: BILLING_SAMPLE }, (_, i) =>
      subscriptionWorkflowId(stack.organizationId, `${tag}_day_${i}`),
    ),
  );
  return { p50: perInvoice, p99: perInvoice, times };
}

async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const call = apiClient(stack.baseUrl, stack.apiKey);
    await createSeatCatalog(call);
    const results: {
      size: number;
      figures: Record<string, Figure>;
      subscriptions: number;
      billingTimes: ActivityTimes[];
    }[] = [];
    let loaded = 0;
    for (const size of SIZES) {
      await grow(stack, loaded, size);
      loaded = size;
      log(`${size}: measuring`);
      const budget = SUBSCRIPTION_BUDGET_MS / SIZES.length;
      results.push({ size, ...(await figuresAt(stack, call, size, budget)) });
    }
    const names = Object.keys(results[0]!.figures);
    const first = results[0]!;
    const last = results[results.length - 1]!;
    console.log(
      `MongoDB: ${stack.mongoKind}; Temporal dev server (SQLite file). One organization grown to ` +
        `${SIZES.join(', ')} customers through the store layer, with ${EVENTS_AT_LARGEST.toLocaleString('en-US')} stored ` +
        `seat events and ${INVOICES_AT_LARGEST.toLocaleString('en-US')} invoices at ${LARGEST.toLocaleString('en-US')} ` +
        `(in proportion below). Each figure: ${SAMPLES} API calls one at a time, ms; subscriptions created ` +
        `through the API at each size: ${results.map((r) => r.subscriptions).join(', ')} (budget ` +
        `${SUBSCRIPTION_BUDGET_MS / 60_000} min in all); billing day: ${BILLING_SAMPLE} subscriptions crossing ` +
        `their boundary, ms per invoice from the worker's start.\n`,
    );
    console.log(
      table([
        ['figure', ...results.flatMap((r) => [`p50 @${r.size}`, `p99 @${r.size}`]), 'p50 ratio', 'p99 ratio'],
        ...names.map((n) => [
          n,
          ...results.flatMap((r) => [r.figures[n]!.p50, r.figures[n]!.p99]),
          last.figures[n]!.p50 / first.figures[n]!.p50,
          last.figures[n]!.p99 / first.figures[n]!.p99,
        ]),
      ]),
    );
    console.log(
      '\nBilling day, where the time went (histories of the sampled subscriptions; wait = scheduled to ' +
        'started, run = started to completed, means in ms):\n',
    );
    console.log(
      table([
        ['size', 'activity', 'calls per workflow', 'wait ms', 'run ms'],
        ...results.flatMap((r) =>
          r.billingTimes.map((t) => [String(r.size), t.activity, t.perWorkflow, t.waitMs, t.runMs]),
        ),
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
