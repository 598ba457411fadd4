import type { Db } from 'mongodb';
import { findByIds, writeByIds } from './database';
import { stableUuid } from './stable-uuid';
import {
  addBulkCountedListEntries,
  insertBulkListEntries,
  bulkCountedListLength,
  readItems,
  readListPage,
  type ListEntry,
} from './list-entries';
import type { SeatEventMessage } from '../contracts/subscription-workflow';

/**
 * A raw event as received. Customer-supplied `properties` may hold keys FerretDB refuses (dots, `$`,
 * NUL) or nested arrays, so the original JSON is kept as a string beside the few extracted fields the
 * code queries.
 */
export interface EventDoc {
  _id: string; // lago_id, `eventId` of the idempotency key
  organization_id: string;
  external_subscription_id: string;
  transaction_id: string;
  code: string;
  timestamp: Date; // millisecond precision
  properties_json: string;
  precise_total_amount_cents: string | null;
  created_at: Date;
  /**
   * Set when the event was settled without its marker telling so: delivered as an event stored
   * before markers (no `marked`), kept unbilled for a terminated subscription, or recorded after a
   * workflow received it (`source: 'temporal'`). An event stored with its marker (`marked`) is
   * delivered once its marker is gone, and this stays null: delivery writes no event document.
   */
  delivered_at: Date | null;
  /**
   * Stored with its pending-delivery marker (src/store/pending-deliveries.ts), by the API since
   * markers were written with every event: whether it is delivered is whether its marker is gone.
   * Absent on events stored before: those are marked delivered (`delivered_at`) when delivered.
   */
  marked?: boolean;
  /**
   * No subscription had this external id when the event arrived: the subscription's workflow loads it
   * when it starts, so the reconciler leaves it alone.
   */
  awaiting_subscription: boolean;
  /** `api` (stored first, then signalled) or `temporal` (signalled by a product service, recorded after). */
  source: 'api' | 'temporal';
  /** Problems found at ingestion (Lago's events.errors), e.g. `invalid_code`. Such events never bill. */
  problems: string[];
  /** False while an event with problems has not been reported in an `events.errors` webhook. */
  problems_reported: boolean;
}

/** Lago's idempotency key of an event: unique within an organization. */
export interface EventKey {
  external_subscription_id: string;
  transaction_id: string;
}

/**
 * An event's `_id` (its lago_id), derived from its idempotency key, so every lookup of a stored
 * event by key is a lookup by `_id`: an index lookup on every backend (FerretDB on SQLite evaluates
 * any other filter in Go over the whole collection). Events stored before ids were derived keep
 * their random ids; `findStoredEvent` still finds those.
 */
export function eventId(organizationId: string, key: EventKey): string {
  return stableUuid(
    JSON.stringify(['event', organizationId, key.external_subscription_id, key.transaction_id]),
  );
}

export function events(db: Db) {
  return db.collection<EventDoc>('events');
}

export async function ensureEventIndexes(db: Db): Promise<void> {
  // Lago's idempotency key: (organization, external_subscription_id, transaction_id).
  await events(db).createIndex(
    { organization_id: 1, external_subscription_id: 1, transaction_id: 1 },
    { unique: true, name: 'unique_transaction_id' },
  );
  await events(db).createIndex({ organization_id: 1, transaction_id: 1 });
  await events(db).createIndex({ delivered_at: 1, awaiting_subscription: 1, created_at: 1 });
  await events(db).createIndex({ problems_reported: 1 });
}

/**
 * The stored event with this idempotency key, or null: by its derived `_id`, then (for an event
 * stored before ids were derived) by the key itself.
 */
export async function findStoredEvent(
  db: Db,
  organizationId: string,
  key: EventKey,
): Promise<EventDoc | null> {
  return (
    (await events(db).findOne({ _id: eventId(organizationId, key) })) ??
    (await events(db).findOne({
      organization_id: organizationId,
      external_subscription_id: key.external_subscription_id,
      transaction_id: key.transaction_id,
    }))
  );
}

export function parseProperties(doc: Pick<EventDoc, 'properties_json'>): Record<string, unknown> {
  const value: unknown = JSON.parse(doc.properties_json);
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * Marks events delivered that have no marker to tell so (stored before markers, or settled without
 * a signal; see `delivered_at`): one update command per `MAX_IDS_PER_COMMAND` ids, by
 * `_id: {$in}`, which the FerretDB built here serves from its _id index and writes in one
 * transaction (scripts/ferretdb-id-in.patch; FerretDB as published scanned the whole collection for
 * `$in`). A re-delivery only moves `delivered_at` forward.
 */
export async function markDelivered(db: Db, ids: string[], at = new Date()): Promise<void> {
  await writeByIds(ids, (chunk) =>
    events(db).updateMany(
      { _id: { $in: chunk } },
      { $set: { delivered_at: at, awaiting_subscription: false } },
    ),
  );
}

/**
 * Marks undelivered events as waiting for their subscription (the workflow loads them when it
 * starts), by `_id: {$in}` as `markDelivered` does. Only events that were read undelivered are passed.
 */
export async function markAwaitingSubscription(db: Db, ids: string[]): Promise<void> {
  await writeByIds(ids, (chunk) =>
    events(db).updateMany({ _id: { $in: chunk } }, { $set: { awaiting_subscription: true } }),
  );
}

/** Stored events by `_id` (one find per `MAX_IDS_PER_COMMAND` ids, served from the _id index). */
export async function findEventsByIds(db: Db, ids: string[]): Promise<Map<string, EventDoc>> {
  return findByIds(events(db), ids);
}

/** Only the fields billing reads travel to the workflow (history and continue-as-new stay small). */
export function toSeatEventMessage(doc: EventDoc, fieldNames: readonly string[]): SeatEventMessage {
  const props = parseProperties(doc);
  const kept: SeatEventMessage['properties'] = {};
  for (const key of [...fieldNames, 'operation_type']) {
    const v = props[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) kept[key] = v;
  }
  return {
    transaction_id: doc.transaction_id,
    code: doc.code,
    timestamp: doc.timestamp.getTime(),
    properties: kept,
    recorded: true,
  };
}

/*
 * GET /events without filters other than the subscription (docs/scaling.md, "Lists"): an entry per
 * stored event in its organization's list and its subscription's, newest first by `created_at`,
 * written with the events, counted in blocks.
 */
function eventListScope(organizationId: string, externalSubscriptionId?: string): string[] {
  return externalSubscriptionId === undefined
    ? [organizationId]
    : [organizationId, `subscription:${externalSubscriptionId}`];
}

function eventListEntries(doc: EventDoc): ListEntry[] {
  return [undefined, doc.external_subscription_id].map((sub) => ({
    list: 'events',
    scope: eventListScope(doc.organization_id, sub),
    createdAt: doc.created_at,
    itemId: doc._id,
  }));
}

/** Lists stored events (idempotent: an event listed again is not counted again). */
export async function listStoredEvents(db: Db, docs: EventDoc[]): Promise<void> {
  if (docs.length > 0) await addBulkCountedListEntries(db, docs.flatMap(eventListEntries));
}

/**
 * `listStoredEvents` without the counting: the entries are written, and what they add to each
 * count is returned for `countBulkListEntries` (the ingest writer coalesces it off the request path).
 */
export async function listStoredEventsUncounted(db: Db, docs: EventDoc[]): Promise<Map<string, number>> {
  return docs.length > 0 ? insertBulkListEntries(db, docs.flatMap(eventListEntries)) : new Map();
}

/** One page of an organization's (or one subscription's) events, newest first, and their count. */
export async function listEventPage(
  db: Db,
  organizationId: string,
  externalSubscriptionId: string | undefined,
  page: { skip: number; limit: number },
): Promise<{ docs: EventDoc[]; totalCount: number }> {
  const scope = eventListScope(organizationId, externalSubscriptionId);
  const [ids, totalCount] = await Promise.all([
    readListPage(db, 'events', scope, page),
    bulkCountedListLength(db, 'events', scope),
  ]);
  return { docs: await readItems(events(db), ids), totalCount };
}
