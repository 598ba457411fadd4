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
  toSeatEventMessage,
  type EventDoc,
  type EventKey,
} from '../../src/store/events';
import { writeByIds } from '../../src/store/database';
import {
  clearPendingDeliveries,
  insertPendingDeliveries,
  pendingMarker,
  type PendingDeliveryDoc,
} from '../../src/store/pending-deliveries';
import type { EventDelivery, MetricFieldNames } from '../event-delivery';
import { EventWriter } from '../event-ingest';

registerRoute({
  method: 'post',
  path: '/events',
  summary:
    'Send one usage event (answered once stored; delivered to its subscription workflow in the background)',
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
    marked: true,
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

/** The marker of an event that can bill; none for a flagged one (it never bills). */
function markerOf(doc: EventDoc, metrics: MetricFieldNames): PendingDeliveryDoc[] {
  if (doc.problems.length > 0) return [];
  const field = metrics.get(doc.code);
  return [pendingMarker(doc, toSeatEventMessage(doc, field ? [field] : []))];
}

const unavailable = () =>
  serviceUnavailable(
    'database_unavailable',
    'events cannot be stored right now; retry with the same transaction_id',
  );

export function eventRoutes(deps: ApiDeps, delivery: EventDelivery): Router {
  const router = Router();
  const db = deps.db;
  const writer = new EventWriter(db, delivery);

  /**
   * Stores events with their pending-delivery markers (group commit, api/event-ingest.ts).
   * Returns the indexes refused as already stored.
   */
  async function store(docs: EventDoc[], metrics: MetricFieldNames, wholeOrNothing: boolean) {
    if (docs.some((d) => d.problems.length > 0)) delivery.noteProblems();
    try {
      return await writer.store(
        docs,
        docs.flatMap((d) => markerOf(d, metrics)),
        wholeOrNothing,
      );
    } catch {
      throw unavailable();
    }
  }

  /**
   * A retried event stored before markers were written with every event (not `marked`), and
   * neither delivered nor awaiting its subscription, gets its marker now and so is delivered (the
   * answer is still a 422). A `marked` event is its marker's to deliver. Each read is by the key's
   * derived `_id`: a retry storm after a crash stays index lookups.
   */
  async function redeliverIfPending(organizationId: string, keys: EventKey[]) {
    const stored = await Promise.all(keys.map((key) => findStoredEvent(db, organizationId, key)));
    // A request that stored them and failed before listing them: listed now (idempotent).
    await listStoredEvents(
      db,
      stored.filter((d): d is EventDoc => d !== null),
    );
    const pending = stored.filter(
      (d): d is EventDoc =>
        d !== null &&
        !d.marked &&
        d.delivered_at === null &&
        !d.awaiting_subscription &&
        d.problems.length === 0,
    );
    if (pending.length === 0) return;
    const metrics = await delivery.metrics.get(
      organizationId,
      pending.map((d) => d.code),
    );
    await insertPendingDeliveries(
      db,
      pending.flatMap((d) => markerOf(d, metrics)),
    ).catch(() => undefined); // the database is down: the client retries
    delivery.wake(
      pending.map((d) => ({ organizationId, externalSubscriptionId: d.external_subscription_id })),
    );
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
    const metrics = await delivery.metrics.get(org._id, [parsed.data.code]);
    const doc = toDoc(org._id, parsed.data, new Date(), metrics);
    const duplicates = await store([doc], metrics, false);
    if (duplicates.length > 0) {
      await redeliverIfPending(org._id, [doc]);
      throw validationErrors({ transaction_id: ['value_already_exist'] });
    }
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
    const metrics = await delivery.metrics.get(
      org._id,
      inputs.map((e) => e.code),
    );
    const docs = inputs.map((e) => toDoc(org._id, e, now, metrics));
    // Insert first: the unique index finds stored duplicates without reading the collection. Until
    // the batch is known whole (or rolled back), its subscriptions' deliveries are held.
    const targets = docs.map((d) => ({
      organizationId: org._id,
      externalSubscriptionId: d.external_subscription_id,
    }));
    const held = delivery.hold(targets);
    try {
      await storeWholeOrRollBack(docs, metrics, details);
    } finally {
      delivery.release(held, targets);
    }
    res.json({ events: docs.map((d) => serializeEvent(d)) });
  });

  /** Stores a batch; on a duplicate, deletes what it inserted and throws Lago's 422 by index. */
  async function storeWholeOrRollBack(docs: EventDoc[], metrics: MetricFieldNames, details: ErrorDetails) {
    const organizationId = docs[0]!.organization_id;
    const duplicates = await store(docs, metrics, true);
    if (duplicates.length > 0) {
      // All or nothing: the events this call inserted are deleted again (by `_id: {$in}`, served
      // from the _id index), then their markers.
      const inserted = docs.filter((_, i) => !duplicates.includes(i));
      await writeByIds(
        inserted.map((d) => d._id),
        (chunk) => events(db).deleteMany({ _id: { $in: chunk } }),
      );
      await clearPendingDeliveries(
        db,
        inserted.flatMap((d) => markerOf(d, metrics)),
      );
      for (const i of duplicates) details[String(i)] = { transaction_id: ['value_already_exist'] };
      await redeliverIfPending(
        organizationId,
        duplicates.map((i) => docs[i]!),
      );
      throw validationErrors(details);
    }
  }

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
    // Counts of events this process acknowledged are taken in the background: wait for them here,
    // so a list read after a 200 counts that event (other processes' counts follow within a flush).
    await writer.counted();
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
