import type { Db } from 'mongodb';
import { ID_RANGE_COMMENT, isDuplicateKey, writeByIds } from './database';
import { stableUuid } from './stable-uuid';
import type { EventDoc } from './events';
import type { SeatEventMessage } from '../contracts/subscription-workflow';

/**
 * A marker per accepted event not yet delivered to its subscription workflow, written BEFORE the
 * event itself and before the API answers 200 (docs/scaling.md, "Ingest"): so every stored event
 * either has a marker or was delivered, and the deliverer (api/event-delivery.ts) finds all work by
 * reading markers, never by querying the events. The `_id` is
 * `{subscription prefix}{created_at ms, 13 digits}:{event _id}`, only `[0-9a-f:-]`: one
 * subscription's pending events are one `_id` range in ingestion order (the deliverer's batch of one
 * signal, and what current usage adds to the workflow's state to read its own writes); the whole
 * collection is one range too. The marker carries the message the workflow will receive.
 *
 * Markers written before this format (`{created_at 13 digits}:{event _id}`, no `message`) are still
 * read (the whole-collection range covers them) and delivered from their event.
 */
export interface PendingDeliveryDoc {
  _id: string;
  event_id: string;
  /** The event's subscription, and what its workflow receives (absent in the earlier format). */
  organization_id?: string;
  external_subscription_id?: string;
  message?: SeatEventMessage;
}

export function pendingDeliveries(db: Db) {
  return db.collection<PendingDeliveryDoc>('pending_deliveries');
}

/** The common start of one subscription's marker ids (ends with `:`). */
export function pendingPrefix(organizationId: string, externalSubscriptionId: string): string {
  return `${stableUuid(JSON.stringify(['pending', organizationId, externalSubscriptionId]))}:`;
}

/** The subscription prefix of a marker id of the current format (ends with `:`). */
export function prefixOfMarker(markerId: string): string {
  return markerId.slice(0, markerId.indexOf(':') + 1);
}

/** The marker of a stored (or about to be stored) event: a function of the event alone. */
export function pendingMarker(
  doc: Pick<EventDoc, '_id' | 'organization_id' | 'external_subscription_id' | 'created_at'>,
  message: SeatEventMessage,
): PendingDeliveryDoc {
  const _id = `${pendingPrefix(doc.organization_id, doc.external_subscription_id)}${String(
    doc.created_at.getTime(),
  ).padStart(13, '0')}:${doc._id}`;
  return {
    _id,
    event_id: doc._id,
    organization_id: doc.organization_id,
    external_subscription_id: doc.external_subscription_id,
    message,
  };
}

/** When the marker was written (ms), for both formats. */
export function pendingCreatedAt(marker: Pick<PendingDeliveryDoc, '_id'>): number {
  const parts = marker._id.split(':');
  return Number(parts.length >= 3 ? parts[parts.length - 2] : parts[0]);
}

/**
 * Writes markers in one unordered insert; a marker already written (a retried request, a
 * re-marked event) is not an error. Throws when the database refuses anything else.
 */
export async function insertPendingDeliveries(db: Db, markers: PendingDeliveryDoc[]): Promise<void> {
  if (markers.length === 0) return;
  try {
    await pendingDeliveries(db).insertMany(markers, { ordered: false });
  } catch (err) {
    const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    const allDuplicates =
      list.length > 0 &&
      (list as { code?: unknown; errmsg?: unknown }[]).every((w) =>
        isDuplicateKey({ code: w.code, message: w.errmsg }),
      );
    if (!allDuplicates) throw err;
  }
}

/** `_id` bounds of every marker (both formats: digits and `[0-9a-f:-]` sort below `~`). */
const ALL = { from: '', to: '~' };

/**
 * Up to `limit` markers after `after` (exclusive) in `_id` order: of one subscription when
 * `prefix` is given, else of every subscription. An `_id` range with a sort on `_id`, the shape the
 * FerretDB patch pushes down with its limit, marked by the comment it requires.
 */
export async function readPendingDeliveries(
  db: Db,
  options: { prefix?: string; after?: string; limit: number },
): Promise<PendingDeliveryDoc[]> {
  const from = options.prefix ?? ALL.from;
  const to = options.prefix ? `${options.prefix.slice(0, -1)};` : ALL.to;
  const after = options.after !== undefined && options.after > from ? options.after : from;
  return pendingDeliveries(db)
    .find({ _id: { $gt: after, $lt: to } })
    .sort({ _id: 1 })
    .limit(options.limit)
    .comment(ID_RANGE_COMMENT)
    .toArray();
}

/**
 * Removes markers of settled events (delivered, or waiting for their subscription): one
 * `deleteMany` by `_id: {$in}` per `MAX_IDS_PER_COMMAND` markers, served from the _id index by the
 * FerretDB built here (scripts/ferretdb-id-in.patch). FerretDB as published evaluated `$in` over
 * the whole collection inside the write: with a backlog of markers each such delete held SQLite's
 * single writer for hundreds of ms (282 ms per command in the ingest benchmark), so this was one
 * delete by bare `_id` per marker, a commit each.
 */
export async function clearPendingDeliveries(
  db: Db,
  markers: Pick<PendingDeliveryDoc, '_id'>[],
): Promise<void> {
  await writeByIds(
    markers.map((m) => m._id),
    (chunk) => pendingDeliveries(db).deleteMany({ _id: { $in: chunk } }),
  );
}
