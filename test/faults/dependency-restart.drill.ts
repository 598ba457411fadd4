/**
 * Fault drill 3: stop and restart the Temporal dev server, then MongoDB (FerretDB), in the middle of
 * a run.
 *
 * Breaks: while a client sends 1,000 seat events to 20 subscriptions (half of them backdated, so
 * their workflows also store catch-up invoices), the Temporal dev server (SQLite file) is stopped
 * for 15 s and started again on the same port and file; later FerretDB (SQLite folder) is stopped
 * for 15 s and started again. The worker and the API processes are left alone: nobody restarts them.
 *
 * Must hold: while MongoDB is down, ingestion answers 503 `database_unavailable` (a Lago error body,
 * never a 500); while Temporal is down, events are stored and acknowledged (their delivery waits for
 * the API's reconciler) or refused with a 503; /health names what is down. Afterwards the worker
 * and the API are still running, every acknowledged event is stored once and delivered (counted),
 * each subscription's current usage equals `prorata simulate` of exactly the acknowledged events,
 * and its invoices are exactly the simulated ones.
 */
import { events } from '../../src/store/events';
import { countUndeliveredEvents } from '../support/undelivered';
import { invoices, type InvoiceDoc } from '../../src/store/invoices';
import { lagoCustomerUsage, type LagoCustomerUsage } from '../../src/billing/lago-shapes';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import {
  DAY,
  apiClient,
  createSeatCatalog,
  createSubscriptions,
  eventually,
  expectedInvoices,
  random,
  seatEvent,
  simulateSubscription,
  storedAmounts,
  type SeatEventInput,
} from './seat-billing';
import { sendWithRetries } from './retrying-sender';

const SUBSCRIPTIONS = 20;
const EVENTS = 1_000;
const OUTAGE_MS = 15_000;
/** Events from this index on are sent only once MongoDB is down (it goes down after 500 accepted). */
const HELD_FOR_MONGODB_OUTAGE = 800;

interface Outage {
  dependency: 'temporal' | 'mongodb';
  /** From the moment the service was stopped until its restart began. */
  from: number;
  to: number;
  health: { status: number; body: unknown } | null;
  /** How long after the restart the API's /health answered 200 again (null: not within 2 minutes). */
  recoveredAfterMs: number | null;
}

describe('fault drill: the Temporal dev server and MongoDB stopped and restarted mid-run', () => {
  let stack: ProcessStack;
  beforeAll(async () => {
    stack = await startProcessStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('recovers without manual steps: 503 while MongoDB is down, nothing acknowledged lost, usage and invoices equal the simulation', async () => {
    const call = apiClient(stack.baseUrl, stack.apiKey);
    const health = async () => {
      const res = await fetch(stack.baseUrl.replace('/api/v1', '/health'), {
        signal: AbortSignal.timeout(30_000),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const catalog = await createSeatCatalog(call);
    const now = Date.now();
    const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
    const subs = Array.from({ length: SUBSCRIPTIONS }, (_, i) => ({
      externalId: `drill3_${String(i).padStart(2, '0')}`,
      // Half started this month; half 12 to 31 days before it began, with seats (at +1, +2 and +9
      // days) that all fall before this month whatever today's date (invoiced). Counting back from
      // today instead put the +9-day seat into this month at the end of a month.
      subscriptionAt: i % 2 === 0 ? monthStart : Math.floor((monthStart - (12 + i) * DAY) / 1000) * 1000,
      earlier: [] as SeatEventInput[],
    }));
    for (const s of subs.filter((s) => s.subscriptionAt < monthStart)) {
      s.earlier.push(
        seatEvent(`${s.externalId}-e1`, s.externalId, 'early1', 'add', s.subscriptionAt + DAY),
        seatEvent(`${s.externalId}-e2`, s.externalId, 'early2', 'add', s.subscriptionAt + 2 * DAY),
        seatEvent(`${s.externalId}-e3`, s.externalId, 'early1', 'remove', s.subscriptionAt + 9 * DAY),
      );
      const res = await call('POST', '/events/batch', { events: s.earlier });
      expect(res.status).toBe(200);
    }
    await createSubscriptions(call, subs, 4);

    // This month's seats, up to a minute ago (distinct timestamps), sent while the dependencies go
    // down and up.
    const rand = random(3);
    const span = Math.max(1_000, now - 60_000 - monthStart);
    const live = Array.from({ length: EVENTS }, (_, n) => {
      const sub = subs[n % SUBSCRIPTIONS]!.externalId;
      return seatEvent(
        `live${n}`,
        sub,
        `u${Math.floor(rand() * 8)}`,
        rand() < 0.6 ? 'add' : 'remove',
        monthStart + Math.floor((span * (n + rand())) / EVENTS),
      );
    });

    const outages: Outage[] = [];
    const answers: { outcome: string; body: unknown; sentAt: number; at: number }[] = [];
    async function outage(dependency: Outage['dependency']) {
      const record: Outage = { dependency, from: 0, to: 0, health: null, recoveredAfterMs: null };
      outages.push(record);
      if (dependency === 'temporal') await stack.stopTemporal();
      else await stack.mongo.stopServer();
      record.from = Date.now();
      if (dependency === 'mongodb') mongoStopped();
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
      record.health = await health();
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
      record.to = Date.now();
      if (dependency === 'temporal') await stack.startTemporal();
      else await stack.mongo.restart();
      const restarted = Date.now();
      for (let i = 0; i < 240 && record.recoveredAfterMs === null; i++) {
        if ((await health().catch(() => null))?.status === 200)
          record.recoveredAfterMs = Date.now() - restarted;
        else await new Promise((r) => setTimeout(r, 500));
      }
      // The API never saw the dependency again: stop the client instead of retrying for minutes.
      if (record.recoveredAfterMs === null) stopSending.abort();
    }
    const stopSending = new AbortController();
    // Ingestion answers once an event is stored (issue #14), fast enough to send every event while
    // Temporal is down: the last events wait for MongoDB's outage, so some are sent during it.
    let mongoStopped: () => void = () => undefined;
    const mongoDownStarted = new Promise<void>((resolve) => (mongoStopped = resolve));
    stopSending.signal.addEventListener('abort', () => mongoStopped());
    const outagesDone: Promise<void>[] = [];
    const report = await sendWithRetries(stack.baseUrl, stack.apiKey, live, {
      concurrency: 4,
      timeoutMs: 20_000,
      signal: stopSending.signal,
      onAccepted: (count) => {
        // One at a time: MongoDB goes down once Temporal is back.
        if (count === 200) outagesDone.push(outage('temporal'));
        if (count === 500) outagesDone.push(Promise.all(outagesDone).then(() => outage('mongodb')));
      },
      onOutcome: (outcome, body, sentAt) => answers.push({ outcome, body, sentAt, at: Date.now() }),
      beforeSend: (index) => (index >= HELD_FOR_MONGODB_OUTAGE ? mongoDownStarted : Promise.resolve()),
    });
    await Promise.all(outagesDone);

    // Answers to attempts sent while a dependency was down (some answered after it came back), and
    // the strict subset answered before it came back.
    const sentDuring = (o: Outage) => answers.filter((a) => a.sentAt >= o.from && a.sentAt <= o.to);
    const answeredDuring = (o: Outage) => sentDuring(o).filter((a) => a.at <= o.to);
    const inFlightDuring = (o: Outage) => answers.filter((a) => a.sentAt <= o.to && a.at >= o.from);
    const tally = (list: typeof answers) =>
      list.reduce<Record<string, number>>((t, a) => ({ ...t, [a.outcome]: (t[a.outcome] ?? 0) + 1 }), {});
    const slowest = (list: typeof answers) => Math.max(0, ...list.map((a) => a.at - a.sentAt));
    const [temporalDown, mongoDown] = outages as [Outage, Outage];
    console.log(
      `[drill 3] ${EVENTS} events, ${report.attempts} attempts, outcomes ${JSON.stringify(report.outcomes)}; ` +
        `in flight while Temporal was down: ${JSON.stringify(tally(inFlightDuring(temporalDown)))} ` +
        `(slowest answer ${slowest(inFlightDuring(temporalDown))} ms), ` +
        `while MongoDB was down: ${JSON.stringify(tally(sentDuring(mongoDown)))} ` +
        `(answered before it was back: ${JSON.stringify(tally(answeredDuring(mongoDown)))}); ` +
        `health: ${JSON.stringify(temporalDown.health)} ${JSON.stringify(mongoDown.health)}; ` +
        `API healthy again ${temporalDown.recoveredAfterMs} ms after Temporal's restart, ` +
        `${mongoDown.recoveredAfterMs} ms after MongoDB's`,
    );

    expect(outages.map((o) => o.dependency)).toEqual(['temporal', 'mongodb']);
    // Recovered without manual steps: the API's /health is 200 again after each restart.
    expect(outages.map((o) => ({ [o.dependency]: o.recoveredAfterMs !== null }))).toEqual([
      { temporal: true },
      { mongodb: true },
    ]);
    expect(report.refused).toEqual([]);
    expect(report.accepted).toHaveLength(EVENTS);
    expect(report.serverErrors).toEqual(
      report.outcomes['503'] ? { '503': expect.objectContaining({ status: 503 }) } : {},
    );
    // MongoDB down: answered 503 with Lago's error body (and some were), or 200 once it was back.
    expect(answeredDuring(mongoDown).length).toBeGreaterThan(0);
    for (const a of answeredDuring(mongoDown))
      expect({ outcome: a.outcome, body: a.body }).toEqual({
        outcome: '503',
        body: {
          status: 503,
          error: 'Service Unavailable',
          code: 'database_unavailable',
          message: expect.any(String),
        },
      });
    for (const a of sentDuring(mongoDown)) expect(['200', '503', '422', 'timeout']).toContain(a.outcome);
    // Temporal down: events are still taken (stored, delivered later) or refused with a 503.
    for (const a of inFlightDuring(temporalDown))
      expect(['200', '503', '422', 'timeout']).toContain(a.outcome);
    expect(temporalDown.health).toEqual({
      status: 503,
      body: expect.objectContaining({ status: 'unavailable', down: ['temporal'] }),
    });
    expect(mongoDown.health).toEqual({
      status: 503,
      body: expect.objectContaining({ status: 'unavailable', down: ['mongodb'] }),
    });

    // Recovered without manual steps.
    expect(stack.alive('worker')).toBe(true);
    expect(stack.alive('api')).toBe(true);
    expect(
      await eventually('health 200', 120_000, async () =>
        (await health()).status === 200 ? true : undefined,
      ),
    ).toBe(true);

    // Nothing acknowledged lost: stored once each, delivered, billed as simulated.
    const filter = { organization_id: stack.organizationId, source: 'api' as const };
    const earlierCount = subs.reduce((n, s) => n + s.earlier.length, 0);
    expect(await events(stack.db).countDocuments(filter)).toBe(EVENTS + earlierCount);
    await eventually('every stored event delivered', 180_000, async () =>
      // Settled: delivered, or loaded by its workflow's first start (then it stays awaiting-marked).
      (await countUndeliveredEvents(stack.db, stack.organizationId)) === 0 ? true : undefined,
    );
    let billed = 0;
    for (const s of subs) {
      const mine = report.accepted.filter((e) => e.external_subscription_id === s.externalId);
      let last = '';
      const usage = await eventually(`usage of ${s.externalId} with all its events`, 180_000, async () => {
        const res = await call<{ customer_usage: LagoCustomerUsage }>(
          'GET',
          `/customers/${s.externalId}_customer/current_usage?external_subscription_id=${s.externalId}`,
        );
        const u = res.status === 200 ? res.body.customer_usage : undefined;
        last = `${res.status}: ${u ? `${u.charges_usage[0]?.events_count} events` : JSON.stringify(res.body)}`;
        return u && u.charges_usage[0]?.events_count === mine.length ? u : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}; expected ${mine.length} events, last answer ${last}`);
      });
      const simulation = simulateSubscription(
        catalog,
        s.externalId,
        s.subscriptionAt,
        [...s.earlier, ...mine],
        Date.now(),
      );
      expect({ sub: s.externalId, usage }).toEqual({
        sub: s.externalId,
        usage: lagoCustomerUsage(simulation.currentUsage!, catalog.metrics),
      });
      const stored = await invoices(stack.db)
        .find({ external_subscription_id: s.externalId })
        .sort({ from_datetime: 1 })
        .toArray();
      expect({ sub: s.externalId, invoices: stored.map((d: InvoiceDoc) => storedAmounts(d)) }).toEqual({
        sub: s.externalId,
        invoices: expectedInvoices(catalog, simulation),
      });
      billed += usage.charges_usage[0]!.events_count;
    }
    expect(billed).toBe(EVENTS);
  }, 1_200_000);
});
