/**
 * Lookups by natural key through key documents (docs/scaling.md), on a real FerretDB (or MONGODB_URI):
 * concurrent creates make one document, a soft delete frees the external id, and data stored before
 * key documents existed is found once the start-up migration ran.
 */
import { randomUUID } from 'node:crypto';
import { startMongo, type TestMongo } from '../../support/services';
import { ensureIndexes } from '../../../src/store/indexes';
import { createOrganization } from '../../../src/store/organizations';
import {
  customers,
  findCustomer,
  listCustomers,
  softDeleteCustomer,
  upsertCustomer,
} from '../../../src/store/customers';
import {
  findSubscription,
  insertSubscription,
  subscriptions,
  type SubscriptionDoc,
} from '../../../src/store/subscriptions';
import { keys, pointKey } from '../../../src/store/keys';
import {
  findBillableMetric,
  insertBillableMetric,
  softDeleteBillableMetric,
  updateBillableMetric,
  type NewBillableMetric,
} from '../../../src/store/billable-metrics';
import { insertInvoiceIfMissing, listInvoicePage, type InvoiceDoc } from '../../../src/store/invoices';
import { legacySequences, nextSequence, sequenceTop, sequenceTops } from '../../../src/store/sequences';
import { runMigrations } from '../../../src/store/migrations';
import { awaitingEvents, readAwaitingEvents, recordAwaitingEvents } from '../../../src/store/awaiting-events';

describe('key documents: lookups by external id are reads by _id', () => {
  let mongo: TestMongo;
  let organizationId: string;
  beforeAll(async () => {
    mongo = await startMongo();
    await ensureIndexes(mongo.database.db);
    organizationId = (await createOrganization(mongo.database.db, 'Acme')).organization._id;
  }, 60_000);
  afterAll(async () => {
    await mongo?.stop();
  });

  const subscription = (externalId: string, planCode = 'team'): SubscriptionDoc => {
    const now = new Date('2026-03-01T00:00:00Z');
    return {
      _id: randomUUID(),
      organization_id: organizationId,
      external_id: externalId,
      external_customer_id: 'acme',
      customer_id: 'c',
      plan_id: 'p',
      plan_code: planCode,
      name: null,
      status: 'active',
      billing_time: 'calendar',
      subscription_at: now,
      started_at: now,
      ending_at: null,
      terminated_at: null,
      canceled_at: null,
      created_at: now,
      updated_at: now,
      current_billing_period_started_at: null,
      current_billing_period_ending_at: null,
      active_units: {},
      workflow_id: `sub:${organizationId}:${externalId}`,
    };
  };

  it('creates one customer when eight upserts of the same external id run at once, and updates it', async () => {
    const db = mongo.database.db;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        upsertCustomer(db, organizationId, { external_id: 'race', name: `n${i}` }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.customer._id)).size).toBe(1);
    expect(await customers(db).countDocuments({ organization_id: organizationId, external_id: 'race' })).toBe(
      1,
    );
    const found = await findCustomer(db, organizationId, 'race');
    expect(found?._id).toBe(results[0]!.customer._id);
  }, 30_000);

  it('frees the external id on soft delete: the next upsert creates a new customer with a new lago_id', async () => {
    const db = mongo.database.db;
    const first = await upsertCustomer(db, organizationId, { external_id: 'reused', name: 'First' });
    const deleted = await softDeleteCustomer(db, organizationId, 'reused');
    expect(deleted?.deleted_at).toBeInstanceOf(Date);
    expect(await findCustomer(db, organizationId, 'reused')).toBeNull();
    expect(await softDeleteCustomer(db, organizationId, 'reused')).toBeNull();
    const second = await upsertCustomer(db, organizationId, { external_id: 'reused' });
    expect(second.created).toBe(true);
    expect(second.customer._id).not.toBe(first.customer._id);
    expect(second.customer.sequential_id).toBe(first.customer.sequential_id + 1);
    expect((await findCustomer(db, organizationId, 'reused'))?._id).toBe(second.customer._id);
  });

  it('completes a customer whose key was claimed by a create that crashed before inserting it', async () => {
    const db = mongo.database.db;
    const { keyId } = await import('../../../src/store/keys');
    const orphan = randomUUID();
    await keys(db).insertOne({
      _id: keyId('customer', organizationId, 'orphan'),
      kind: 'customer',
      organization_id: organizationId,
      natural_key: 'orphan',
      target_id: orphan,
      created_at: new Date(),
    });
    expect(await findCustomer(db, organizationId, 'orphan')).toBeNull();
    const made = await upsertCustomer(db, organizationId, { external_id: 'orphan' });
    expect(made).toMatchObject({ created: true, customer: { _id: orphan } });
  });

  it('inserts a subscription under its key once: a second insert of the external id reports it exists', async () => {
    const db = mongo.database.db;
    const a = subscription('sub_once');
    const b = subscription('sub_once', 'other');
    const outcomes = await Promise.all([insertSubscription(db, a), insertSubscription(db, b)]);
    expect(outcomes.sort()).toEqual(['exists', 'inserted']);
    const found = await findSubscription(db, organizationId, 'sub_once');
    expect(found?._id).toBe(a._id); // both were pointed at the key's target id
    expect(await subscriptions(db).countDocuments({ external_id: 'sub_once' })).toBe(1);
    expect(await findSubscription(db, organizationId, 'missing')).toBeNull();
    expect(await findSubscription(db, 'another-org', 'sub_once')).toBeNull();
  });

  it('finds customers, subscriptions and sequences stored before key documents once the migration ran', async () => {
    const db = mongo.database.db;
    const legacyCustomer = { ...(await upsertCustomer(db, organizationId, { external_id: 'tmp' })).customer };
    await customers(db).insertOne({
      ...legacyCustomer,
      _id: randomUUID(),
      external_id: 'legacy_co',
      sequential_id: 99,
    });
    await subscriptions(db).insertOne(subscription('legacy_sub'));
    await db
      .collection('sequence_slots')
      .insertOne({ _id: 'legacy-seq#41' as never, name: 'legacy-seq', value: 41 });
    // A counter from before slots: numbering goes on from its value (the hint takes it).
    await legacySequences(db).insertOne({ _id: 'older-seq', value: 7 });
    expect(await findCustomer(db, organizationId, 'legacy_co')).toBeNull();
    expect(await findSubscription(db, organizationId, 'legacy_sub')).toBeNull();
    await db.collection('migrations').deleteMany({});
    expect(await runMigrations(db)).toEqual([
      'keys-customers-1',
      'keys-subscriptions-1',
      'sequence-tops-1',
      'sequence-tops-2',
      'awaiting-markers-1',
      'list-customers-1',
      'list-invoices-1',
      'list-subscriptions-1',
      'list-wallets-1',
      'keys-catalog-1',
      'list-events-1',
    ]);
    expect(await runMigrations(db)).toEqual([]);
    expect((await findCustomer(db, organizationId, 'legacy_co'))?.sequential_id).toBe(99);
    expect((await findSubscription(db, organizationId, 'legacy_sub'))?.external_id).toBe('legacy_sub');
    expect(await sequenceTops(db).findOne({ _id: 'legacy-seq' })).toEqual({ _id: 'legacy-seq', value: 41 });
    expect(await nextSequence(db, 'legacy-seq')).toBe(42);
    expect(await sequenceTop(db, 'older-seq')).toBe(7);
    expect(await nextSequence(db, 'older-seq')).toBe(8);
    // An upsert of the legacy customer updates it rather than creating a second one.
    const again = await upsertCustomer(db, organizationId, { external_id: 'legacy_co', name: 'Legacy' });
    expect(again).toMatchObject({ created: false, customer: { sequential_id: 99, name: 'Legacy' } });
  });

  it('finds a live metric by code through its key: after create, rename, delete and re-create, and repairs a key a crash left stale', async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Catalog')).organization._id;
    const metric = (code: string) =>
      ({
        name: code,
        code,
        description: null,
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      }) as unknown as NewBillableMetric;
    expect(await findBillableMetric(db, org, 'seats')).toBeNull();
    const first = await insertBillableMetric(db, org, metric('seats'));
    expect((await findBillableMetric(db, org, 'seats'))?._id).toBe(first._id);
    await updateBillableMetric(db, org, first._id, { code: 'users' });
    expect(await findBillableMetric(db, org, 'seats')).toBeNull();
    expect((await findBillableMetric(db, org, 'users'))?._id).toBe(first._id);
    expect(await keys(db).countDocuments({ organization_id: org, kind: 'metric' })).toBe(1); // seats released
    await softDeleteBillableMetric(db, org, first._id);
    expect(await findBillableMetric(db, org, 'users')).toBeNull();
    const again = await insertBillableMetric(db, org, metric('users'));
    expect((await findBillableMetric(db, org, 'users'))?._id).toBe(again._id);
    // A create that pointed the key and lost the race to the unique index (or crashed before
    // inserting): the key names nothing; the next lookup finds the live metric and repairs the key.
    await pointKey(db, 'metric', org, 'users', randomUUID());
    expect((await findBillableMetric(db, org, 'users'))?._id).toBe(again._id);
    expect((await keys(db).findOne({ organization_id: org, kind: 'metric' }))?.target_id).toBe(again._id);
  });

  it('hands out distinct, gap-free sequence values to 40 concurrent callers, probing past a lagging top', async () => {
    const db = mongo.database.db;
    const values = await Promise.all(Array.from({ length: 40 }, () => nextSequence(db, 'race-seq')));
    expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await sequenceTops(db).updateOne({ _id: 'race-seq' }, { $set: { value: 3 } }); // a lagging hint
    expect(await nextSequence(db, 'race-seq')).toBe(41);
  }, 30_000);

  it('lists customers page by page from list entries exactly as the indexed query does, total_count included', async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Lister')).organization._id;
    for (let i = 0; i < 23; i++) await upsertCustomer(db, org, { external_id: `l${i}` });
    await Promise.all(['l3', 'l10', 'l22'].map((id) => softDeleteCustomer(db, org, id)));
    await upsertCustomer(db, org, { external_id: 'l3' }); // re-created: a new customer, listed first
    for (const page of [
      { skip: 0, limit: 5 },
      { skip: 5, limit: 5 },
      { skip: 15, limit: 10 },
      { skip: 40, limit: 5 },
    ]) {
      const fast = await listCustomers(db, org, {}, page);
      // A filter every customer matches takes the indexed query: the reference.
      const reference = await listCustomers(db, org, { account_types: ['customer'] }, page);
      expect(fast.items.map((c) => c.external_id)).toEqual(reference.items.map((c) => c.external_id));
      expect(fast.totalCount).toBe(21);
      expect(reference.totalCount).toBe(21);
    }
    expect((await listCustomers(db, org, {}, { skip: 0, limit: 1 })).items[0]?.external_id).toBe('l3');
  }, 30_000);

  it("lists an organization's and a customer's invoices newest first, each once however often it is saved", async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Invoicer')).organization._id;
    const invoice = (i: number, customer: string) =>
      ({
        _id: `sub-${customer}:2026-0${1 + (i % 9)}-01:${i}`,
        organization_id: org,
        external_customer_id: customer,
        created_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
      }) as InvoiceDoc;
    const all = Array.from({ length: 12 }, (_, i) => invoice(i, i % 3 === 0 ? 'acme' : 'globex'));
    for (const inv of all) await insertInvoiceIfMissing(db, inv);
    await Promise.all(
      all.slice(0, 4).map((inv) => insertInvoiceIfMissing(db, { ...inv, created_at: new Date() })),
    );
    const newestFirst = [...all].reverse().map((inv) => inv._id);
    const page = (customer: string | undefined, skip: number, limit: number) =>
      listInvoicePage(db, org, customer, { skip, limit });
    expect(await page(undefined, 0, 5)).toMatchObject({ totalCount: 12 });
    expect((await page(undefined, 0, 5)).docs.map((d) => d._id)).toEqual(newestFirst.slice(0, 5));
    expect((await page(undefined, 10, 5)).docs.map((d) => d._id)).toEqual(newestFirst.slice(10));
    const acme = await page('acme', 0, 10);
    expect(acme.totalCount).toBe(4);
    expect(acme.docs.map((d) => d._id)).toEqual(newestFirst.filter((id) => id.startsWith('sub-acme')));
    expect(await page('nobody', 0, 10)).toEqual({ docs: [], totalCount: 0 });
  }, 30_000);

  it("reads one subscription's awaiting markers as one _id range, in ingestion order, page by page", async () => {
    const db = mongo.database.db;
    const at = (ms: number) => new Date(Date.UTC(2026, 2, 1) + ms);
    const docs = [
      ...Array.from({ length: 5 }, (_, i) => ({
        _id: `ev-${i}`,
        organization_id: organizationId,
        external_subscription_id: 'waiting',
        created_at: at(4 - i),
      })),
      {
        _id: 'ev-other',
        organization_id: organizationId,
        external_subscription_id: 'waiting2',
        created_at: at(0),
      },
    ];
    await recordAwaitingEvents(db, docs);
    await recordAwaitingEvents(db, docs); // idempotent
    expect(await awaitingEvents(db).countDocuments({})).toBe(6);
    const first = await readAwaitingEvents(db, organizationId, 'waiting', undefined, 3);
    expect(first.map((m) => m.event_id)).toEqual(['ev-4', 'ev-3', 'ev-2']);
    const rest = await readAwaitingEvents(db, organizationId, 'waiting', first[2]!._id, 3);
    expect(rest.map((m) => m.event_id)).toEqual(['ev-1', 'ev-0']);
  });
});
