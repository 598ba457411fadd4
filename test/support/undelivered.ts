import type { Db } from 'mongodb';
import { events, findEventsByIds, type EventDoc } from '../../src/store/events';
import { pendingCreatedAt, pendingDeliveries } from '../../src/store/pending-deliveries';

/**
 * How many stored events of an organization are not delivered to their workflows yet (nor waiting
 * for their subscription, nor flagged): a `marked` event while its own marker exists, an earlier
 * one while `delivered_at` is null. For the drills and the ingest benchmark only: it scans the
 * organization's markers and events (so it lives outside the store's query layer).
 */
export async function countUndeliveredEvents(db: Db, organizationId: string): Promise<number> {
  const markers = await pendingDeliveries(db)
    .find({ organization_id: organizationId }, { projection: { message: 0 } })
    .toArray();
  const byId = await findEventsByIds(
    db,
    markers.map((m) => m.event_id),
  );
  const waiting = (d: EventDoc) => d.awaiting_subscription || d.problems.length > 0;
  const pending = new Set(
    markers.flatMap((m) => {
      const d = byId.get(m.event_id);
      // A duplicate request's marker carries its own time, not the stored event's.
      return d?.marked && !waiting(d) && pendingCreatedAt(m) === d.created_at.getTime() ? [d._id] : [];
    }),
  );
  const earlier = await events(db)
    .find(
      { organization_id: organizationId, delivered_at: null, marked: { $ne: true } },
      { projection: { awaiting_subscription: 1, problems: 1 } },
    )
    .toArray();
  return pending.size + earlier.filter((d) => !waiting(d)).length;
}
