import type { Db } from 'mongodb';
import {
  eventId,
  events,
  findEventsByIds,
  listStoredEvents,
  toSeatEventMessage,
  type EventDoc,
} from '../src/store/events';
import { onlyDuplicateKeys } from '../src/store/database';
import { awaitingId, readAwaitingEvents } from '../src/store/awaiting-events';
import { pendingPrefix, readPendingDeliveries } from '../src/store/pending-deliveries';
import type { SeatEventMessage } from '../src/contracts/subscription-workflow';
import { endpointsSubscribedTo } from '../src/store/webhook-endpoints';

/** Most events loaded by one activity call: the workflow pages with `after`. */
export const STORED_EVENTS_PAGE = 2_000;
/** Most in-flight events a first load adds (more are left to their signal, as before). */
const PENDING_AT_START_MAX = 2_000;

export interface LoadStoredEventsInput {
  organizationId: string;
  externalSubscriptionId: string;
  /** Resume after this event's marker (its `created_at` ms and `_id`). */
  after?: { createdAt: number; id: string };
}

export interface LoadStoredEventsResult {
  events: SeatEventMessage[];
  next: { createdAt: number; id: string } | null;
  /** On the last page, when `webhook_type` was asked: whether an endpoint takes that webhook. */
  notify?: boolean;
}

export function createEventActivities({ db }: { db: Db }) {
  return {
    /**
     * Events stored for this external subscription id while it had no subscription, oldest ingestion
     * first: those sent before the subscription existed count once it starts (SPEC section 3).
     * Read through their awaiting markers (`src/store/awaiting-events.ts`), one `_id` range, then
     * each event by `_id`: never a query over every stored event. Events stored once the
     * subscription existed are signalled, or re-delivered by the reconciler. Flagged events never
     * bill.
     */
    async loadStoredEvents(
      input: LoadStoredEventsInput & {
        fieldNames: string[];
        /** The webhook the workflow sends once loaded (`subscription.started`): is it wanted? */
        webhook_type?: string;
      },
    ): Promise<LoadStoredEventsResult> {
      const markers = await readAwaitingEvents(
        db,
        input.organizationId,
        input.externalSubscriptionId,
        input.after &&
          awaitingId(
            input.organizationId,
            input.externalSubscriptionId,
            input.after.createdAt,
            input.after.id,
          ),
        STORED_EVENTS_PAGE,
      );
      const byId = await findEventsByIds(
        db,
        markers.map((m) => m.event_id),
      );
      const docs = markers
        .flatMap((m) => byId.get(m.event_id) ?? [])
        .filter(
          (d): d is EventDoc =>
            d.organization_id === input.organizationId &&
            d.external_subscription_id === input.externalSubscriptionId &&
            d.problems.length === 0,
        );
      // Not marked delivered: they were marked `awaiting_subscription` with their awaiting markers,
      // which every reader (the deliverer, a retried POST) already treats as settled, and their
      // pending markers are gone. One write per event less when a subscription starts.
      const last = markers[markers.length - 1];
      const next =
        markers.length === STORED_EVENTS_PAGE && last
          ? { createdAt: Number(last._id.split(':')[1]), id: last.event_id }
          : null;
      // On the last page, the events acknowledged for this subscription whose delivery is still in
      // flight (their pending-delivery markers, one `_id` range): stored before the subscription
      // existed, their deliverer may not have settled them yet, and once it finds the subscription
      // it signals them, after this first load (and after a backdated period's invoice). Loaded
      // here, they count where they belong; the signal that follows is a duplicate the workflow
      // drops (by transaction_id). The dependency-restart drill billed a backdated subscription's
      // period at 0 once without this.
      const pending =
        next === null
          ? (
              await readPendingDeliveries(db, {
                prefix: pendingPrefix(input.organizationId, input.externalSubscriptionId),
                limit: PENDING_AT_START_MAX,
              })
            ).flatMap((m) => (m.message ? [m.message] : []))
          : [];
      const notify =
        next === null && input.webhook_type !== undefined
          ? (await endpointsSubscribedTo(db, input.organizationId, input.webhook_type)).length > 0
          : undefined;
      return {
        events: [...docs.map((d) => toSeatEventMessage(d, input.fieldNames)), ...pending],
        next,
        ...(notify === undefined ? {} : { notify }),
      };
    },

    /**
     * Stores events a product service signalled straight to the workflow, so the API lists them too.
     * Idempotent: the `_id` derived from (organization, subscription, transaction_id), and the unique index
     * on those, turn a retry into a no-op.
     */
    async recordEvents(input: {
      organizationId: string;
      externalSubscriptionId: string;
      events: SeatEventMessage[];
    }): Promise<{ inserted: number }> {
      if (input.events.length === 0) return { inserted: 0 };
      const now = new Date();
      const docs: EventDoc[] = input.events.map((e) => ({
        _id: eventId(input.organizationId, {
          external_subscription_id: input.externalSubscriptionId,
          transaction_id: e.transaction_id,
        }),
        organization_id: input.organizationId,
        external_subscription_id: input.externalSubscriptionId,
        transaction_id: e.transaction_id,
        code: e.code,
        timestamp: new Date(e.timestamp),
        properties_json: JSON.stringify(e.properties),
        precise_total_amount_cents: null,
        created_at: now,
        delivered_at: now,
        awaiting_subscription: false,
        source: 'temporal',
        problems: [],
        problems_reported: true,
      }));
      let refused: number[] = [];
      try {
        await events(db).insertMany(docs, { ordered: false });
      } catch (err) {
        if (!onlyDuplicateKeys(err)) throw err;
        const writeErrors = (err as { writeErrors?: { index: number }[] }).writeErrors ?? [];
        refused = writeErrors.length > 0 ? writeErrors.map((w) => w.index) : docs.map((_, i) => i);
      }
      // Listed as stored (a retry's duplicates keep their first created_at): idempotent.
      const stored = await Promise.all(
        docs.map((d, i) => (refused.includes(i) ? events(db).findOne({ _id: d._id }) : d)),
      );
      await listStoredEvents(
        db,
        stored.filter((d): d is EventDoc => d !== null),
      );
      return { inserted: docs.length - refused.length };
    },
  };
}
