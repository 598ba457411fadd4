import type { Db } from 'mongodb';
import { ID_RANGE_COMMENT, onlyDuplicateKeys, retryWhileBusy } from './database';
import { stableUuid } from './stable-uuid';
import type { EventDoc } from './events';

/**
 * A marker per event stored while no subscription had its external id: the subscription's workflow
 * reads its markers at its first start instead of querying every stored event (docs/scaling.md).
 * The `_id` is `{subscription prefix}{created_at ms, 13 digits}:{event _id}`, only `[0-9a-f:-]`, so
 * one subscription's markers are one `_id` range in ingestion order: on MongoDB the `_id` index
 * serves it; on FerretDB (SQLite) the `id-range` pushdown of scripts/install-services.sh does.
 * Markers are never deleted: a retried first load must find them again.
 */
export interface AwaitingEventDoc {
  _id: string;
  event_id: string;
}

export function awaitingEvents(db: Db) {
  return db.collection<AwaitingEventDoc>('awaiting_events');
}

/** The common start of one subscription's marker ids (ends with `:`). */
export function awaitingPrefix(organizationId: string, externalSubscriptionId: string): string {
  return `${stableUuid(JSON.stringify(['awaiting', organizationId, externalSubscriptionId]))}:`;
}

export function awaitingId(
  organizationId: string,
  externalSubscriptionId: string,
  createdAtMs: number,
  eventId: string,
): string {
  return `${awaitingPrefix(organizationId, externalSubscriptionId)}${String(createdAtMs).padStart(13, '0')}:${eventId}`;
}

/**
 * Writes the markers of these events (one subscription or several) in one unordered insert;
 * idempotent: a marker written before (a retried delivery) is not an error.
 */
export async function recordAwaitingEvents(
  db: Db,
  docs: Pick<EventDoc, '_id' | 'organization_id' | 'external_subscription_id' | 'created_at'>[],
): Promise<void> {
  if (docs.length === 0) return;
  const markers = docs.map((d) => ({
    _id: awaitingId(d.organization_id, d.external_subscription_id, d.created_at.getTime(), d._id),
    event_id: d._id,
  }));
  await retryWhileBusy(() =>
    awaitingEvents(db)
      .insertMany(markers, { ordered: false })
      .catch((err) => {
        if (!onlyDuplicateKeys(err)) throw err;
      }),
  );
}

/**
 * Up to `limit` markers of one subscription after the marker id `after` (exclusive), in `_id`
 * order: an `_id` range with a sort on `_id`, the only shape the FerretDB patch pushes down with
 * its limit, marked by the comment it requires.
 */
export async function readAwaitingEvents(
  db: Db,
  organizationId: string,
  externalSubscriptionId: string,
  after: string | undefined,
  limit: number,
): Promise<AwaitingEventDoc[]> {
  const prefix = awaitingPrefix(organizationId, externalSubscriptionId);
  return awaitingEvents(db)
    .find({ _id: { $gt: after ?? prefix, $lt: `${prefix.slice(0, -1)};` } })
    .sort({ _id: 1 })
    .limit(limit)
    .comment(ID_RANGE_COMMENT)
    .toArray();
}
