import type { Db } from 'mongodb';
import { ID_RANGE_COMMENT, isDuplicateKey, retryWhileBusy, writeOneByOne } from './database';
import type { EventDoc } from './events';

/**
 * A marker per stored event whose delivery failed (Temporal unreachable, the workflow not running
 * yet): the reconciler reads the oldest markers as one `_id` range instead of querying every stored
 * event (docs/scaling.md). The `_id` is `{created_at ms, 13 digits}:{event _id}`, plain ASCII, so
 * "older than t" is a range ordered by age.
 */
export interface PendingDeliveryDoc {
  _id: string;
  event_id: string;
}

export function pendingDeliveries(db: Db) {
  return db.collection<PendingDeliveryDoc>('pending_deliveries');
}

const pendingId = (d: Pick<EventDoc, '_id' | 'created_at'>) =>
  `${String(d.created_at.getTime()).padStart(13, '0')}:${d._id}`;

/** Records events whose delivery failed (idempotent). */
export async function recordPendingDeliveries(db: Db, docs: Pick<EventDoc, '_id' | 'created_at'>[]) {
  for (const d of docs) {
    await retryWhileBusy(() => pendingDeliveries(db).insertOne({ _id: pendingId(d), event_id: d._id })).catch(
      (err) => {
        if (!isDuplicateKey(err)) throw err;
      },
    );
  }
}

/** The oldest markers of events stored before `before`, at most `limit`. */
export async function readPendingDeliveries(
  db: Db,
  before: Date,
  limit: number,
): Promise<PendingDeliveryDoc[]> {
  return pendingDeliveries(db)
    .find({ _id: { $gte: '0', $lt: String(before.getTime()).padStart(13, '0') } })
    .sort({ _id: 1 })
    .limit(limit)
    .comment(ID_RANGE_COMMENT)
    .toArray();
}

/** Removes the markers of events that are settled (delivered, or waiting for their subscription). */
export async function clearPendingDeliveries(db: Db, markers: PendingDeliveryDoc[]): Promise<void> {
  await writeOneByOne(
    pendingDeliveries(db),
    markers.map((m) => ({ deleteOne: { filter: { _id: m._id } } })),
  );
}
