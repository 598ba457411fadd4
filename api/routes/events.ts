import { Router } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, serviceUnavailable, validationErrors, missingParam, type ErrorDetails } from '../errors';
import { registerRoute } from '../openapi';
import { findPage, paginationMeta, paginationQuery } from '../pagination';
import { lagoDetails, parseQuery } from '../validation';
import { serializeEvent } from '../../src/contracts/lago/serializers/event';
import {
  eventInput,
  eventListQuery,
  MAX_BATCH_EVENTS,
  parseUnixSecondsToMs,
  type EventInput,
} from '../../src/contracts/lago/event';
import {
  eventId,
  events,
  findStoredEvent,
  listEventPage,
  listStoredEvents,
  type EventDoc,
  type EventKey,
} from '../../src/store/events';
import { writeOneByOne, isDuplicateKey } from '../../src/store/database';
import { metricFieldNames, type EventDelivery, type MetricFieldNames } from '../event-delivery';

registerRoute({
  method: 'post',
  path: '/events',
  summary: 'Send one usage event (stored, then delivered to its subscription workflow)',
  requestRoot: 'event',
  requestSchema: eventInput,
  responses: {
    200: { description: 'The stored event', root: 'event' },
    400: 'No `event` root',
    422: '`value_is_mandatory`, `invalid_format` (timestamp), `value_already_exist` (transaction_id)',
  },
});
registerRoute({
  method: 'post',
  path: '/events/batch',
  summary: 'Send 1..100 events, all or nothing; errors keyed by index',
  requestRoot: 'events',
  requestSchema: z.array(eventInput),
  responses: {
    200: { description: 'The stored events, in request order', root: 'events', list: true },
    422: 'Errors by index',
  },
});
registerRoute({
  method: 'get',
  path: '/events/{transaction_id}',
  summary: 'Find an event by transaction_id',
  responses: { 200: { description: 'The event', root: 'event' }, 404: '`event_not_found`' },
});
registerRoute({
  method: 'get',
  path: '/events',
  summary: 'List events, newest first',
  query: paginationQuery.extend(eventListQuery.shape),
  responses: { 200: { description: 'One page of events', root: 'events', list: true } },
});

function toDoc(organizationId: string, input: EventInput, now: Date, metrics: MetricFieldNames): EventDoc {
  const ms =
    input.timestamp === undefined || input.timestamp === null
      ? now.getTime()
      : parseUnixSecondsToMs(input.timestamp)!;
  return {
    _id: eventId(organizationId, input),
    organization_id: organizationId,
    external_subscription_id: input.external_subscription_id,
    transaction_id: input.transaction_id,
    code: input.code,
    timestamp: new Date(ms),
    properties_json: JSON.stringify(input.properties ?? {}),
    precise_total_amount_cents:
      input.precise_total_amount_cents === undefined || input.precise_total_amount_cents === null
        ? null
        : String(input.precise_total_amount_cents),
    created_at: now,
    delivered_at: null,
    awaiting_subscription: false,
    source: 'api',
    // Lago stores events with an unknown metric code and reports them (events.errors); they never bill.
    problems: metrics.has(input.code) ? [] : ['invalid_code'],
    // The reconciler sends Lago's events.errors webhook for flagged events (off the request path).
    problems_reported: metrics.has(input.code),
  };
}

/** Lago's idempotency key of an event within an organization. */
function eventKey(e: EventKey): string {
  return JSON.stringify([e.external_subscription_id, e.transaction_id]);
}

/**
 * The batch indexes an unordered insertMany refused, when every refusal is a duplicate key;
 * null when the error is anything else (the database is down, say).
 */
function writeErrorIndexes(err: unknown): number[] | null {
  const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) return null;
  const indexes: number[] = [];
  for (const w of list as { index?: unknown; code?: unknown; errmsg?: unknown }[]) {
    if (typeof w.index !== 'number' || !isDuplicateKey({ code: w.code, message: w.errmsg })) return null;
    indexes.push(w.index);
  }
  return indexes;
}

export function eventRoutes(deps: ApiDeps, delivery: EventDelivery): Router {
  const router = Router();
  const db = deps.db;

  /** Delivery failures are not the client's: the event is stored and the reconciler delivers it. */
  async function deliverQuietly(
    organizationId: string,
    docs: EventDoc[],
    known?: MetricFieldNames,
  ): Promise<void> {
    const bySubscription = new Map<string, EventDoc[]>();
    for (const d of docs)
      bySubscription.set(d.external_subscription_id, [
        ...(bySubscription.get(d.external_subscription_id) ?? []),
        d,
      ]);
    await Promise.all(
      [...bySubscription].map(([sub, group]) =>
        delivery.deliver(organizationId, sub, group, known).catch((err) => {
          console.warn(`[api] events for ${sub} stored, delivery deferred: ${(err as Error).message}`);
        }),
      ),
    );
  }

  /**
   * A retried event that is stored but was never delivered is delivered now (then still a 422).
   * Each read is by the key's derived `_id`: a retry storm after a crash stays index lookups.
   */
  async function redeliverIfPending(organizationId: string, keys: EventKey[]) {
    const stored = await Promise.all(keys.map((key) => findStoredEvent(db, organizationId, key)));
    // A request that stored them and failed before listing them: listed now (idempotent).
    await listStoredEvents(
      db,
      stored.filter((d): d is EventDoc => d !== null),
    );
    const pending = stored.filter(
      (d): d is EventDoc => d !== null && d.delivered_at === null && !d.awaiting_subscription,
    );
    if (pending.length > 0) await deliverQuietly(organizationId, pending);
  }

  async function insertOrUnavailable(doc: EventDoc): Promise<void> {
    try {
      await events(db).insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw err;
      throw serviceUnavailable(
        'database_unavailable',
        'events cannot be stored right now; retry with the same transaction_id',
      );
    }
  }

  /** Lists stored events for GET /events; a retry with the same transaction_id lists them too. */
  async function listOrUnavailable(docs: EventDoc[]): Promise<void> {
    try {
      await listStoredEvents(db, docs);
    } catch {
      throw serviceUnavailable(
        'database_unavailable',
        'events are stored but not yet listed; retry with the same transaction_id',
      );
    }
  }

  /**
   * Inserts a whole batch, all or nothing. Returns the indexes refused as already stored (their
   * unique key exists); then the rest, inserted by this call, is deleted again before the 422.
   */
  async function insertBatch(docs: EventDoc[]): Promise<number[]> {
    try {
      await events(db).insertMany(docs, { ordered: false });
      return [];
    } catch (err) {
      const refused = writeErrorIndexes(err);
      if (!refused || !isDuplicateKey(err)) {
        throw serviceUnavailable(
          'database_unavailable',
          'events cannot be stored right now; retry with the same transaction_id',
        );
      }
      const inserted = docs.filter((_, i) => !refused.includes(i));
      // By _id, one delete per command (writeOneByOne): FerretDB serves _id from its index.
      if (inserted.length > 0)
        await writeOneByOne(
          events(db),
          inserted.map((d) => ({ deleteOne: { filter: { _id: d._id } } })),
        );
      return refused.sort((a, b) => a - b);
    }
  }

  /** The (subscription, transaction_id) keys of these inputs that are already stored. */
  async function storedKeys(organizationId: string, inputs: EventInput[]) {
    const found = await events(db)
      .find(
        {
          organization_id: organizationId,
          $or: inputs.map((e) => ({
            external_subscription_id: e.external_subscription_id,
            transaction_id: e.transaction_id,
          })),
        },
        { projection: { external_subscription_id: 1, transaction_id: 1 } },
      )
      .toArray();
    return new Map(found.map((e) => [eventKey(e), e]));
  }

  router.post('/', async (req, res) => {
    const org = organizationOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const raw = body && typeof body === 'object' && !Array.isArray(body) ? body.event : undefined;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw missingParam('event');
    const parsed = eventInput.safeParse(raw);
    if (!parsed.success) throw validationErrors(lagoDetails(parsed.error));
    const metrics = await metricFieldNames(db, org._id, [parsed.data.code]);
    const doc = toDoc(org._id, parsed.data, new Date(), metrics);
    try {
      await insertOrUnavailable(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await redeliverIfPending(org._id, [doc]);
      throw validationErrors({ transaction_id: ['value_already_exist'] });
    }
    await listOrUnavailable([doc]);
    await deliverQuietly(org._id, [doc], metrics);
    res.json({ event: serializeEvent(doc) });
  });

  router.post('/batch', async (req, res) => {
    const org = organizationOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const list = body && typeof body === 'object' && !Array.isArray(body) ? body.events : undefined;
    if (list === undefined || list === null) throw missingParam('events');
    if (!Array.isArray(list) || list.length === 0) throw validationErrors({ events: ['no_events'] });
    if (list.length > MAX_BATCH_EVENTS) throw validationErrors({ events: ['too_many_events'] });

    const details: ErrorDetails = {};
    const inputs: EventInput[] = [];
    list.forEach((item: unknown, i) => {
      const parsed = eventInput.safeParse(item);
      if (parsed.success) inputs.push(parsed.data);
      else details[String(i)] = lagoDetails(parsed.error);
    });
    if (Object.keys(details).length > 0) throw validationErrors(details);

    // Duplicates inside the batch, or already stored, are reported at the later index (Lago).
    const seen = new Set<string>();
    inputs.forEach((e, i) => {
      const key = eventKey(e);
      if (seen.has(key)) details[String(i)] = { transaction_id: ['value_already_exist'] };
      seen.add(key);
    });
    if (Object.keys(details).length > 0) {
      // Rare: read which of the others are stored too (a query FerretDB answers by a full scan).
      const existing = await storedKeys(org._id, inputs);
      inputs.forEach((e, i) => {
        if (existing.has(eventKey(e))) details[String(i)] = { transaction_id: ['value_already_exist'] };
      });
      await redeliverIfPending(org._id, [...existing.values()]);
      throw validationErrors(details);
    }

    const now = new Date();
    const metrics = await metricFieldNames(
      db,
      org._id,
      inputs.map((e) => e.code),
    );
    const docs = inputs.map((e) => toDoc(org._id, e, now, metrics));
    // Insert first: the unique index finds stored duplicates without reading the collection.
    const duplicates = await insertBatch(docs);
    if (duplicates.length > 0) {
      for (const i of duplicates) details[String(i)] = { transaction_id: ['value_already_exist'] };
      await redeliverIfPending(
        org._id,
        duplicates.map((i) => docs[i]!),
      );
      throw validationErrors(details);
    }
    await listOrUnavailable(docs);
    await deliverQuietly(org._id, docs, metrics);
    res.json({ events: docs.map((d) => serializeEvent(d)) });
  });

  router.get('/:transactionId', async (req, res) => {
    const org = organizationOf(req);
    const doc = await events(db).findOne(
      { organization_id: org._id, transaction_id: String(req.params.transactionId) },
      { sort: { created_at: -1 } },
    );
    if (!doc) throw notFound('event');
    res.json({ event: serializeEvent(doc) });
  });

  router.get('/', async (req, res) => {
    const org = organizationOf(req);
    const q = parseQuery(req, paginationQuery.extend(eventListQuery.shape));
    const filter: Record<string, unknown> = { organization_id: org._id };
    if (q.external_subscription_id) filter.external_subscription_id = q.external_subscription_id;
    if (q.code) filter.code = q.code;
    const range: Record<string, Date> = {};
    for (const [key, op] of [
      ['timestamp_from', '$gte'],
      ['timestamp_to', '$lte'],
    ] as const) {
      const v = q[key];
      if (v === undefined) continue;
      const at = new Date(v);
      if (Number.isNaN(at.getTime())) throw validationErrors({ [key]: ['invalid_date'] });
      range[op] = at;
    }
    if (Object.keys(range).length > 0) filter.timestamp = range;
    // By organization or subscription alone: list entries and a count read by `_id`.
    const { docs, meta } = Object.keys(filter).every(
      (k) => k === 'organization_id' || k === 'external_subscription_id',
    )
      ? await listEventPage(db, org._id, q.external_subscription_id, {
          skip: (q.page - 1) * q.per_page,
          limit: q.per_page,
        }).then(({ docs, totalCount }) => ({ docs, meta: paginationMeta(q, totalCount) }))
      : await findPage(events(db), filter, q);
    res.json({ events: docs.map((d) => serializeEvent(d)), meta });
  });

  return router;
}
