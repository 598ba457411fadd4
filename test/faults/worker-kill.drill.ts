/**
 * Fault drill 1: kill -9 the worker in the middle of a billing-day run.
 *
 * Breaks: 500 subscriptions are created with `subscription_at` 35 to 64 days ago, so one to three of
 * their monthly periods have already closed and every workflow starts by catching up (one invoice per
 * closed period, then continue-as-new). The worker process is killed with SIGKILL once about a third
 * of the invoices are stored, with workflow tasks and activities in flight, then started again.
 *
 * Must hold: exactly one invoice per subscription and closed period in MongoDB (counted), each equal
 * field by field to `prorata simulate` of the same subscription and events, and no invoice number
 * given twice to one customer.
 */
import { invoices, type InvoiceDoc } from '../../src/store/invoices';
import { subscriptions } from '../../src/store/subscriptions';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import {
  DAY,
  apiClient,
  createSeatCatalog,
  createSubscriptions,
  eventually,
  expectedInvoices,
  inParallel,
  seatEvent,
  simulateSubscription,
  storedAmounts,
  type SeatEventInput,
} from './seat-billing';

const SUBSCRIPTIONS = 500;

describe('fault drill: kill -9 the worker during a billing-day run of 500 subscriptions', () => {
  let stack: ProcessStack;
  beforeAll(async () => {
    // No worker yet: the whole backlog of closed periods waits for the first one. FerretDB (SQLite)
    // serializes writes: 8 concurrent activities keep it from answering SQLITE_BUSY all the time.
    stack = await startProcessStack({
      worker: false,
      env: { worker: { WORKER_MAX_CONCURRENT_ACTIVITIES: '8' } },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('stores exactly one invoice per subscription and period, each equal to the simulation, after a kill -9 mid-run', async () => {
    const call = apiClient(stack.baseUrl, stack.apiKey);
    const catalog = await createSeatCatalog(call);
    const now = Math.floor(Date.now() / 1000) * 1000;

    // Seats over each subscription's first 30 days, stored before the subscriptions exist (their
    // workflows load them when they start).
    const subs = Array.from({ length: SUBSCRIPTIONS }, (_, i) => {
      const externalId = `drill1_${String(i).padStart(3, '0')}`;
      const subscriptionAt = now - (35 + (i % 30)) * DAY - (i % 7) * 3_600_000;
      const at = (days: number) => subscriptionAt + days * DAY;
      const events: SeatEventInput[] = [
        seatEvent(`${externalId}-1`, externalId, 'u1', 'add', at(0.05)),
        seatEvent(`${externalId}-2`, externalId, 'u2', 'add', at(3 + (i % 5))),
        seatEvent(`${externalId}-3`, externalId, 'u1', 'remove', at(20 + (i % 3))),
        seatEvent(`${externalId}-4`, externalId, 'u3', 'add', at(30)),
      ];
      return { externalId, subscriptionAt, events };
    });
    const allEvents = subs.flatMap((s) => s.events);
    const batches = Array.from({ length: Math.ceil(allEvents.length / 100) }, (_, b) =>
      allEvents.slice(b * 100, b * 100 + 100),
    );
    await inParallel(batches, 2, async (batch) => {
      const res = await call('POST', '/events/batch', { events: batch });
      if (res.status !== 200) throw new Error(`events: ${res.status} ${JSON.stringify(res.body)}`);
    });
    await createSubscriptions(call, subs, 4);

    const asOf = Date.now();
    const expected = new Map(
      subs.map((s) => {
        const simulation = simulateSubscription(catalog, s.externalId, s.subscriptionAt, s.events, asOf);
        return [
          s.externalId,
          {
            invoices: expectedInvoices(catalog, simulation),
            periodStart: simulation.cycle!.period.startAt,
          },
        ];
      }),
    );
    const expectedCount = [...expected.values()].reduce((n, e) => n + e.invoices.length, 0);
    const expectedCents = [...expected.values()]
      .flatMap((e) => e.invoices)
      .reduce((n, i) => n + i.total_amount_cents, 0);
    const count = () => invoices(stack.db).countDocuments({ invoice_type: 'subscription' });

    // The billing-day run, and the kill in its middle.
    await stack.start('worker');
    const atKill = await eventually(
      'a third of the invoices',
      600_000,
      async () => {
        const n = await count();
        return n >= expectedCount / 3 ? n : undefined;
      },
      50,
    );
    await stack.kill('worker');
    const afterKill = await count();
    expect(afterKill).toBeLessThan(expectedCount); // the kill did land mid-run
    await new Promise((r) => setTimeout(r, 1_000));
    await stack.start('worker');

    // Done when every subscription's read model shows the period the simulation is in now: its
    // workflow has stored every closed period's invoice (it projects after issuing, before continuing).
    await eventually(
      'every subscription in its current period',
      900_000,
      async () => {
        const docs = await subscriptions(stack.db)
          .find(
            { organization_id: stack.organizationId },
            { projection: { external_id: 1, current_billing_period_started_at: 1 } },
          )
          .toArray();
        const behind = docs.filter(
          (d) => d.current_billing_period_started_at?.getTime() !== expected.get(d.external_id)?.periodStart,
        );
        return docs.length === SUBSCRIPTIONS && behind.length === 0 ? true : undefined;
      },
      1_000,
    );
    expect(stack.alive('worker')).toBe(true);

    const stored = await invoices(stack.db).find({ invoice_type: 'subscription' }).toArray();
    const byPeriod = new Set(stored.map((d) => `${d.external_subscription_id} ${d.from_datetime}`));
    const bySubscription = new Map<string, InvoiceDoc[]>();
    for (const d of stored)
      bySubscription.set(d.external_subscription_id!, [
        ...(bySubscription.get(d.external_subscription_id!) ?? []),
        d,
      ]);
    console.log(
      `[drill 1] ${SUBSCRIPTIONS} subscriptions, ${allEvents.length} events; invoices: ${stored.length} stored / ` +
        `${expectedCount} simulated (${atKill} stored when the worker was killed, ${afterKill} once it was gone); ` +
        `total ${stored.reduce((n, d) => n + d.total_amount_cents, 0)} / ${expectedCents} cents simulated`,
    );

    expect(stored).toHaveLength(expectedCount);
    expect(byPeriod.size).toBe(expectedCount); // one per (subscription, period)
    for (const s of subs) {
      const mine = (bySubscription.get(s.externalId) ?? []).sort((a, b) =>
        a.from_datetime!.localeCompare(b.from_datetime!),
      );
      expect({ subscription: s.externalId, invoices: mine.map(storedAmounts) }).toEqual({
        subscription: s.externalId,
        invoices: expected.get(s.externalId)!.invoices,
      });
      // Finalized invoices are numbered once each (a crash may leave a gap, never a repeat).
      const numbers = mine.map((d) => d.sequential_id);
      expect(new Set(numbers).size).toBe(numbers.length);
      expect(mine.every((d) => d.status === 'finalized' && d.sequential_id !== null)).toBe(true);
    }
    expect(stored.reduce((n, d) => n + d.total_amount_cents, 0)).toBe(expectedCents);
  }, 1_500_000);
});
