/**
 * The reconciler reads the markers of failed deliveries (an `_id` range) instead of every stored
 * event, except on its first round (and hourly), which also finds events without a marker.
 * Temporal is unreachable here (a closed port), so every delivery fails: what is checked is which
 * events each round reads and which markers stay.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startMongo, type TestMongo } from '../../support/services';
import { ensureIndexes } from '../../../src/store/indexes';
import { createOrganization } from '../../../src/store/organizations';
import { eventId, events, markDelivered, type EventDoc } from '../../../src/store/events';
import { insertSubscription, type SubscriptionDoc } from '../../../src/store/subscriptions';
import { pendingDeliveries } from '../../../src/store/pending-deliveries';
import { EventDelivery } from '../../../api/event-delivery';

describe('reconciler: pending-delivery markers', () => {
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

  it('marks a failed delivery, re-reads only marked events, and drops the marker once the event is delivered', async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Recon')).organization._id;
    const at = new Date('2026-03-01T00:00:00Z');
    await insertSubscription(db, {
      _id: randomUUID(),
      organization_id: org,
      external_id: 'recon_sub',
      external_customer_id: 'recon_co',
      status: 'active',
      created_at: at,
      workflow_id: `sub:${org}:recon_sub`,
    } as SubscriptionDoc);
    const event = (transaction_id: string): EventDoc => ({
      _id: eventId(org, { external_subscription_id: 'recon_sub', transaction_id }),
      organization_id: org,
      external_subscription_id: 'recon_sub',
      transaction_id,
      code: 'seats',
      timestamp: at,
      properties_json: '{}',
      precise_total_amount_cents: null,
      created_at: at,
      delivered_at: null,
      awaiting_subscription: false,
      source: 'api',
      problems: [],
      problems_reported: true,
    });
    const [failed, crashed] = [event('failed'), event('crashed')];
    await events(db).insertMany([failed, crashed]);
    const delivery = new EventDelivery(db, new Client({ connection }), 'unused');
    // A delivery that fails (Temporal unreachable) leaves a marker.
    const known = new Map([['seats', 'user_id']]);
    await expect(delivery.deliver(org, 'recon_sub', [failed], known)).rejects.toThrow();
    expect((await pendingDeliveries(db).find({}).toArray()).map((m) => m.event_id)).toEqual([failed._id]);
    // First round: a full scan finds both (the one without a marker too); both fail again.
    const seen: string[][] = [];
    const deliver = delivery.deliver.bind(delivery);
    delivery.deliver = async (o, s, docs, k) => {
      seen.push(docs.map((d) => d.transaction_id).sort());
      return deliver(o, s, docs, k);
    };
    expect(await delivery.reconcile(0)).toBe(0);
    // Later rounds read the markers only: the crashed event's marker was written by the failed
    // round; an event stored since without a marker is left to the next full scan.
    await events(db).insertOne(event('unmarked'));
    expect(await delivery.reconcile(0)).toBe(0);
    expect(seen).toEqual([
      ['crashed', 'failed'],
      ['crashed', 'failed'],
    ]);
    // Delivered meanwhile (a client's retry): the marker goes, nothing is delivered twice.
    await markDelivered(db, [failed._id, crashed._id]);
    expect((await pendingDeliveries(db).find({}).toArray()).length).toBe(2);
    expect(await delivery.reconcile(0)).toBe(0);
    expect(seen).toHaveLength(2);
    expect(await pendingDeliveries(db).countDocuments({})).toBe(0);
  }, 180_000);
});
