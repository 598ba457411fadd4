import type { Db } from 'mongodb';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  events,
  findEventsByIds,
  markAwaitingSubscription,
  markDelivered,
  toSeatEventMessage,
  type EventDoc,
} from '../src/store/events';
import { findSubscription, type SubscriptionDoc } from '../src/store/subscriptions';
import { GroupCommit } from '../src/store/group-commit';
import { recordAwaitingEvents } from '../src/store/awaiting-events';
import {
  clearPendingDeliveries,
  insertPendingDeliveries,
  pendingCreatedAt,
  pendingMarker,
  pendingPrefix,
  prefixOfMarker,
  readPendingDeliveries,
  type PendingDeliveryDoc,
} from '../src/store/pending-deliveries';
import { findBillableMetric } from '../src/store/billable-metrics';
import { seatEventsSignal } from '../src/temporal/messages';
import { subscriptionWorkflowId } from '../src/temporal/ids';
import type { SeatEventMessage } from '../src/contracts/subscription-workflow';
import type { webhookDeliveryWorkflow } from '../workflows/webhook-delivery';

/** `field_name` of each live billable metric, by code (absent: unknown code). */
export type MetricFieldNames = Map<string, string | null>;

export async function metricFieldNames(
  db: Db,
  organizationId: string,
  codes: string[],
): Promise<MetricFieldNames> {
  // By key, per code (docs/scaling.md): no query over the metrics of every organization.
  const metrics = await Promise.all(
    [...new Set(codes)].map((code) => findBillableMetric(db, organizationId, code)),
  );
  return new Map(metrics.flatMap((m) => (m ? [[m.code, m.field_name] as const] : [])));
}

/** How long a live metric's field name is reused by ingestion without reading it again. */
const METRIC_CACHE_MS = 1_000;

/**
 * `metricFieldNames` for the ingestion hot path: a code found live is remembered for
 * `METRIC_CACHE_MS` (so a metric deleted a moment ago may still accept events for up to that long);
 * an unknown code is read again every time (so a metric created a moment ago is found at once).
 */
export class MetricFieldNameCache {
  private readonly known = new Map<string, { fieldName: string | null; at: number }>();

  constructor(private readonly db: Db) {}

  async get(organizationId: string, codes: string[]): Promise<MetricFieldNames> {
    const now = Date.now();
    const result: MetricFieldNames = new Map();
    const missing: string[] = [];
    for (const code of new Set(codes)) {
      const hit = this.known.get(JSON.stringify([organizationId, code]));
      if (hit && now - hit.at < METRIC_CACHE_MS) result.set(code, hit.fieldName);
      else missing.push(code);
    }
    if (missing.length === 0) return result;
    const read = await metricFieldNames(this.db, organizationId, missing);
    if (this.known.size > KNOWN_SUBSCRIPTIONS_MAX) this.known.clear();
    for (const [code, fieldName] of read) {
      this.known.set(JSON.stringify([organizationId, code]), { fieldName, at: now });
      result.set(code, fieldName);
    }
    return result;
  }
}

/**
 * How often `reportProblems` also queries the events themselves for flagged events not reported
 * (flagged by another process, or before a restart): a scan on FerretDB.
 */
const PROBLEM_SCAN_INTERVAL_MS = 60 * 60_000;

/** At most this many subscriptions are remembered as existing (then the memory starts over). */
const KNOWN_SUBSCRIPTIONS_MAX = 100_000;
/** At most this many markers are remembered as stored by this process (then it reads events again). */
const STORED_HERE_MAX = 200_000;
/** At most this many events per signal (history event size stays small: about 150 B each). */
const MAX_EVENTS_PER_SIGNAL = 500;
/** Markers read per page: at most this many events of one subscription per round. */
const PAGE = 1_000;
/** Subscriptions delivered at once (signals and their writes in flight). */
const DELIVERY_PARALLELISM = 8;
/**
 * While requests are being acknowledged (one stored within `INGEST_BUSY_MS`), delivery yields the
 * machine to acknowledgement. A delivery is a signal and a workflow task, about 20 ms of Temporal's
 * and the worker's CPU on 2 cores whatever it carries (docs/operations.md, #14's fifth pass),
 * against about 3 ms to acknowledge an event. So meanwhile one lane delivers, the subscriptions
 * woken longest ago first: a subscription woken at least `DELIVERY_DELAY_WHILE_INGESTING_MS` ago,
 * at most one every `DELIVERY_PACE_WHILE_INGESTING_MS` (about 5% of a core: at one every 100 ms,
 * Temporal and the worker took 0.47 ms of CPU per event acknowledged over 1,000 subscriptions, a
 * sixth of the machine; at one every 500 ms, 0.10-0.13 ms: #14's seventh pass), and one woken
 * `DELIVERY_LAG_MAX_MS` ago without waiting for its turn. Events that wait travel together, one
 * signal per subscription; once acknowledgement pauses, every lane catches up. Read your writes does
 * not depend on it: current usage counts the pending markers. A subscription whose period ends
 * within `BOUNDARY_GUARD_MS` is delivered at once, ahead of the others (`closingSoon`).
 */
const DELIVERY_DELAY_WHILE_INGESTING_MS = 2_000;
const DELIVERY_PACE_WHILE_INGESTING_MS = 500;
const DELIVERY_LAG_MAX_MS = 30_000;
const INGEST_BUSY_MS = 100;
/** How long before a subscription's period boundary its delivery stops yielding (`closingSoon`). */
const BOUNDARY_GUARD_MS = 60_000;
const QUARTER_HOUR_MS = 15 * 60_000;
/** A subscription's period end read this long ago is read again once that end has passed. */
const BOUNDARY_READ_TTL_MS = 10_000;

/**
 * Whether `at` (epoch ms) is in the last `BOUNDARY_GUARD_MS` before a UTC quarter-hour. Periods
 * close at local midnights (SPEC section 2), and every time zone's offset today is a whole number
 * of quarter-hours, so every period boundary falls on one: only in the minute before one can a
 * subscription's period be about to close, so only then does delivery look at which (`closingSoon`)
 * and deliver those at once, so that an event acknowledged before a boundary reaches its workflow
 * before the period closes (one delivered after is a late event, SPEC section 3).
 */
export function nearPeriodBoundary(at: number): boolean {
  const sinceQuarter = ((at % QUARTER_HOUR_MS) + QUARTER_HOUR_MS) % QUARTER_HOUR_MS;
  return QUARTER_HOUR_MS - sinceQuarter <= BOUNDARY_GUARD_MS;
}

/**
 * A marker whose event is not stored this long after the marker was written belongs to a request
 * that died between its two writes (never acknowledged): it is dropped.
 */
const ORPHAN_AFTER_MS = 60_000;
/** Retry delays of a subscription whose delivery failed: doubling from the first to the last. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;

/** Settings a test may change (production uses the defaults). */
export interface EventDeliveryOptions {
  /** The clock of the period-boundary guard (epoch ms); `Date.now` by default. */
  now?: () => number;
  /** `DELIVERY_DELAY_WHILE_INGESTING_MS`. */
  delayWhileIngestingMs?: number;
}

/** A subscription's next period boundary (epoch ms, null: no period running), as read at `readAt`. */
interface KnownBoundary {
  at: number | null;
  readAt: number;
}

/** The boundary that closes the period of a subscription document (its projected period end). */
function boundaryOf(sub: SubscriptionDoc): number | null {
  const ending = sub.current_billing_period_ending_at;
  // The projected end is the period's last second (`endAt - 1` ms, in whole seconds).
  return ending ? Math.floor(ending.getTime() / 1000) * 1000 + 1000 : null;
}

/** What settling a delivered event needs of it (known from its marker). */
type DeliveredEvent = Pick<EventDoc, '_id' | 'organization_id' | 'external_subscription_id' | 'created_at'>;

export interface DeliveryTarget {
  organizationId: string;
  externalSubscriptionId: string;
}

/**
 * Delivers accepted events to their subscription workflows, in the background of ingestion
 * (docs/scaling.md, "Ingest"). The API stores a pending-delivery marker, then the event, then
 * answers 200 and wakes this deliverer with the subscription; the deliverer reads that
 * subscription's markers (one `_id` range), checks their events are stored, signals the workflow
 * once per up to `MAX_EVENTS_PER_SIGNAL` events and deletes the markers: an event whose marker is
 * gone is delivered (`EventDoc.marked`), so delivery writes no event document.
 * At-least-once: a crash between the signal and the deletion leads to a second delivery, which the
 * workflow ignores by transaction_id. Markers of other processes (or of a process that died) are
 * found by `reconcile`, which reads every marker as one range.
 */
export class EventDelivery {
  /** Signals sent since start (for the ingest benchmark: signals per event). */
  signalsSent = 0;
  /**
   * Where delivery time went since start (ms summed over concurrent deliveries), for profiling:
   * logged every 10 s by `startReconciler` when PRORATA_DELIVERY_PROFILE=1.
   */
  readonly profile = { events: 0, pages: 0, readMs: 0, existsMs: 0, signalMs: 0, clearMs: 0 };
  /** Subscriptions known to exist (organization, external id). */
  private readonly knownSubscriptions = new Set<string>();
  /**
   * Markers this process stored together with their events (the writer says so when it wakes the
   * deliverer): delivered without reading the event back. Forgotten once deleted; a marker not
   * found here (written by another process, or before a restart) has its event read.
   */
  private readonly storedHere = new Set<string>();
  /**
   * Of those, the markers not yet delivered, by subscription (marker prefix): a subscription woken
   * only with markers this process stored is delivered from here, without reading its markers
   * back. One woken otherwise (`needsRead`: a retry, a reconcile, a release, a duplicate's marker)
   * reads its `_id` range, which covers everything remembered.
   */
  private readonly remembered = new Map<string, Map<string, PendingDeliveryDoc>>();
  private readonly needsRead = new Set<string>();
  /**
   * The deliveries' writes, grouped across subscriptions (`GroupCommit`): markers deleted, one
   * command per round, which records the delivery of their events (`marked` events: no event
   * document is written). Only events stored before markers (not `marked`) are marked delivered
   * first; a crash between the two leaves their markers, which the next round drops.
   */
  private readonly settled = new GroupCommit<{ markerId: string; legacyDeliveredId: string | null }>(
    async (items) => {
      await markDelivered(
        this.db,
        items.flatMap((i) => (i.legacyDeliveredId ? [i.legacyDeliveredId] : [])),
      );
      await clearPendingDeliveries(
        this.db,
        items.map((i) => ({ _id: i.markerId })),
      );
    },
  );
  /**
   * Subscriptions with markers to deliver, by marker prefix (oldest woken first), with when each
   * was woken (`performance.now()`).
   */
  private readonly dirty = new Map<string, { target: DeliveryTarget; since: number }>();
  /** When the last delivery allowed by `DELIVERY_PACE_WHILE_INGESTING_MS` started. */
  private lastPacedAt = -Infinity;
  /** Each subscription's period boundary as last read, by marker prefix (`closingSoon`). */
  private readonly boundaries = new Map<string, KnownBoundary>();
  /** Boundary reads in flight, by marker prefix: lanes share them. */
  private readonly boundaryReads = new Map<string, Promise<void>>();
  /**
   * Subscriptions whose delivery failed, by marker prefix: retried after a delay (`timer` set
   * while waiting for it; the attempts count until a round succeeds).
   */
  private readonly retries = new Map<
    string,
    { attempts: number; timer: NodeJS.Timeout | null; failed: boolean }
  >();
  /**
   * Whether a wake may deliver this subscription now: not while a failed delivery waits for its
   * retry (Temporal or the database down: each new event would fail again at once), but yes while
   * a round only left markers whose events are not stored yet (a dead request's, for up to
   * `ORPHAN_AFTER_MS`): those must not hold back the events stored since.
   */
  private mayWake(prefix: string): boolean {
    const retry = this.retries.get(prefix);
    return !(retry?.timer && retry.failed);
  }
  private draining: Promise<void> | null = null;
  private closed = false;
  private lastIngestAt = -Infinity;
  /**
   * Subscriptions (by marker prefix) with a batch being written that may yet be rolled back (a
   * duplicate in it): their markers are read but not delivered until released.
   */
  private readonly held = new Map<string, number>();
  private lastProblemScanAt: number | null = null;
  /** This process stored events with problems not yet reported. */
  private problemsToReport = false;
  readonly metrics: MetricFieldNameCache;

  private readonly now: () => number;
  private readonly delayWhileIngestingMs: number;

  constructor(
    private readonly db: Db,
    private readonly client: Client,
    private readonly taskQueue: string,
    options: EventDeliveryOptions = {},
  ) {
    this.metrics = new MetricFieldNameCache(db);
    this.now = options.now ?? Date.now;
    this.delayWhileIngestingMs = options.delayWhileIngestingMs ?? DELIVERY_DELAY_WHILE_INGESTING_MS;
  }

  /**
   * Events of these subscriptions were stored with their markers: deliver them soon. Returns at
   * once; `idle()` resolves when every woken subscription was tried. `stored`: markers whose own
   * event the caller has just stored (not refused as a duplicate, not rolled back).
   */
  wake(targets: DeliveryTarget[], stored: readonly PendingDeliveryDoc[] = []): void {
    if (this.storedHere.size + stored.length > STORED_HERE_MAX) {
      this.storedHere.clear();
      for (const prefix of this.remembered.keys()) this.needsRead.add(prefix);
      this.remembered.clear();
    }
    const storedPrefixes = new Set<string>();
    for (const m of stored) {
      this.storedHere.add(m._id);
      const prefix = prefixOfMarker(m._id);
      storedPrefixes.add(prefix);
      let markers = this.remembered.get(prefix);
      if (!markers) this.remembered.set(prefix, (markers = new Map()));
      markers.set(m._id, m);
    }
    for (const t of targets) {
      const prefix = pendingPrefix(t.organizationId, t.externalSubscriptionId);
      if (!storedPrefixes.has(prefix)) this.needsRead.add(prefix);
      if (this.mayWake(prefix)) this.markDirty(prefix, t);
    }
    this.kick();
  }

  /** Holds delivery of these subscriptions until `release` (an all-or-nothing batch in flight). */
  hold(targets: DeliveryTarget[]): string[] {
    const prefixes = [
      ...new Set(targets.map((t) => pendingPrefix(t.organizationId, t.externalSubscriptionId))),
    ];
    for (const p of prefixes) this.held.set(p, (this.held.get(p) ?? 0) + 1);
    return prefixes;
  }

  release(prefixes: string[], targets: DeliveryTarget[]): void {
    for (const p of prefixes) {
      const n = (this.held.get(p) ?? 1) - 1;
      if (n > 0) this.held.set(p, n);
      else this.held.delete(p);
    }
    this.wake(targets);
  }

  private markDirty(prefix: string, target: DeliveryTarget): void {
    this.dirty.set(prefix, { target, since: this.dirty.get(prefix)?.since ?? performance.now() });
  }

  /** Requests are being acknowledged: delivery yields (`DELIVERY_DELAY_WHILE_INGESTING_MS`). */
  noteIngest(): void {
    this.lastIngestAt = performance.now();
  }

  private ingesting(): boolean {
    return performance.now() - this.lastIngestAt < INGEST_BUSY_MS;
  }

  /** Ingestion stored events with problems (reported by `reportProblems`). */
  noteProblems(): void {
    this.problemsToReport = true;
  }

  /** Resolves once nothing is being delivered (subscriptions waiting for a retry aside). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Stops delivering (shutdown): no new delivery starts, retries waiting are dropped, and this
   * resolves once the deliveries in flight are done. What was not delivered stays in its markers,
   * which the next process reconciles.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const retry of this.retries.values()) if (retry.timer) clearTimeout(retry.timer);
    this.retries.clear();
    this.dirty.clear();
    await this.idle();
  }

  private kick(): void {
    if (this.closed || this.draining || this.dirty.size === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0 && !this.closed) {
      const batch = [...this.dirty].map(([prefix, woken]) => ({ prefix, ...woken }));
      this.dirty.clear();
      const inBatch = new Set(batch.map((b) => b.prefix));
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(DELIVERY_PARALLELISM, batch.length) }, async (_, lane) => {
          while (next < batch.length && !this.closed) {
            if (this.ingesting() && nearPeriodBoundary(this.now())) {
              // Subscriptions woken since this round began join it (not one it has already: never
              // two deliveries of one subscription at once), so a closing one does not wait for the
              // round to end.
              for (const [prefix, woken] of this.dirty)
                if (!inBatch.has(prefix)) {
                  batch.push({ prefix, ...woken });
                  inBatch.add(prefix);
                  this.dirty.delete(prefix);
                }
              const due = await this.closingSoon(batch, next);
              if (due) {
                const at = batch.indexOf(due, next);
                if (at < 0) continue; // another lane took it meanwhile
                [batch[at], batch[next]] = [batch[next]!, due];
                next++;
                await this.deliverSubscription(due.prefix, due.target);
                continue;
              }
            }
            if (!this.mayDeliverNow(lane, batch[next]!.since)) {
              await new Promise((r) => setTimeout(r, INGEST_BUSY_MS / 2));
              continue;
            }
            const { prefix, target } = batch[next++]!;
            await this.deliverSubscription(prefix, target);
          }
        }),
      );
    }
  }

  /**
   * Whether this lane may deliver the next subscription, woken at `since`, now: always unless
   * requests are being acknowledged; then only lane 0, paced, for a subscription woken long enough
   * ago (`DELIVERY_DELAY_WHILE_INGESTING_MS`). Those whose period is about to close go first
   * (`closingSoon`).
   */
  private mayDeliverNow(lane: number, since: number): boolean {
    if (!this.ingesting()) return true;
    if (lane > 0) return false;
    const now = performance.now();
    if (now - since >= DELIVERY_LAG_MAX_MS) return true;
    if (now - since < this.delayWhileIngestingMs) return false;
    if (now - this.lastPacedAt < DELIVERY_PACE_WHILE_INGESTING_MS) return false;
    this.lastPacedAt = now;
    return true;
  }

  /**
   * The first subscription of `batch` from `from` whose period ends within `BOUNDARY_GUARD_MS`
   * (delivered at once, whatever else waits), or null. Asked only in the minute before a UTC
   * quarter-hour (`nearPeriodBoundary`), while requests are being acknowledged. Each subscription's
   * boundary is read once (its document, by key) and kept until it passes; one that cannot be read
   * counts as closing (delivered at once, as before this guard looked at subscriptions).
   */
  private async closingSoon<T extends { prefix: string; target: DeliveryTarget }>(
    batch: T[],
    from: number,
  ): Promise<T | null> {
    for (let i = from; i < batch.length; i++) {
      const item = batch[i]!;
      let known = this.knownBoundary(item.prefix);
      if (!known) {
        await this.readBoundary(item.prefix, item.target);
        known = this.knownBoundary(item.prefix);
        if (!known) return item;
      }
      const now = this.now();
      if (known.at !== null && known.at > now && known.at - now <= BOUNDARY_GUARD_MS) return item;
    }
    return null;
  }

  /** The boundary read for this subscription while it is still ahead, or read recently. */
  private knownBoundary(prefix: string): KnownBoundary | undefined {
    const known = this.boundaries.get(prefix);
    if (!known) return undefined;
    const now = this.now();
    if ((known.at !== null && known.at > now) || now - known.readAt < BOUNDARY_READ_TTL_MS) return known;
    return undefined;
  }

  private readBoundary(prefix: string, target: DeliveryTarget): Promise<void> {
    let read = this.boundaryReads.get(prefix);
    if (!read) {
      read = findSubscription(this.db, target.organizationId, target.externalSubscriptionId)
        .then((sub) => this.noteBoundary(prefix, sub))
        .catch(() => undefined) // unknown: counts as closing
        .finally(() => this.boundaryReads.delete(prefix));
      this.boundaryReads.set(prefix, read);
    }
    return read;
  }

  private noteBoundary(prefix: string, sub: SubscriptionDoc | null): void {
    if (this.boundaries.size >= KNOWN_SUBSCRIPTIONS_MAX) this.boundaries.clear();
    this.boundaries.set(prefix, { at: sub ? boundaryOf(sub) : null, readAt: this.now() });
  }

  /** Delivers every pending marker of one subscription; on failure, retries it later. */
  private async deliverSubscription(prefix: string, target: DeliveryTarget): Promise<void> {
    const remembered = this.remembered.get(prefix);
    this.remembered.delete(prefix);
    if (remembered && !this.needsRead.has(prefix)) {
      // Only markers this process stored (their events too) are pending: no read.
      try {
        const markers = [...remembered.values()].sort((a, b) => (a._id < b._id ? -1 : 1));
        for (let i = 0; i < markers.length; i += PAGE) {
          const outcome = await this.deliverMarkers(target, markers.slice(i, i + PAGE));
          if (outcome === 'held') {
            this.needsRead.add(prefix); // `release` wakes it again, then it reads its range
            return;
          }
        }
        this.retries.delete(prefix);
      } catch (err) {
        this.needsRead.add(prefix);
        this.retryLater(prefix, target, err);
      }
      return;
    }
    this.needsRead.delete(prefix); // the range read below covers every marker stored so far
    try {
      let after: string | undefined;
      let deferred = false;
      for (;;) {
        const t = performance.now();
        const markers = await readPendingDeliveries(this.db, { prefix, after, limit: PAGE });
        this.profile.readMs += performance.now() - t;
        if (markers.length === 0) break;
        const outcome = await this.deliverMarkers(target, markers);
        if (outcome === 'held') return; // `release` wakes it again
        deferred = outcome === 'deferred' || deferred;
        if (markers.length < PAGE) break;
        after = markers[markers.length - 1]!._id;
      }
      if (deferred) this.retryLater(prefix, target, null);
      else this.retries.delete(prefix);
    } catch (err) {
      this.retryLater(prefix, target, err);
    }
  }

  private retryLater(prefix: string, target: DeliveryTarget, err: unknown): void {
    if (this.closed) return; // its markers stay for the next process
    const previous = this.retries.get(prefix);
    if (previous?.timer) clearTimeout(previous.timer);
    const attempts = (previous?.attempts ?? 0) + 1;
    if (err && attempts === 1)
      console.warn(
        `[api] events for ${target.externalSubscriptionId} stored, delivery deferred: ${(err as Error).message}`,
      );
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
    const failed = err !== null && err !== undefined;
    const timer = setTimeout(() => {
      this.retries.set(prefix, { attempts, timer: null, failed });
      this.needsRead.add(prefix);
      this.markDirty(prefix, target);
      this.kick();
    }, delay);
    timer.unref();
    this.retries.set(prefix, { attempts, timer, failed });
  }

  /**
   * Delivers one page of one subscription's markers. Returns 'deferred' when some were left for
   * later (their event is not stored yet: a request of another process still writing).
   */
  private async deliverMarkers(
    target: DeliveryTarget,
    markers: PendingDeliveryDoc[],
  ): Promise<'done' | 'deferred' | 'held'> {
    const readStart = performance.now();
    this.profile.pages++;
    // Markers this process stored with their events need no read (`storedHere`): the event is
    // stored, the marker is its own, and this process has not settled it. The others are read.
    const unknown = markers.filter((m) => !this.storedHere.has(m._id));
    const byId = await findEventsByIds(
      this.db,
      unknown.map((m) => m.event_id),
    );
    this.profile.readMs += performance.now() - readStart;
    const now = Date.now();
    /** Markers with nothing to deliver (orphans, duplicates' markers, settled events). */
    const dropped: PendingDeliveryDoc[] = [];
    const delivering: PendingDeliveryDoc[] = [];
    /** Events of `delivering` stored before markers (not `marked`): marked delivered once signalled. */
    const legacy = new Set<string>();
    const delivered: DeliveredEvent[] = [];
    const messages: SeatEventMessage[] = [];
    const taken = new Set<string>();
    let deferred = false;
    for (const m of markers) {
      let message = m.message;
      if (!this.storedHere.has(m._id) || !message) {
        const doc = byId.get(m.event_id);
        if (!doc) {
          if (now - pendingCreatedAt(m) >= ORPHAN_AFTER_MS) dropped.push(m);
          else deferred = true;
          continue;
        }
        // A marker written by a request refused as a duplicate is not the stored event's own
        // marker (that one carries the stored event's time), so never what is delivered.
        const own = pendingCreatedAt(m) === doc.created_at.getTime();
        const settled = doc.problems.length > 0 || doc.delivered_at !== null || doc.awaiting_subscription;
        if (!own || settled) {
          dropped.push(m);
          continue;
        }
        message ??= toSeatEventMessage(doc, []);
        if (!doc.marked) legacy.add(doc._id);
      }
      if (taken.has(m.event_id)) {
        dropped.push(m);
        continue;
      }
      taken.add(m.event_id);
      delivering.push(m);
      delivered.push({
        _id: m.event_id,
        organization_id: target.organizationId,
        external_subscription_id: target.externalSubscriptionId,
        created_at: new Date(pendingCreatedAt(m)),
      });
      messages.push(message);
    }
    let t = performance.now();
    await this.settled.add(dropped.map((m) => ({ markerId: m._id, legacyDeliveredId: null })));
    this.forget(dropped);
    this.profile.clearMs += performance.now() - t;
    // Checked after the reads: a batch that may be rolled back was held before its markers existed.
    if (this.held.has(pendingPrefix(target.organizationId, target.externalSubscriptionId))) return 'held';
    const signalled = delivered.length > 0 && (await this.settle(target, delivered, messages));
    this.profile.events += delivered.length;
    t = performance.now();
    await this.settled.add(
      delivering.map((m) => ({
        markerId: m._id,
        legacyDeliveredId: signalled && legacy.has(m.event_id) ? m.event_id : null,
      })),
    );
    this.forget(delivering);
    this.profile.clearMs += performance.now() - t;
    return deferred ? 'deferred' : 'done';
  }

  /** Markers this process no longer needs to know as stored (deleted). */
  private forget(markers: PendingDeliveryDoc[]): void {
    for (const m of markers) this.storedHere.delete(m._id);
  }

  /**
   * Signals the events to their workflow (returns true: they are to be marked delivered with their
   * markers' deletion); or, when no subscription has their external id, leaves them to its
   * workflow's first load (awaiting markers); or, for a terminated subscription, marks them
   * delivered without signalling (kept, never billed). Throws when they cannot be settled now
   * (Temporal unreachable, the workflow not started yet).
   */
  private async settle(
    target: DeliveryTarget,
    docs: DeliveredEvent[],
    messages: SeatEventMessage[],
  ): Promise<boolean> {
    const ids = docs.map((d) => d._id);
    let t = performance.now();
    const exists = await this.subscriptionExists(target);
    this.profile.existsMs += performance.now() - t;
    if (!exists) {
      // The subscription's workflow will load them when it starts (SPEC section 3), through their
      // awaiting markers. The marker is written before existence is checked again: a subscription
      // created in between either started its workflow after the marker (and loads it), or exists
      // now (and the events are signalled, or retried if its workflow is not running yet).
      await recordAwaitingEvents(this.db, docs);
      if (!(await this.subscriptionExists(target))) {
        await markAwaitingSubscription(this.db, ids);
        return false;
      }
    }
    const workflowId = subscriptionWorkflowId(target.organizationId, target.externalSubscriptionId);
    t = performance.now();
    try {
      for (let i = 0; i < messages.length; i += MAX_EVENTS_PER_SIGNAL) {
        await this.client.workflow
          .getHandle(workflowId)
          .signal(seatEventsSignal, messages.slice(i, i + MAX_EVENTS_PER_SIGNAL));
        this.signalsSent++;
      }
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await this.settleWithoutWorkflow(target, ids);
      return false;
    } finally {
      this.profile.signalMs += performance.now() - t;
    }
    return true;
  }

  /**
   * Whether the subscription exists, read once per subscription and process: a subscription
   * document, once written, is never deleted, so only "exists" is remembered. Its workflow id
   * follows from its external id. The read is by key (`findSubscription`): two reads by `_id`.
   */
  private async subscriptionExists(target: DeliveryTarget): Promise<boolean> {
    const key = JSON.stringify([target.organizationId, target.externalSubscriptionId]);
    if (this.knownSubscriptions.has(key)) return true;
    const sub = await findSubscription(this.db, target.organizationId, target.externalSubscriptionId);
    this.noteBoundary(pendingPrefix(target.organizationId, target.externalSubscriptionId), sub);
    if (!sub) return false;
    if (this.knownSubscriptions.size >= KNOWN_SUBSCRIPTIONS_MAX) this.knownSubscriptions.clear();
    this.knownSubscriptions.add(key);
    return true;
  }

  /**
   * Events of an existing subscription that has no running workflow: a terminated subscription
   * takes no more events (kept, never billed); one whose workflow is not started yet (created a
   * moment ago) fails the delivery, which is retried.
   */
  private async settleWithoutWorkflow(target: DeliveryTarget, eventIds: string[]): Promise<void> {
    const sub = await findSubscription(this.db, target.organizationId, target.externalSubscriptionId);
    if (!sub) throw new Error(`subscription ${target.externalSubscriptionId} not found`);
    if (sub.status === 'terminated' || sub.status === 'canceled') return markDelivered(this.db, eventIds);
    throw new Error(`the workflow of subscription ${target.externalSubscriptionId} is not running yet`);
  }

  /**
   * Finds markers this process was not woken for: written by another API process, or by a process
   * that died before delivering. Reads every marker older than `olderThanMs` as one `_id` range (in
   * pages of `limit`), queues their subscriptions, and waits for this round of deliveries. Markers
   * of the earlier format (no subscription prefix) are rewritten in the current one first. Never
   * queries the events collection: every stored event not delivered has a marker, written before
   * it. Returns how many subscriptions were queued.
   */
  async reconcile(olderThanMs = 10_000, limit = PAGE, maxPages = 100): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const queued = new Map<string, DeliveryTarget>();
    let after: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const markers = await readPendingDeliveries(this.db, { after, limit });
      for (const m of markers) {
        if (pendingCreatedAt(m) > cutoff) continue;
        const target: DeliveryTarget | null = m.message
          ? { organizationId: m.organization_id!, externalSubscriptionId: m.external_subscription_id! }
          : await this.migrateMarker(m);
        if (!target) continue;
        queued.set(pendingPrefix(target.organizationId, target.externalSubscriptionId), target);
      }
      if (markers.length < limit) break;
      after = markers[markers.length - 1]!._id;
    }
    for (const [prefix, target] of queued) {
      this.needsRead.add(prefix);
      if (this.mayWake(prefix)) this.markDirty(prefix, target);
    }
    this.kick();
    await this.idle();
    return queued.size;
  }

  /** Rewrites a marker of the earlier format in the current one; returns its subscription. */
  private async migrateMarker(m: PendingDeliveryDoc): Promise<DeliveryTarget | null> {
    const doc = await events(this.db).findOne({ _id: m.event_id });
    if (doc && doc.problems.length === 0 && doc.delivered_at === null && !doc.awaiting_subscription) {
      const fieldNames = await this.metrics.get(doc.organization_id, [doc.code]);
      const field = fieldNames.get(doc.code);
      await insertPendingDeliveries(this.db, [
        pendingMarker(doc, toSeatEventMessage(doc, field ? [field] : [])),
      ]);
    }
    await clearPendingDeliveries(this.db, [m]);
    return (
      doc && { organizationId: doc.organization_id, externalSubscriptionId: doc.external_subscription_id }
    );
  }
  /**
   * Lago's `events.errors` webhook for stored events that can never bill (unknown metric code), one
   * per organization and round, delivered durably by `webhookDeliveryWorkflow`. Returns how many
   * events were reported.
   */
  async reportProblems(limit = 1_000): Promise<number> {
    // Only after this process stored flagged events, or at a full scan (flagged by another replica
    // or before a restart): the query reads every stored event on FerretDB.
    const fullScanDue =
      this.lastProblemScanAt === null || Date.now() - this.lastProblemScanAt >= PROBLEM_SCAN_INTERVAL_MS;
    if (!this.problemsToReport && !fullScanDue) return 0;
    this.problemsToReport = false;
    if (fullScanDue) this.lastProblemScanAt = Date.now();
    const flagged = await events(this.db)
      .find({ problems_reported: false })
      .sort({ created_at: 1 })
      .limit(limit)
      .toArray();
    const byOrganization = new Map<string, EventDoc[]>();
    for (const d of flagged)
      byOrganization.set(d.organization_id, [...(byOrganization.get(d.organization_id) ?? []), d]);
    let reported = 0;
    for (const [organizationId, docs] of byOrganization) {
      const invalid = docs.filter((d) => d.problems.includes('invalid_code'));
      const first = docs[0]!;
      try {
        await this.client.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          taskQueue: this.taskQueue,
          workflowId: `webhook:${organizationId}:events.errors:${first._id}`,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [
            {
              organizationId,
              webhookType: 'events.errors',
              objectType: 'events_errors',
              object: {
                invalid_code: invalid.map((d) => d.transaction_id),
                missing_aggregation_property: [],
                missing_group_key: [],
                invalid_filter_values: [],
              },
              uniqueKey: `events.errors:${first._id}`,
            },
          ],
        });
      } catch {
        continue; // Temporal unreachable: the next round tries again
      }
      await events(this.db).updateMany(
        { _id: { $in: docs.map((d) => d._id) } },
        { $set: { problems_reported: true } },
      );
      reported += docs.length;
    }
    return reported;
  }

  /** Runs `reconcile` and `reportProblems` every `intervalMs` until the returned stop function is called. */
  startReconciler(intervalMs = 5_000): () => void {
    let running = false;
    const profiling = process.env.PRORATA_DELIVERY_PROFILE === '1';
    let logged = 0;
    const timer = setInterval(() => {
      if (profiling && this.profile.events !== logged) {
        logged = this.profile.events;
        const p = this.profile;
        console.log(
          `[api] delivery profile: ${p.events} events, ${this.signalsSent} signals, ${p.pages} pages; ms in ` +
            `marker+event reads ${Math.round(p.readMs)}, subscription checks ${Math.round(p.existsMs)}, ` +
            `signals ${Math.round(p.signalMs)}, delivered marks and marker deletes ${Math.round(p.clearMs)}`,
        );
      }
      if (running) return;
      running = true;
      Promise.all([this.reconcile(), this.reportProblems()])
        .catch((err) => console.warn('[api] event reconciler:', (err as Error).message))
        .finally(() => (running = false));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
