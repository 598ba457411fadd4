/**
 * Pending-delivery markers: written with every accepted event (before it), read by the deliverer
 * as `_id` ranges (one subscription, or every marker for the reconciler), never by querying the
 * events. Temporal is unreachable here (a closed port), so every signal fails: what is checked is
 * which markers each round keeps, drops or rewrites.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startMongo, type TestMongo } from '../../support/services';
import { ensureIndexes } from '../../../src/store/indexes';
import { createOrganization } from '../../../src/store/organizations';
import { eventId, events, markDelivered, toSeatEventMessage, type EventDoc } from '../../../src/store/events';
import { insertSubscription, type SubscriptionDoc } from '../../../src/store/subscriptions';
import {
  insertPendingDeliveries,
  pendingDeliveries,
  pendingMarker,
  pendingPrefix,
  readPendingDeliveries,
} from '../../../src/store/pending-deliveries';
import { EventDelivery } from '../../../api/event-delivery';

describe('deliverer: pending-delivery markers', () => {
  let mongo: TestMongo;
  let connection: Connection;
  beforeAll(async () => {
    mongo = await startMongo();
    await ensureIndexes(mongo.database.db);
    connection = Connection.lazy({ address: '127.0.0.1:1' });
  }, 60_000);
  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await mongo?.stop();
  });

  it('keeps the markers of undelivered events, drops orphans and duplicates, rewrites the earlier format, and clears markers once delivered', async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Recon')).organization._id;
    const old = new Date(Date.now() - 5 * 60_000);
    await insertSubscription(db, {
      _id: randomUUID(),
      organization_id: org,
      external_id: 'recon_sub',
      external_customer_id: 'recon_co',
      status: 'active',
      created_at: old,
      workflow_id: `sub:${org}:recon_sub`,
    } as SubscriptionDoc);
    const event = (transaction_id: string, at = old): EventDoc => ({
      _id: eventId(org, { external_subscription_id: 'recon_sub', transaction_id }),
      organization_id: org,
      external_subscription_id: 'recon_sub',
      transaction_id,
      code: 'seats',
      timestamp: at,
      properties_json: JSON.stringify({ user_id: transaction_id }),
      precise_total_amount_cents: null,
      created_at: at,
      delivered_at: null,
      awaiting_subscription: false,
      source: 'api',
      problems: [],
      problems_reported: true,
    });
    const marker = (doc: EventDoc) => pendingMarker(doc, toSeatEventMessage(doc, ['user_id']));
    const [pending, legacy] = [event('pending'), event('legacy')];
    const orphanOld = event('orphan-old');
    const orphanYoung = event('orphan-young', new Date());
    // A second request for `pending`, refused as a duplicate: its marker has its own time.
    const duplicate = marker({ ...pending, created_at: new Date(old.getTime() + 1) });
    await insertPendingDeliveries(db, [marker(pending), duplicate, marker(orphanOld), marker(orphanYoung)]);
    await insertPendingDeliveries(db, [marker(pending)]); // written twice: not an error
    // A marker of the earlier format (`{created_at}:{event _id}`, no message).
    const legacyId = `${String(old.getTime()).padStart(13, '0')}:${legacy._id}`;
    await pendingDeliveries(db).insertOne({ _id: legacyId, event_id: legacy._id });
    await events(db).insertMany([pending, legacy]);

    // One subscription's markers are one range (the legacy marker is not in it).
    const prefix = pendingPrefix(org, 'recon_sub');
    expect((await readPendingDeliveries(db, { prefix, limit: 100 })).map((m) => m.event_id).sort()).toEqual(
      [pending._id, pending._id, orphanOld._id, orphanYoung._id].sort(),
    );

    const delivery = new EventDelivery(db, new Client({ connection }), 'unused');
    expect(await delivery.reconcile(0)).toBe(1);
    // Delivery failed (Temporal unreachable): the stored events keep their markers (the legacy one
    // rewritten with its message); the old orphan and the duplicate's marker are gone.
    const left = await pendingDeliveries(db).find({}).sort({ _id: 1 }).toArray();
    expect(left.map((m) => m.event_id).sort()).toEqual([pending._id, legacy._id, orphanYoung._id].sort());
    expect(left.every((m) => m._id.startsWith(prefix) && m.message)).toBe(true);
    expect(left.find((m) => m.event_id === legacy._id)?.message).toMatchObject({
      transaction_id: 'legacy',
      code: 'seats',
    });
    expect(left.find((m) => m.event_id === pending._id)?._id).toBe(marker(pending)._id);
    expect(await events(db).countDocuments({ delivered_at: null })).toBe(2);

    // Delivered meanwhile (by another process): a process's next round drops their markers
    // without a signal.
    await markDelivered(db, [pending._id, legacy._id]);
    const next = new EventDelivery(db, new Client({ connection }), 'unused');
    expect(await next.reconcile(0)).toBe(1);
    expect(next.signalsSent).toBe(0);
    expect((await pendingDeliveries(db).find({}).toArray()).map((m) => m.event_id)).toEqual([
      orphanYoung._id,
    ]);
    expect(delivery.signalsSent).toBe(0);
  }, 180_000);
});
