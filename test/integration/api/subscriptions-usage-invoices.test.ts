/**
 * Subscriptions, current usage and invoices over HTTP on the real stack (dev server, worker,
 * FerretDB): successes and every error shape.
 */
import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../../support/stack';
import { eventId, events, type EventDoc } from '../../../src/store/events';
import { pendingDeliveries } from '../../../src/store/pending-deliveries';
import { subscriptionWorkflowId } from '../../../src/temporal/ids';
import { currentUsageQuery } from '../../../src/temporal/messages';

describe('subscriptions, current usage and invoices API', () => {
  let stack: Stack;
  let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(async () => {
    stack = await startStack();
    call = async (method, path, body) => {
      const res = await fetch(`${stack.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const metric = await call('POST', '/billable_metrics', {
      billable_metric: {
        name: 'Seats',
        code: 'seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      },
    });
    const latest = await call('POST', '/billable_metrics', {
      billable_metric: {
        name: 'Latest',
        code: 'latest',
        aggregation_type: 'latest_agg',
        field_name: 'value',
      },
    });
    const plan = (code: string, metricId: string, model = 'standard') => ({
      plan: {
        name: code,
        code,
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [{ billable_metric_id: metricId, charge_model: model, properties: { amount: '10' } }],
      },
    });
    expect((await call('POST', '/plans', plan('team', metric.body.billable_metric.lago_id))).status).toBe(
      200,
    );
    expect((await call('POST', '/plans', plan('odd', latest.body.billable_metric.lago_id))).status).toBe(200);
    const packaged = plan('packaged', metric.body.billable_metric.lago_id, 'package');
    expect((await call('POST', '/plans', packaged)).status).toBe(200);
    const tieredBase = plan('tiered', metric.body.billable_metric.lago_id, 'graduated').plan;
    const graduatedRanges = [
      { from_value: 0, to_value: 2, per_unit_amount: '10', flat_amount: '0' },
      { from_value: 3, to_value: null, per_unit_amount: '5', flat_amount: '0' },
    ];
    const tiered = {
      plan: {
        ...tieredBase,
        charges: tieredBase.charges.map((c) => ({ ...c, properties: { graduated_ranges: graduatedRanges } })),
      },
    };
    expect((await call('POST', '/plans', tiered)).status).toBe(200);
    const advanceBase = plan('advance', metric.body.billable_metric.lago_id).plan;
    const advance = {
      plan: { ...advanceBase, charges: advanceBase.charges.map((c) => ({ ...c, pay_in_advance: true })) },
    };
    expect((await call('POST', '/plans', advance)).status).toBe(200);
    const proratedAdvance = {
      plan: {
        ...advanceBase,
        code: 'advance_prorated',
        charges: advanceBase.charges.map((c) => ({ ...c, pay_in_advance: true, prorated: true })),
      },
    };
    expect((await call('POST', '/plans', proratedAdvance)).status).toBe(200);
    const fractionalTrial = {
      plan: { ...plan('half_day_trial', metric.body.billable_metric.lago_id).plan, trial_period: 1.5 },
    };
    expect((await call('POST', '/plans', fractionalTrial)).body.plan?.trial_period).toBe(1.5);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('creates an active subscription (and its customer, as Lago does), finds and lists it', async () => {
    const created = await call('POST', '/subscriptions', {
      subscription: {
        external_customer_id: 'new_co',
        plan_code: 'team',
        external_id: 'new_sub',
        name: 'Main',
      },
    });
    expect(created.status).toBe(200);
    expect(created.body.subscription).toMatchObject({
      status: 'active',
      external_customer_id: 'new_co',
      plan: { code: 'team' },
    });
    // Its billing period at once (Lago's values; the customer is on UTC, calendar monthly): from
    // the subscription's start to the last second of that month.
    const { started_at, current_billing_period_started_at, current_billing_period_ending_at } =
      created.body.subscription;
    const start = new Date(started_at);
    expect(Date.parse(current_billing_period_started_at)).toBe(Math.floor(start.getTime() / 1000) * 1000);
    expect(Date.parse(current_billing_period_ending_at)).toBe(
      Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1) - 1000,
    );
    expect((await call('GET', '/customers/new_co')).status).toBe(200);
    const found = (await call('GET', '/subscriptions/new_sub')).body.subscription;
    expect(found).toMatchObject({ name: 'Main', current_billing_period_started_at });
    expect(Date.parse(found.current_billing_period_ending_at)).toBe(
      Date.parse(current_billing_period_ending_at),
    );
    const list = await call(
      'GET',
      '/subscriptions?external_customer_id=new_co&status[]=active&status[]=pending',
    );
    expect(list.body.subscriptions.map((s: { external_id: string }) => s.external_id)).toEqual(['new_sub']);
    expect(list.body.subscriptions[0].plan).toBeUndefined();
    // A retried create returns the same subscription.
    const again = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'new_co', plan_code: 'team', external_id: 'new_sub' },
    });
    expect(again.body.subscription.lago_id).toBe(created.body.subscription.lago_id);
  });

  it('makes a subscription starting in the future pending, and cancels it on delete', async () => {
    const future = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await call('POST', '/subscriptions', {
      subscription: {
        external_customer_id: 'later_co',
        plan_code: 'team',
        external_id: 'later_sub',
        subscription_at: future,
      },
    });
    expect(created.body.subscription).toMatchObject({
      status: 'pending',
      current_billing_period_started_at: null,
      current_billing_period_ending_at: null,
    });
    expect((await call('GET', '/subscriptions/later_sub')).status).toBe(404);
    expect((await call('GET', '/subscriptions/later_sub?status=pending')).status).toBe(200);
    const deleted = await call('DELETE', '/subscriptions/later_sub?status=pending');
    expect(deleted.status).toBe(200);
    expect(deleted.body.subscription.status).toBe('canceled');
  });

  it('answers Lago errors for bad subscriptions', async () => {
    expect(
      (
        await call('POST', '/subscriptions', {
          subscription: { external_customer_id: 'x', plan_code: 'nope', external_id: 's' },
        })
      ).body,
    ).toEqual({
      status: 404,
      error: 'Not Found',
      code: 'plan_not_found',
    });
    expect(
      (await call('POST', '/subscriptions', { subscription: { plan_code: 'team' } })).body.error_details,
    ).toEqual({
      external_customer_id: ['value_is_mandatory'],
      external_id: ['value_is_mandatory'],
    });
    expect((await call('POST', '/subscriptions', { nope: {} })).status).toBe(400);
    const odd = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'x', plan_code: 'odd', external_id: 'odd_sub' },
    });
    expect(odd.status).toBe(422);
    expect(odd.body.error_details).toEqual({ plan_code: ['unsupported_aggregation_type'] });
    // Lago accepts a package plan; prorata refuses to bill it (never as zero) until it prices it.
    const refused = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'x', plan_code: 'packaged', external_id: 'packaged_sub' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error_details).toEqual({ plan_code: ['unsupported_charge_model'] });
    // Graduated and volume charges are billed now: the subscription is accepted.
    const tieredSub = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'x', plan_code: 'tiered', external_id: 'tiered_sub' },
    });
    expect([tieredSub.status, tieredSub.body.subscription?.status]).toEqual([200, 'active']);
    // Prorated seats billed in advance, per add, are billed (SPEC section 8): accepted.
    const proratedAdvanceSub = await call('POST', '/subscriptions', {
      subscription: {
        external_customer_id: 'x',
        plan_code: 'advance_prorated',
        external_id: 'advance_prorated_sub',
      },
    });
    expect([proratedAdvanceSub.status, proratedAdvanceSub.body.subscription?.status]).toEqual([
      200,
      'active',
    ]);
    // Lago takes a fractional trial; prorata bills the fee by whole days, so refuses rather than rounds.
    const halfDay = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'x', plan_code: 'half_day_trial', external_id: 'half_day_sub' },
    });
    expect([halfDay.status, halfDay.body.error_details]).toEqual([
      422,
      { plan_code: ['unsupported_trial_period'] },
    ]);
    // Other charges paid in advance (here unprorated) are not priced: refused, never billed in arrears.
    const advanceSub = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'x', plan_code: 'advance', external_id: 'advance_sub' },
    });
    expect([advanceSub.status, advanceSub.body.error_details]).toEqual([
      422,
      { plan_code: ['unsupported_pay_in_advance_charge'] },
    ]);
    expect((await call('GET', '/subscriptions/odd_sub?status=active')).status).toBe(404);
    expect((await call('DELETE', '/subscriptions/missing')).body.code).toBe('subscription_not_found');
  });

  it('answers current usage, or 404 customer_not_found / 405 no_active_subscription', async () => {
    await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'usage_co', plan_code: 'team', external_id: 'usage_sub' },
    });
    const usage = await call('GET', '/customers/usage_co/current_usage?external_subscription_id=usage_sub');
    expect(usage.status).toBe(200);
    expect(usage.body.customer_usage).toMatchObject({
      currency: 'USD',
      amount_cents: 0,
      charges_usage: [{ units: '0.0' }],
    });
    expect(
      (await call('GET', '/customers/nobody/current_usage?external_subscription_id=usage_sub')).body.code,
    ).toBe('customer_not_found');
    expect(
      (await call('GET', '/customers/usage_co/current_usage?external_subscription_id=other')).body,
    ).toEqual({
      status: 405,
      error: 'Method Not Allowed',
      code: 'no_active_subscription',
    });
    expect((await call('GET', '/customers/usage_co/current_usage')).status).toBe(422);
  });

  it('answers current usage while the subscription is active: 405 for another customer or once terminated, 404 once the customer is deleted', async () => {
    const usageOf = (customer: string, sub: string) =>
      call('GET', `/customers/${customer}/current_usage?external_subscription_id=${sub}`);
    for (const [customer, sub] of [
      ['kept_co', 'kept_sub'],
      ['gone_co', 'gone_sub'],
    ])
      await call('POST', '/subscriptions', {
        subscription: { external_customer_id: customer, plan_code: 'team', external_id: sub },
      });
    expect((await usageOf('kept_co', 'kept_sub')).status).toBe(200);
    expect((await usageOf('gone_co', 'gone_sub')).status).toBe(200);
    expect((await usageOf('gone_co', 'kept_sub')).body.code).toBe('no_active_subscription');
    expect((await call('DELETE', '/subscriptions/kept_sub')).body.subscription.status).toBe('terminated');
    expect((await usageOf('kept_co', 'kept_sub')).body.code).toBe('no_active_subscription');
    expect((await usageOf('kept_co', 'kept_sub')).body.code).toBe('no_active_subscription');
    expect((await call('DELETE', '/customers/gone_co')).status).toBe(200);
    expect((await usageOf('gone_co', 'gone_sub')).body.code).toBe('customer_not_found');
  }, 60_000);

  it('terminates with a final invoice: listed, found with fees, downloadable as HTML; drafts only can be finalized', async () => {
    await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'end_co', plan_code: 'team', external_id: 'end_sub' },
    });
    await call('POST', '/events', {
      event: {
        transaction_id: 'e1',
        external_subscription_id: 'end_sub',
        code: 'seats',
        properties: { user_id: 'u1' },
      },
    });
    const ended = await call('DELETE', '/subscriptions/end_sub');
    expect(ended.body.subscription).toMatchObject({ status: 'terminated' });
    const list = await call('GET', '/invoices?external_customer_id=end_co&status=finalized');
    expect(list.body.invoices).toHaveLength(1);
    const inv = list.body.invoices[0];
    expect(inv).toMatchObject({ invoice_type: 'subscription', status: 'finalized', currency: 'USD' });
    const one = await call('GET', `/invoices/${inv.lago_id}`);
    expect(one.body.invoice.fees.length).toBeGreaterThan(0);
    const download = await call('POST', `/invoices/${inv.lago_id}/download`);
    const html = await fetch(download.body.invoice.file_url);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain(inv.number);
    expect((await call('PUT', `/invoices/${inv.lago_id}/finalize`)).body.code).toBe('invoice_not_found');
    expect((await call('GET', '/invoices/00000000-0000-0000-0000-000000000000')).body.code).toBe(
      'invoice_not_found',
    );
    // Current usage comes from the subscription's workflow: a closed one has none, and a running one
    // answers only for the customer it bills.
    const usageOf = async (customer: string, sub: string) =>
      (await call('GET', `/customers/${customer}/current_usage?external_subscription_id=${sub}`)).body;
    expect(await usageOf('end_co', 'end_sub')).toMatchObject({ status: 405, code: 'no_active_subscription' });
    await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'end_co', plan_code: 'team', external_id: 'end_sub_2' },
    });
    expect((await usageOf('end_co', 'end_sub_2')).customer_usage).toMatchObject({ currency: 'USD' });
    expect(await usageOf('usage_co', 'end_sub_2')).toMatchObject({
      status: 405,
      code: 'no_active_subscription',
    });
    expect(await usageOf('nobody', 'end_sub_2')).toMatchObject({ status: 404, code: 'customer_not_found' });
    const paid = await call('PUT', `/invoices/${inv.lago_id}`, { invoice: { payment_status: 'succeeded' } });
    expect(paid.body.invoice.payment_status).toBe('succeeded');
  }, 60_000);

  it('delivers a retried event that was stored but never delivered, and still answers value_already_exist', async () => {
    await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'retry_co', plan_code: 'team', external_id: 'retry_sub' },
    });
    // As an API that died between storing and signalling leaves them: one stored under its derived
    // _id, one under a random _id (stored before ids were derived from the idempotency key).
    const now = new Date();
    const stored = (transaction_id: string, _id: string, user: string): EventDoc => ({
      _id,
      organization_id: stack.organizationId,
      external_subscription_id: 'retry_sub',
      transaction_id,
      code: 'seats',
      timestamp: now,
      properties_json: JSON.stringify({ user_id: user, operation_type: 'add' }),
      precise_total_amount_cents: null,
      created_at: now,
      delivered_at: null,
      awaiting_subscription: false,
      source: 'api',
      problems: [],
      problems_reported: true,
    });
    const key = { external_subscription_id: 'retry_sub', transaction_id: 'r1' };
    await events(stack.db).insertMany([
      stored('r1', eventId(stack.organizationId, key), 'u1'),
      stored('r2', randomUUID(), 'u2'),
    ]);
    for (const [transaction_id, user] of [
      ['r1', 'u1'],
      ['r2', 'u2'],
    ]) {
      const retry = await call('POST', '/events', {
        event: {
          transaction_id,
          external_subscription_id: 'retry_sub',
          code: 'seats',
          timestamp: Math.floor(now.getTime() / 1000),
          properties: { user_id: user, operation_type: 'add' },
        },
      });
      expect(retry.body.error_details).toEqual({ transaction_id: ['value_already_exist'] });
    }
    // The retries marked them pending: current usage counts them at once (read your writes)...
    const usage = await call('GET', '/customers/retry_co/current_usage?external_subscription_id=retry_sub');
    expect(usage.body.customer_usage.charges_usage[0]).toMatchObject({ units: '2.0' });
    // ...and the deliverer delivers them in the background.
    await stack.eventDelivery.idle();
    expect(
      await events(stack.db).countDocuments({ external_subscription_id: 'retry_sub', delivered_at: null }),
    ).toBe(0);
    const delivered = await call(
      'GET',
      '/customers/retry_co/current_usage?external_subscription_id=retry_sub',
    );
    expect(delivered.body.customer_usage).toEqual(usage.body.customer_usage);
  });

  it('records a delivery by deleting its marker: the stored event is not rewritten, and a retry of it is refused without a second delivery', async () => {
    await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'mark_co', plan_code: 'team', external_id: 'mark_sub' },
    });
    const event = {
      transaction_id: 'm1',
      external_subscription_id: 'mark_sub',
      code: 'seats',
      timestamp: Math.floor(Date.now() / 1000),
      properties: { user_id: 'u1', operation_type: 'add' },
    };
    expect((await call('POST', '/events', { event })).status).toBe(200);
    const id = eventId(stack.organizationId, event);
    const stored = await events(stack.db).findOne({ _id: id });
    expect(stored).toMatchObject({ marked: true, delivered_at: null });
    await stack.eventDelivery.idle();
    expect(await pendingDeliveries(stack.db).countDocuments({ event_id: id })).toBe(0);
    expect(await events(stack.db).findOne({ _id: id })).toEqual(stored);
    const signals = stack.eventDelivery.signalsSent;
    const retry = await call('POST', '/events', { event });
    expect(retry.body.error_details).toEqual({ transaction_id: ['value_already_exist'] });
    await stack.eventDelivery.idle();
    // The retry's own marker was dropped, and nothing was marked or signalled again.
    expect(await pendingDeliveries(stack.db).countDocuments({ event_id: id })).toBe(0);
    expect(stack.eventDelivery.signalsSent).toBe(signals);
    const usage = await call('GET', '/customers/mark_co/current_usage?external_subscription_id=mark_sub');
    expect(usage.body.customer_usage.charges_usage[0]).toMatchObject({ units: '1.0' });
  });

  /** Two seat events (`{prefix}-1` for u1, `{prefix}-2` for u2) for one subscription, each answered 200. */
  async function sendTwoSeats(prefix: string, externalSubscriptionId: string, at: number) {
    for (const [n, user] of [
      [1, 'u1'],
      [2, 'u2'],
    ] as const) {
      const sent = await call('POST', '/events', {
        event: {
          transaction_id: `${prefix}-${n}`,
          external_subscription_id: externalSubscriptionId,
          code: 'seats',
          timestamp: at,
          properties: { user_id: user },
        },
      });
      expect(sent.status).toBe(200);
    }
  }

  it('bills events sent before their subscription existed once it starts (its first load reads their markers)', async () => {
    const at = Math.floor(Date.now() / 1000);
    await sendTwoSeats('early', 'early_sub', at);
    // Let delivery settle them first (no subscription yet: left awaiting it). Delivery yields while
    // requests are being stored, so without this wait the subscription could exist before they are
    // delivered, and they would be signalled instead of loaded by its first start.
    await stack.eventDelivery.idle();
    const created = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'early_co', plan_code: 'team', external_id: 'early_sub' },
    });
    expect(created.status).toBe(200);
    let units: string | undefined;
    for (let i = 0; i < 100 && units !== '2.0'; i++) {
      const usage = await call('GET', '/customers/early_co/current_usage?external_subscription_id=early_sub');
      units = usage.body.customer_usage?.charges_usage[0]?.units;
      if (units !== '2.0') await new Promise((r) => setTimeout(r, 200));
    }
    expect(units).toBe('2.0');
    let undelivered = -1;
    for (let i = 0; i < 100 && undelivered !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      // Loaded by the workflow's first start, they stay awaiting-marked (settled): none to deliver.
      undelivered = await events(stack.db).countDocuments({
        external_subscription_id: 'early_sub',
        delivered_at: null,
        awaiting_subscription: false,
      });
    }
    expect(undelivered).toBe(0);
  });

  it("counts events still in flight to a new subscription in its workflow's first load (no signal needed)", async () => {
    const at = Math.floor(Date.now() / 1000);
    // Their delivery is held: acknowledged (stored, with their markers) but not settled when the
    // subscription is created, as when delivery yields to a burst of requests.
    const target = { organizationId: stack.organizationId, externalSubscriptionId: 'inflight_sub' };
    const held = stack.eventDelivery.hold([target]);
    const signals = stack.eventDelivery.signalsSent;
    try {
      await sendTwoSeats('inflight', 'inflight_sub', at);
      const created = await call('POST', '/subscriptions', {
        subscription: { external_customer_id: 'inflight_co', plan_code: 'team', external_id: 'inflight_sub' },
      });
      expect(created.status).toBe(200);
      // The workflow's own state (a query without the pending events the API adds) has both seats.
      const handle = stack.env.client.workflow.getHandle(
        subscriptionWorkflowId(stack.organizationId, 'inflight_sub'),
      );
      let units: string | undefined;
      for (let i = 0; i < 100 && units !== '2.0'; i++) {
        const usage = await handle.query(currentUsageQuery, []).catch(() => null);
        units = usage?.charges_usage[0]?.units;
        if (units !== '2.0') await new Promise((r) => setTimeout(r, 200));
      }
      expect(units).toBe('2.0');
      expect(stack.eventDelivery.signalsSent).toBe(signals); // none sent while held
    } finally {
      stack.eventDelivery.release(held, [target]);
    }
    // Released, the deliverer signals them (the workflow drops them as seen) and settles them.
    await stack.eventDelivery.idle();
    const usage = await call(
      'GET',
      '/customers/inflight_co/current_usage?external_subscription_id=inflight_sub',
    );
    expect(usage.body.customer_usage.charges_usage[0]).toMatchObject({ units: '2.0' });
    expect(
      await pendingDeliveries(stack.db).countDocuments({ external_subscription_id: 'inflight_sub' }),
    ).toBe(0);
  });

  it('reads its writes under load: current usage right after each 200 counts that event, while deliveries are in flight', async () => {
    const created = await call('POST', '/subscriptions', {
      subscription: { external_customer_id: 'ryw_co', plan_code: 'team', external_id: 'ryw_sub' },
    });
    expect(created.status).toBe(200);
    const at = Math.floor(Date.now() / 1000) - 60;
    const signalsBefore = stack.eventDelivery.signalsSent;
    // 8 concurrent clients, 25 events each, 200 distinct seats: every client reads current usage
    // right after each of its 200s and must see at least the seats it was answered for so far.
    const accepted = new Set<string>();
    let readsWhilePending = 0;
    const client = async (c: number) => {
      const mine = new Set<string>();
      for (let n = 0; n < 25; n++) {
        const user = `c${c}u${n}`;
        const sent = await call('POST', '/events', {
          event: {
            transaction_id: `ryw-${c}-${n}`,
            external_subscription_id: 'ryw_sub',
            code: 'seats',
            timestamp: at,
            properties: { user_id: user, operation_type: 'add' },
          },
        });
        expect(sent.status).toBe(200);
        mine.add(user);
        accepted.add(user);
        const pending = await pendingDeliveries(stack.db).countDocuments({});
        if (pending > 0) readsWhilePending++;
        const usage = await call('GET', '/customers/ryw_co/current_usage?external_subscription_id=ryw_sub');
        expect([usage.status, usage.status === 200 ? null : usage.body]).toEqual([200, null]);
        const units = Number(usage.body.customer_usage.charges_usage[0]?.units ?? 0);
        // Counts at least this client's accepted seats, at most every seat accepted by then.
        expect(units).toBeGreaterThanOrEqual(mine.size);
        expect(units).toBeLessThanOrEqual(accepted.size + 8);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    await stack.eventDelivery.idle();
    const usage = await call('GET', '/customers/ryw_co/current_usage?external_subscription_id=ryw_sub');
    expect(usage.body.customer_usage.charges_usage[0]).toMatchObject({ units: '200.0' });
    // Deliveries were batched (fewer signals than events) and really in flight during the reads.
    expect(stack.eventDelivery.signalsSent - signalsBefore).toBeLessThan(200);
    expect(readsWhilePending).toBeGreaterThan(0);
    console.log(
      `[read-your-writes] 200 events, ${stack.eventDelivery.signalsSent - signalsBefore} signals, ` +
        `${readsWhilePending} of 200 usage reads made while deliveries were pending`,
    );
  }, 120_000);

  it('answers 503 with a clear body when no worker answers the usage query', async () => {
    await stack.stopWorker();
    try {
      const res = await call('GET', '/customers/usage_co/current_usage?external_subscription_id=usage_sub');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 503,
        error: 'Service Unavailable',
        code: 'billing_engine_unavailable',
      });
    } finally {
      await stack.startWorker();
    }
  }, 60_000);
});
