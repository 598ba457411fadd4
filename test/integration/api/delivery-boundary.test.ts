/**
 * Delivery that yields to acknowledgement still delivers, at once, the events of a subscription
 * whose period is about to close (api/event-delivery.ts, `closingSoon`), and only those: on the real
 * stack (dev server, worker, FerretDB), with the deliverer's clock set to the minute before one
 * subscription's boundary.
 */
import { startStack, type Stack } from '../../support/stack';
import { pendingDeliveries } from '../../../src/store/pending-deliveries';
import { apiClient, createSeatCatalog, type ApiCall } from '../../faults/seat-billing';

describe('delivery near a period boundary', () => {
  let stack: Stack;
  let clock = Date.now();
  let call: ApiCall;
  beforeAll(async () => {
    // While requests are being stored, a subscription not closing waits 10 minutes before the
    // paced lane takes it (30 s at most, `DELIVERY_LAG_MAX_MS`), so only the guard delivers sooner.
    stack = await startStack({ eventDelivery: { now: () => clock, delayWhileIngestingMs: 10 * 60_000 } });
    call = apiClient(stack.baseUrl, stack.apiKey);
    await createSeatCatalog(call); // metric `seats`, plan `team`
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const pending = (externalSubscriptionId: string) =>
    pendingDeliveries(stack.db).countDocuments({ external_subscription_id: externalSubscriptionId });

  it('delivers at once the subscription whose period ends within the minute, and lets the others wait', async () => {
    // Two customers whose periods end 9 or 15 hours apart (local midnights in UTC and Tokyo).
    const ends = new Map<string, number>();
    for (const [customer, timezone, sub] of [
      ['utc_co', 'UTC', 'utc_sub'],
      ['tokyo_co', 'Asia/Tokyo', 'tokyo_sub'],
    ] as const) {
      const customerCreated = await call('POST', '/customers', {
        customer: { external_id: customer, name: customer, currency: 'USD', timezone },
      });
      expect(customerCreated.status).toBe(200);
      const created = await call('POST', '/subscriptions', {
        subscription: { external_customer_id: customer, plan_code: 'team', external_id: sub },
      });
      expect(created.status).toBe(200);
      ends.set(
        sub,
        Date.parse(
          (created.body as { subscription: { current_billing_period_ending_at: string } }).subscription
            .current_billing_period_ending_at,
        ) + 1000,
      );
    }
    expect(Math.abs(ends.get('tokyo_sub')! - ends.get('utc_sub')!)).toBeGreaterThan(3_600_000);
    // The closing one: a subscription whose real boundary is not within the test's own run (its
    // workflow would close that period meanwhile), whatever the day the test runs on.
    const [closingSub, openSub] =
      ends.get('utc_sub')! - Date.now() > 10 * 60_000 ? ['utc_sub', 'tokyo_sub'] : ['tokyo_sub', 'utc_sub'];
    // The deliverer's clock: 30 s before that subscription's boundary, a UTC quarter-hour.
    clock = ends.get(closingSub)! - 30_000;

    // Requests keep being stored meanwhile: delivery yields.
    const busy = setInterval(() => stack.eventDelivery.noteIngest(), 10);
    try {
      const at = Math.floor(Date.now() / 1000);
      for (const sub of [openSub, closingSub])
        expect(
          (
            await call('POST', '/events', {
              event: {
                transaction_id: `${sub}-1`,
                external_subscription_id: sub,
                code: 'seats',
                timestamp: at,
                properties: { user_id: 'u1' },
              },
            })
          ).status,
        ).toBe(200);
      let closing = -1;
      for (let i = 0; i < 200 && closing !== 0; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        closing = await pending(closingSub);
      }
      expect(closing).toBe(0); // delivered, though woken after the other and while yielding
      expect(await pending(openSub)).toBe(1); // not closing: waits its turn
    } finally {
      clearInterval(busy);
    }
    // Once requests stop, every lane catches up.
    let open = -1;
    for (let i = 0; i < 200 && open !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      open = await pending(openSub);
    }
    expect(open).toBe(0);
  }, 120_000);
});
