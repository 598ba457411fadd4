import type { Db } from 'mongodb';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  events,
  markAwaitingSubscription,
  markDelivered,
  toSeatEventMessage,
  type EventDoc,
} from '../src/store/events';
import { findSubscription } from '../src/store/subscriptions';
import { recordAwaitingEvents } from '../src/store/awaiting-events';
import {
  clearPendingDeliveries,
  readPendingDeliveries,
  recordPendingDeliveries,
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

/**
 * How often the reconciler also queries the events themselves (the only way to find events an API
 * stored and then crashed before signalling: they have no marker). A scan on FerretDB.
 */
const FULL_SCAN_INTERVAL_MS = 60 * 60_000;

/** At most this many subscriptions are remembered as existing (then the memory starts over). */
const KNOWN_SUBSCRIPTIONS_MAX = 100_000;
/** How long a burst for one subscription is gathered into one signal. */
const COALESCE_WINDOW_MS = 5;
/** At most this many events per signal (history event size stays small). */
const MAX_EVENTS_PER_SIGNAL = 200;

interface DeliveryTarget {
  organizationId: string;
  externalSubscriptionId: string;
}

interface Pending {
  target: DeliveryTarget;
  workflowId: string;
  messages: SeatEventMessage[];
  eventIds: string[];
  waiters: { ok: () => void; fail: (err: unknown) => void }[];
  timer: NodeJS.Timeout | null;
}

/**
 * Delivers stored events to their subscription workflows: signals (coalesced per subscription so a
 * burst becomes a few signals), then marks the events delivered. At-least-once: a crash between
 * the signal and the mark leads to a second delivery, which the workflow ignores by transaction_id.
 */
export class EventDelivery {
  private readonly pending = new Map<string, Pending>();
  /** Signals sent since start (for the ingest benchmark: signals per event). */
  signalsSent = 0;
  /** Subscriptions known to exist (organization, external id). */
  private readonly knownSubscriptions = new Set<string>();
  /** When this process last queried every stored event for undelivered ones (null: never). */
  private lastFullScanAt: number | null = null;
  private lastProblemScanAt: number | null = null;
  /** This process stored events with problems not yet reported. */
  private problemsToReport = false;

  constructor(
    private readonly db: Db,
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Delivers events of one (organization, external subscription id). Resolves once they are
   * signalled and marked, or marked as waiting for their subscription. Rejects when Temporal cannot
   * be reached: the events stay stored and undelivered for the reconciler.
   */
  async deliver(
    organizationId: string,
    externalSubscriptionId: string,
    docs: EventDoc[],
    /** The metrics' field names by code, when the caller already read them (ingest). */
    known?: MetricFieldNames,
  ): Promise<void> {
    if (docs.some((d) => d.problems.length > 0 && !d.problems_reported)) this.problemsToReport = true;
    const billable = docs.filter((d) => d.problems.length === 0);
    if (billable.length === 0) return;
    try {
      await this.deliverBillable(organizationId, externalSubscriptionId, billable, known);
    } catch (err) {
      // The reconciler finds them by their marker (a range), not by querying every stored event.
      await recordPendingDeliveries(
        this.db,
        billable.filter((d) => d.delivered_at === null),
      ).catch(() => undefined); // the database is down too: the next full scan finds them
      throw err;
    }
  }

  private async deliverBillable(
    organizationId: string,
    externalSubscriptionId: string,
    billable: EventDoc[],
    known?: MetricFieldNames,
  ): Promise<void> {
    const fieldNames =
      known ??
      (await metricFieldNames(
        this.db,
        organizationId,
        billable.map((d) => d.code),
      ));
    const messages = billable.map((d) =>
      toSeatEventMessage(
        d,
        [fieldNames.get(d.code) ?? null].filter((f): f is string => !!f),
      ),
    );
    const target = { organizationId, externalSubscriptionId };
    const ids = billable.filter((d) => d.delivered_at === null).map((d) => d._id);
    if (!(await this.subscriptionExists(target))) {
      // The subscription's workflow will load them when it starts (SPEC section 3), through their
      // markers. The marker is written before existence is checked again: a subscription created in
      // between either started its workflow after the marker (and loads it), or exists now (and the
      // events are signalled, or left to the reconciler if its workflow is not running yet).
      await recordAwaitingEvents(
        this.db,
        billable.filter((d) => d.delivered_at === null),
      );
      if (!(await this.subscriptionExists(target))) {
        await markAwaitingSubscription(this.db, ids);
        return;
      }
    }
    await this.enqueue(target, subscriptionWorkflowId(organizationId, externalSubscriptionId), messages, ids);
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
    if (!sub) return false;
    if (this.knownSubscriptions.size >= KNOWN_SUBSCRIPTIONS_MAX) this.knownSubscriptions.clear();
    this.knownSubscriptions.add(key);
    return true;
  }

  /**
   * Events of an existing subscription that has no running workflow: a terminated subscription
   * takes no more events (kept, never billed); one whose workflow is not started yet (created a
   * moment ago) fails the delivery, which the reconciler retries.
   */
  private async settleWithoutWorkflow(target: DeliveryTarget, eventIds: string[]): Promise<void> {
    const sub = await findSubscription(this.db, target.organizationId, target.externalSubscriptionId);
    if (!sub) throw new Error(`subscription ${target.externalSubscriptionId} not found`);
    if (sub.status === 'terminated' || sub.status === 'canceled') return markDelivered(this.db, eventIds);
    throw new Error(`the workflow of subscription ${target.externalSubscriptionId} is not running yet`);
  }

  private enqueue(
    target: DeliveryTarget,
    workflowId: string,
    messages: SeatEventMessage[],
    eventIds: string[],
  ): Promise<void> {
    return new Promise<void>((ok, fail) => {
      let p = this.pending.get(workflowId);
      if (!p) {
        p = { target, workflowId, messages: [], eventIds: [], waiters: [], timer: null };
        this.pending.set(workflowId, p);
      }
      p.messages.push(...messages);
      p.eventIds.push(...eventIds);
      p.waiters.push({ ok, fail });
      if (p.messages.length >= MAX_EVENTS_PER_SIGNAL) void this.flush(workflowId);
      else p.timer ??= setTimeout(() => void this.flush(workflowId), COALESCE_WINDOW_MS);
    });
  }

  private async flush(workflowId: string): Promise<void> {
    const p = this.pending.get(workflowId);
    if (!p) return;
    this.pending.delete(workflowId);
    if (p.timer) clearTimeout(p.timer);
    try {
      let running = true;
      try {
        for (let i = 0; i < p.messages.length; i += MAX_EVENTS_PER_SIGNAL) {
          await this.client.workflow
            .getHandle(workflowId)
            .signal(seatEventsSignal, p.messages.slice(i, i + MAX_EVENTS_PER_SIGNAL));
          this.signalsSent++;
        }
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        running = false;
      }
      if (running) await markDelivered(this.db, p.eventIds);
      else await this.settleWithoutWorkflow(p.target, p.eventIds);
      for (const w of p.waiters) w.ok();
    } catch (err) {
      for (const w of p.waiters) w.fail(err);
    }
  }

  /**
   * Re-delivers events stored but not delivered (an API crash or a Temporal outage between the two
   * steps). Each round reads the oldest pending-delivery markers (written when a delivery fails: an
   * `_id` range, whatever the number of stored events); the first round of a process and one round
   * every `FULL_SCAN_INTERVAL_MS` query the events themselves, which also finds the events of an API
   * that crashed between storing and signalling (no marker). Returns how many were delivered.
   */
  async reconcile(olderThanMs = 10_000, limit = 1_000): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    let docs: EventDoc[];
    let markers: PendingDeliveryDoc[] = [];
    if (this.lastFullScanAt === null || Date.now() - this.lastFullScanAt >= FULL_SCAN_INTERVAL_MS) {
      this.lastFullScanAt = Date.now();
      docs = await events(this.db)
        .find({ delivered_at: null, awaiting_subscription: false, created_at: { $lt: cutoff } })
        .sort({ created_at: 1 })
        .limit(limit)
        .toArray();
    } else {
      markers = await readPendingDeliveries(this.db, cutoff, limit);
      const found = await Promise.all(markers.map((m) => events(this.db).findOne({ _id: m.event_id })));
      docs = found.filter(
        (d): d is EventDoc => d !== null && d.delivered_at === null && !d.awaiting_subscription,
      );
    }
    const groups = new Map<string, EventDoc[]>();
    for (const d of docs) {
      const key = JSON.stringify([d.organization_id, d.external_subscription_id]);
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    let delivered = 0;
    const stillPending = new Set<string>();
    for (const group of groups.values()) {
      const first = group[0]!;
      try {
        await this.deliver(first.organization_id, first.external_subscription_id, group);
        delivered += group.length;
      } catch {
        // Temporal still unreachable: the next round tries again.
        for (const d of group) stillPending.add(d._id);
      }
    }
    await clearPendingDeliveries(
      this.db,
      markers.filter((m) => !stillPending.has(m.event_id)),
    );
    return delivered;
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
      this.lastProblemScanAt === null || Date.now() - this.lastProblemScanAt >= FULL_SCAN_INTERVAL_MS;
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
  startReconciler(intervalMs = 15_000): () => void {
    let running = false;
    const timer = setInterval(() => {
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
