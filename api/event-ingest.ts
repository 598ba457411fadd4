import type { Db } from 'mongodb';
import { events, listStoredEventsUncounted, type EventDoc } from '../src/store/events';
import { countBulkListEntries } from '../src/store/list-entries';
import { KnownTops } from '../src/store/sequences';
import { writeErrorIndexes } from '../src/store/database';
import {
  insertPendingDeliveries,
  prefixOfMarker,
  type PendingDeliveryDoc,
} from '../src/store/pending-deliveries';
import type { EventDelivery } from './event-delivery';

/**
 * Group writes in flight at once: while one runs, newer requests gather into the next group. One:
 * with 16 concurrent clients the groups grow from about 2.7 events (four in flight) to about 14,
 * and each command FerretDB commits is shared by that many more events (docs/operations.md, #14's
 * fifth pass: 1.0 ms of FerretDB CPU per event instead of 1.7, and 1.5 ms of the API's instead of
 * 2.1, measured over 10 subscriptions with delivery held back).
 */
const MAX_IN_FLIGHT = 1;
/** Most events in one group write (one insert command of markers, one of events). */
const MAX_GROUP_EVENTS = 1_000;
/**
 * A flush of the `GET /events` counts starts at most this often while events keep coming (about
 * seven commands each, whatever the number of events it counts, and one sequence slot per list it
 * counts: over 1,000 subscriptions, flushes every 250 ms wrote nearly a slot per event), unless a
 * list read waits for it.
 */
const COUNT_INTERVAL_MS = 1_000;

/** The database refused the write (not a duplicate): nothing was acknowledged. */
export class StoreUnavailableError extends Error {}

interface Entry {
  docs: EventDoc[];
  markers: PendingDeliveryDoc[];
  /** A batch is all or nothing: when one of its events is a duplicate, no subscription is woken. */
  wholeOrNothing: boolean;
  ok: (duplicates: number[]) => void;
  fail: (err: unknown) => void;
}

/**
 * Group commit of accepted events (docs/scaling.md, "Ingest"): concurrent requests are gathered
 * while earlier group writes run, then written as one unordered insert of their pending-delivery
 * markers followed by one unordered insert of the events. A request is answered once both are
 * stored: its event is durable and its marker guarantees delivery (api/event-delivery.ts), which
 * this writer then wakes, off the request path. An event refused as a duplicate (its `_id` derives
 * from its idempotency key) fails only its own request, and its marker is deleted again.
 */
export class EventWriter {
  private queue: Entry[] = [];
  private inFlight = 0;
  /** What stored events add to the `GET /events` counts, not yet taken (coalesced per list). */
  private uncounted = new Map<string, number>();
  /** Resolves once the flush that takes `uncounted` is done (null: nothing uncounted). */
  private uncountedFlushed: { promise: Promise<void>; resolve: () => void } | null = null;
  /** The flush running, if any. */
  private flushing: Promise<void> | null = null;
  private lastFlushAt = -Infinity;
  private flushTimer: NodeJS.Timeout | null = null;
  /** A list read waits for `uncounted`: the next flush starts as soon as it can. */
  private urgent = false;
  /** The counts' tops this writer claimed last: its next flush claims after them without a read. */
  private readonly knownTops = new KnownTops();

  constructor(
    private readonly db: Db,
    private readonly delivery: EventDelivery,
  ) {}

  /**
   * Stores events and their markers. Resolves with the indexes of `docs` refused as already stored;
   * rejects with `StoreUnavailableError` when the database refused
   * anything else (the markers may stay: the deliverer drops a marker whose event never appears).
   */
  store(docs: EventDoc[], markers: PendingDeliveryDoc[], wholeOrNothing = false): Promise<number[]> {
    this.delivery.noteIngest();
    return new Promise<number[]>((ok, fail) => {
      this.queue.push({ docs, markers, wholeOrNothing, ok, fail });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      let size = 0;
      let n = 0;
      while (n < this.queue.length && (n === 0 || size + this.queue[n]!.docs.length <= MAX_GROUP_EVENTS))
        size += this.queue[n++]!.docs.length;
      const group = this.queue.splice(0, n);
      this.inFlight++;
      void this.write(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async write(group: Entry[]): Promise<void> {
    const docs = group.flatMap((e) => e.docs);
    let refused: number[];
    try {
      await insertPendingDeliveries(
        this.db,
        group.flatMap((e) => e.markers),
      );
      refused = await this.insertEvents(docs);
    } catch (err) {
      for (const e of group) e.fail(err);
      return;
    }
    const results: number[][] = [];
    let offset = 0;
    for (const e of group) {
      const start = offset;
      offset += e.docs.length;
      results.push(refused.filter((i) => i >= start && i < offset).map((i) => i - start));
    }
    // Listed for GET /events in the same group write (one insert of list entries): the events this
    // group stored, but not a batch its route rolls back. A failure here fails the requests; their
    // retries (422 value_already_exist) list the events. The counts follow off the request path.
    try {
      const added = await listStoredEventsUncounted(
        this.db,
        group.flatMap((e, k) =>
          e.wholeOrNothing && results[k]!.length > 0 ? [] : e.docs.filter((_, i) => !results[k]!.includes(i)),
        ),
      );
      this.count(added);
    } catch (err) {
      for (const e of group) e.fail(new StoreUnavailableError((err as Error).message));
      return;
    }
    // A duplicate's marker (its id has this request's time, not the stored event's) is left for
    // the deliverer, which drops it: deleting it here could delete the stored event's own marker
    // when both requests came within one millisecond.
    // The markers of events this group stored (not a duplicate's: same event id) are the deliverer's
    // to send without reading them or their events back.
    const woken = new Map<string, { organizationId: string; externalSubscriptionId: string }>();
    const stored: PendingDeliveryDoc[] = [];
    group.forEach((e, k) => {
      if (e.wholeOrNothing && results[k]!.length > 0) return; // rolled back by its route
      const refusedIds = new Set(results[k]!.map((i) => e.docs[i]!._id));
      for (const m of e.markers) {
        woken.set(prefixOfMarker(m._id), {
          organizationId: m.organization_id!,
          externalSubscriptionId: m.external_subscription_id!,
        });
        if (!refusedIds.has(m.event_id)) stored.push(m);
      }
    });
    this.delivery.wake([...woken.values()], stored);
    group.forEach((e, k) => e.ok(results[k]!));
  }

  /**
   * Adds to the `GET /events` counts in the background: what every group listed is summed per list
   * while a flush runs or waits, then taken as one sequence block per list (org and subscription
   * scopes), so a busy ingest takes a block per list per flush, not per request, and never waits for
   * one. Each block is claimed right after the last one this writer claimed for that list
   * (`KnownTops`): a flush reads no top it already knows. Flushes start at most every
   * `COUNT_INTERVAL_MS` while events keep coming, except when a list read waits for them
   * (`counted`). A crash before a flush leaves those counts short, as a
   * crash between an entry and its count always could (docs/scaling.md, Lists); a failed flush
   * likewise.
   */
  private count(added: ReadonlyMap<string, number>): void {
    for (const [name, n] of added) this.uncounted.set(name, (this.uncounted.get(name) ?? 0) + n);
    if (this.uncounted.size === 0) return;
    if (!this.uncountedFlushed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.uncountedFlushed = { promise, resolve };
    }
    this.scheduleFlush();
  }

  /** Starts the next flush now, or when `COUNT_INTERVAL_MS` has passed since the last one started. */
  private scheduleFlush(): void {
    if (this.flushing || this.uncounted.size === 0) return; // the running flush schedules the next
    const wait = this.urgent ? 0 : COUNT_INTERVAL_MS - (performance.now() - this.lastFlushAt);
    if (wait > 0) {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = null;
        this.scheduleFlush();
      }, wait);
      this.flushTimer.unref();
      return;
    }
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.uncounted;
    const flushed = this.uncountedFlushed!;
    this.uncounted = new Map();
    this.uncountedFlushed = null;
    this.urgent = false;
    this.lastFlushAt = performance.now();
    this.flushing = countBulkListEntries(this.db, batch, this.knownTops)
      .catch(() => undefined)
      .finally(() => {
        this.flushing = null;
        flushed.resolve();
        this.scheduleFlush();
      });
  }

  /** Resolves once the counts of every event this writer listed so far are taken (GET /events). */
  async counted(): Promise<void> {
    const running = this.flushing;
    const waiting = this.uncountedFlushed;
    if (waiting) {
      this.urgent = true;
      this.scheduleFlush();
    }
    await running;
    await waiting?.promise;
  }

  /** One unordered insert; returns the indexes refused as duplicates. */
  private async insertEvents(docs: EventDoc[]): Promise<number[]> {
    try {
      await events(this.db).insertMany(docs, { ordered: false });
      return [];
    } catch (err) {
      const refused = writeErrorIndexes(err);
      if (!refused) throw new StoreUnavailableError((err as Error).message);
      return refused;
    }
  }
}
