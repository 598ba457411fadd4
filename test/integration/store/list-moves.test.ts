/**
 * Lists whose items move or grow (docs/scaling.md, "Lists"), on a real FerretDB (or MONGODB_URI):
 * subscriptions listed by status and moved when their status changes, wallets and usage reports
 * read per customer, wallet ledgers page by page; each compared with the indexed query it replaces.
 */
import { randomUUID } from 'node:crypto';
import { startMongo, type TestMongo } from '../../support/services';
import { ensureIndexes } from '../../../src/store/indexes';
import { createOrganization } from '../../../src/store/organizations';
import {
  insertSubscription,
  listSubscription,
  listSubscriptionPage,
  subscriptions,
  type SubscriptionDoc,
  type SubscriptionStatus,
} from '../../../src/store/subscriptions';
import {
  customerOngoingUsage,
  customerWallets,
  listOngoingUsage,
  listWallet,
  listWalletPage,
  listWalletTransaction,
  listWalletTransactionPage,
  ongoingUsage,
  wallets,
  walletTransactions,
  type WalletDoc,
  type WalletTransactionDoc,
} from '../../../src/store/wallets';
import { runMigrations } from '../../../src/store/migrations';
import { events, eventId, listEventPage, listStoredEvents, type EventDoc } from '../../../src/store/events';
import {
  KnownTops,
  raiseSequenceTops,
  sequenceTop,
  sequenceTops,
  takeSequenceBlock,
  takeSequenceBlocks,
} from '../../../src/store/sequences';
import { listEntries } from '../../../src/store/list-entries';

describe('lists that move: pages and counts by _id whatever the data size', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await startMongo();
    await ensureIndexes(mongo.database.db);
  }, 60_000);
  afterAll(async () => {
    await mongo?.stop();
  });

  /** The counter's blocks tile it: each slot starts right after the one before it ends, up to `top`. */
  const expectTiled = async (name: string, top: number) => {
    const taken = await mongo.database.db
      .collection<{ _id: string; name: string; value: number }>('sequence_slots')
      .find({ name })
      .toArray();
    const starts = taken.map((t) => Number(t._id.slice(name.length + 1))).sort((a, b) => a - b);
    const ends = new Map(taken.map((t) => [Number(t._id.slice(name.length + 1)), t.value]));
    let next = 1;
    for (const start of starts) {
      expect([name, start]).toEqual([name, next]);
      next = ends.get(start)! + 1;
    }
    expect([name, next - 1]).toEqual([name, top]);
  };

  const subscription = (org: string, i: number, customer: string): SubscriptionDoc => {
    const at = new Date(Date.UTC(2026, 2, 1) + i * 60_000);
    return {
      _id: randomUUID(),
      organization_id: org,
      external_id: `sub_${i}`,
      external_customer_id: customer,
      customer_id: `c_${customer}`,
      plan_id: 'p',
      plan_code: 'team',
      name: null,
      status: i % 4 === 0 ? 'pending' : 'active',
      billing_time: 'calendar',
      subscription_at: at,
      started_at: at,
      ending_at: null,
      terminated_at: null,
      canceled_at: null,
      created_at: at,
      updated_at: at,
      current_billing_period_started_at: null,
      current_billing_period_ending_at: null,
      active_units: {},
      workflow_id: `sub:${org}:sub_${i}`,
    };
  };

  /** What the projection does: the status, then the lists. */
  const move = async (id: string, status: SubscriptionStatus) => {
    const db = mongo.database.db;
    await subscriptions(db).updateOne({ _id: id }, { $set: { status } });
    await listSubscription(db, id);
  };

  /** The indexed query the lists replace (newest first), as the reference. */
  const reference = async (org: string, statuses: SubscriptionStatus[], customer?: string) => {
    const filter = {
      organization_id: org,
      status: { $in: statuses },
      ...(customer === undefined ? {} : { external_customer_id: customer }),
    };
    return (await subscriptions(mongo.database.db).find(filter).sort({ created_at: -1 }).toArray()).map(
      (d) => d.external_id,
    );
  };

  it('lists subscriptions by status and customer, moves them when their status changes, counts each once', async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Mover')).organization._id;
    const docs = Array.from({ length: 17 }, (_, i) => subscription(org, i, i % 3 === 0 ? 'acme' : 'globex'));
    for (const d of docs) expect(await insertSubscription(db, d)).toBe('inserted');
    await move(docs[0]!._id, 'active'); // pending -> active
    await move(docs[5]!._id, 'terminated');
    await move(docs[6]!._id, 'terminated');
    await move(docs[8]!._id, 'canceled'); // pending -> canceled
    // Two callers that read different statuses at once (a stale projection and a newer one).
    await subscriptions(db).updateOne({ _id: docs[9]!._id }, { $set: { status: 'terminated' } });
    await Promise.all([listSubscription(db, docs[9]!._id), listSubscription(db, docs[9]!._id)]);
    await move(docs[9]!._id, 'terminated'); // again: nothing moves

    const cases: { statuses: SubscriptionStatus[]; customer?: string }[] = [
      { statuses: ['active'] },
      { statuses: ['terminated'] },
      { statuses: ['active', 'pending'] },
      { statuses: ['active', 'pending', 'terminated', 'canceled'] },
      { statuses: ['active'], customer: 'acme' },
      { statuses: ['terminated', 'canceled'], customer: 'globex' },
      { statuses: ['active'], customer: 'nobody' },
    ];
    for (const { statuses, customer } of cases) {
      const expected = await reference(org, statuses, customer);
      for (const page of [
        { skip: 0, limit: 4 },
        { skip: 4, limit: 4 },
        { skip: 8, limit: 100 },
      ]) {
        const got = await listSubscriptionPage(db, org, { externalCustomerId: customer, statuses }, page);
        expect(got.docs.map((d) => d.external_id)).toEqual(expected.slice(page.skip, page.skip + page.limit));
        expect(got.totalCount).toBe(expected.length);
      }
    }
    // Each subscription has exactly two entries (its organization's and its customer's list).
    const entries = await listEntries(db)
      .find({ item_id: { $in: docs.map((d) => d._id) } })
      .toArray();
    expect(entries).toHaveLength(docs.length * 2);
  }, 60_000);

  it("reads a customer's wallets and usage reports, and a wallet's ledger page by page, counted once however often listed", async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Ledger')).organization._id;
    const wallet = (customer: string, i: number) =>
      ({
        _id: randomUUID(),
        organization_id: org,
        customer_id: customer,
        status: i === 1 ? 'terminated' : 'active',
        created_at: new Date(Date.UTC(2026, 0, 1 + i)),
      }) as WalletDoc;
    const acme = [0, 1, 2].map((i) => wallet('acme', i));
    const globex = [3].map((i) => wallet('globex', i));
    for (const w of [...acme, ...globex]) {
      await listWallet(db, w);
      await listWallet(db, w); // a retried create
      await wallets(db).insertOne(w);
    }
    expect((await customerWallets(db, org, 'acme')).map((w) => w._id)).toEqual(
      [...acme].reverse().map((w) => w._id),
    );
    expect(await listWalletPage(db, org, undefined, { skip: 1, limit: 2 })).toEqual({
      docs: [acme[2], acme[1]].map((w) => expect.objectContaining({ _id: w!._id })),
      totalCount: 4,
    });

    const txs = Array.from(
      { length: 9 },
      (_, i) =>
        ({
          _id: randomUUID(),
          wallet_id: acme[0]!._id,
          organization_id: org,
          created_at: Date.UTC(2026, 1, 1) + i * 1000,
        }) as WalletTransactionDoc,
    );
    for (const tx of txs) {
      await walletTransactions(db).insertOne(tx);
      await Promise.all([listWalletTransaction(db, tx), listWalletTransaction(db, tx)]);
    }
    const newestFirst = [...txs].reverse().map((t) => t._id);
    for (const page of [
      { skip: 0, limit: 4 },
      { skip: 4, limit: 4 },
      { skip: 8, limit: 4 },
    ]) {
      const got = await listWalletTransactionPage(db, acme[0]!._id, page);
      expect(got.docs.map((t) => t._id)).toEqual(newestFirst.slice(page.skip, page.skip + page.limit));
      expect(got.totalCount).toBe(9);
    }

    for (const [sub, customer] of [
      ['s1', 'acme'],
      ['s2', 'acme'],
      ['s3', 'globex'],
    ] as const) {
      await listOngoingUsage(db, { _id: sub, customer_id: customer });
      await ongoingUsage(db).insertOne({
        _id: sub,
        organization_id: org,
        customer_id: customer,
        currency: 'USD',
        fees: [],
        as_of: 0,
      });
    }
    await listOngoingUsage(db, { _id: 's1', customer_id: 'acme' }); // a retried report: one entry
    expect((await customerOngoingUsage(db, 'acme')).map((u) => u._id).sort()).toEqual(['s1', 's2']);
  }, 60_000);

  it('takes blocks of a counter that never overlap, 30 callers at once', async () => {
    const db = mongo.database.db;
    const sizes = Array.from({ length: 30 }, (_, i) => 1 + (i % 7));
    const firsts = await Promise.all(sizes.map((n) => takeSequenceBlock(db, 'block-race', n)));
    const taken = firsts.flatMap((first, i) => Array.from({ length: sizes[i]! }, (_, k) => first + k));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect([...taken].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await sequenceTop(db, 'block-race')).toBe(total);
  }, 30_000);

  it('counts many counters at once, racing single takers and each other, without losing or sharing a value', async () => {
    const db = mongo.database.db;
    const names = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    const rounds = Array.from(
      { length: 6 },
      (_, r) => new Map(names.map((name, i) => [name, 1 + ((i + r) % 5)])),
    );
    const singles = names.slice(0, 10).flatMap((name) => [2, 3].map((n) => ({ name, n })));
    await Promise.all([
      ...rounds.map((blocks) => takeSequenceBlocks(db, blocks)),
      ...singles.map(({ name, n }) => takeSequenceBlock(db, name, n)),
    ]);
    for (const name of names) {
      const expected =
        rounds.reduce((sum, blocks) => sum + blocks.get(name)!, 0) +
        singles.filter((s) => s.name === name).reduce((sum, s) => sum + s.n, 0);
      expect([name, await sequenceTop(db, name)]).toEqual([name, expected]);
      await expectTiled(name, expected);
    }
  }, 60_000);

  it('raises the hints of many counters a few statements per command, first upserts racing, never lowering one', async () => {
    const db = mongo.database.db;
    const names = Array.from({ length: 60 }, (_, i) => `hint-${i}`);
    const first = names.map((name, i) => ({ name, value: 10 + i }));
    const second = names.map((name, i) => ({ name, value: 10 + (i % 2 === 0 ? 2 * i : 0) }));
    const hintsNow = async () =>
      new Map(
        (
          await sequenceTops(db)
            .find({ _id: { $in: names } })
            .toArray()
        ).map((h) => [h._id, h.value]),
      );
    // Two raises of every (absent) hint at once: the first upserts race and neither call fails.
    // FerretDB does not apply two updates of one document atomically, so a hint may keep either
    // value (a hint may lag: `sequenceTop` walks the slots after it).
    await Promise.all([raiseSequenceTops(db, first), raiseSequenceTops(db, second)]);
    const raced = await hintsNow();
    names.forEach((name, i) =>
      expect([name, [first[i]!.value, second[i]!.value]]).toEqual([
        name,
        expect.arrayContaining([raced.get(name)]),
      ]),
    );
    // One at a time, each hint ends at the highest value, and a lower one never lowers it.
    await raiseSequenceTops(db, first);
    await raiseSequenceTops(db, second);
    await raiseSequenceTops(
      db,
      names.map((name) => ({ name, value: 1 })),
    );
    expect(await hintsNow()).toEqual(
      new Map(names.map((name, i) => [name, Math.max(first[i]!.value, second[i]!.value)])),
    );

    // Hundreds of hints that exist already, raised by one call: FerretDB held a connection per
    // statement of an update command until its end, and 100 such statements in one command waited
    // for ever for one more (the whole database with them). Finishes within seconds, or fails.
    const many = Array.from({ length: 250 }, (_, i) => ({ name: `many-hints-${i}`, value: i + 1 }));
    await raiseSequenceTops(db, many);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      raiseSequenceTops(
        db,
        many.map((h) => ({ ...h, value: h.value + 1_000 })),
      ).then(() => 'raised'),
      new Promise((ok) => (timer = setTimeout(() => ok('stuck for 20 s'), 20_000))),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe('raised');
    expect(await sequenceTops(db).findOne({ _id: 'many-hints-249' })).toEqual({
      _id: 'many-hints-249',
      value: 1_250,
    });

    // Blocks taken round after round keep every hint within HINT_MAX_LAG (8) slots of its top.
    const counters = Array.from({ length: 50 }, (_, i) => `hinted-${i}`);
    const known = new KnownTops();
    for (let round = 0; round < 20; round++)
      await takeSequenceBlocks(db, new Map(counters.map((name) => [name, 2])), round % 2 ? known : undefined);
    const raised = new Map(
      (
        await sequenceTops(db)
          .find({ _id: { $in: counters } })
          .toArray()
      ).map((h) => [h._id, h.value]),
    );
    for (const name of counters) {
      expect([name, await sequenceTop(db, name)]).toEqual([name, 40]);
      expect([name, raised.get(name)]).toEqual([name, expect.any(Number)]);
      expect(40 - raised.get(name)!).toBeLessThan(8 * 2); // under HINT_MAX_LAG slots of 2 behind
    }
  }, 60_000);

  it('claims blocks after the tops a taker remembers: two such takers and single takers racing, stale memory refused', async () => {
    const db = mongo.database.db;
    const names = Array.from({ length: 30 }, (_, i) => `known-${i}`);
    // Two API processes, each remembering the tops it claimed; single takers beside them make
    // both memories stale, so claims after a remembered top are refused and taken again.
    const a = new KnownTops();
    const b = new KnownTops();
    const expected = new Map(names.map((name) => [name, 0]));
    for (let round = 0; round < 12; round++) {
      const blocks = new Map(names.map((name, i) => [name, 1 + ((i + round) % 3)]));
      const singles = names.filter((_, i) => (i + round) % 4 === 0);
      await Promise.all([
        takeSequenceBlocks(db, blocks, a),
        round % 3 === 0 ? Promise.resolve() : takeSequenceBlocks(db, blocks, b),
        ...singles.map((name) => takeSequenceBlock(db, name, 2)),
      ]);
      for (const name of names)
        expected.set(
          name,
          expected.get(name)! +
            (round % 3 === 0 ? 1 : 2) * blocks.get(name)! +
            (singles.includes(name) ? 2 : 0),
        );
    }
    for (const name of names) {
      expect([name, await sequenceTop(db, name)]).toEqual([name, expected.get(name)]);
      await expectTiled(name, expected.get(name)!);
      // What a taker remembers is a block it claimed, never past the counter's top.
      for (const memory of [a, b])
        expect(memory.get(name)?.top ?? 0).toBeLessThanOrEqual(expected.get(name)!);
    }
  }, 60_000);

  it("lists an organization's and a subscription's events newest first, each counted once however often listed", async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Eventful')).organization._id;
    const event = (i: number): EventDoc => {
      const key = { external_subscription_id: i % 3 === 0 ? 'sub_a' : 'sub_b', transaction_id: `t${i}` };
      const at = new Date(Date.UTC(2026, 4, 1) + i * 1000);
      return {
        _id: eventId(org, key),
        organization_id: org,
        ...key,
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
      };
    };
    const all = Array.from({ length: 14 }, (_, i) => event(i));
    await events(db).insertMany(all);
    // Batches as requests list them, some twice and concurrently (retries).
    await Promise.all([
      listStoredEvents(db, all.slice(0, 6)),
      listStoredEvents(db, all.slice(4, 10)),
      listStoredEvents(db, all.slice(0, 3)),
    ]);
    await listStoredEvents(db, all.slice(8));
    await listStoredEvents(db, all);
    const reference = async (sub?: string) =>
      (
        await events(db)
          .find({ organization_id: org, ...(sub ? { external_subscription_id: sub } : {}) })
          .sort({ created_at: -1 })
          .toArray()
      ).map((e) => e.transaction_id);
    for (const sub of [undefined, 'sub_a', 'sub_b', 'nobody']) {
      const expected = await reference(sub);
      for (const page of [
        { skip: 0, limit: 5 },
        { skip: 5, limit: 5 },
        { skip: 10, limit: 10 },
      ]) {
        const got = await listEventPage(db, org, sub, page);
        expect(got.docs.map((e) => e.transaction_id)).toEqual(
          expected.slice(page.skip, page.skip + page.limit),
        );
        expect(got.totalCount).toBe(expected.length);
      }
    }
  }, 30_000);

  it('lists subscriptions, wallets, ledgers and usage reports stored before the lists, once the migration ran', async () => {
    const db = mongo.database.db;
    const org = (await createOrganization(db, 'Legacy lists')).organization._id;
    const legacy = subscription(org, 101, 'old_co'); // active
    await subscriptions(db).insertOne(legacy);
    const w = { _id: randomUUID(), organization_id: org, customer_id: 'old_co', created_at: new Date() };
    await wallets(db).insertOne(w as WalletDoc);
    await walletTransactions(db).insertOne({
      _id: randomUUID(),
      wallet_id: w._id,
      organization_id: org,
      created_at: Date.now(),
    } as WalletTransactionDoc);
    await ongoingUsage(db).insertOne({
      _id: 'old_sub',
      organization_id: org,
      customer_id: 'old_co',
      currency: 'USD',
      fees: [],
      as_of: 0,
    });
    await db
      .collection('migrations')
      .deleteMany({ _id: { $in: ['list-subscriptions-1', 'list-wallets-1'] } as never });
    expect(await runMigrations(db)).toEqual(['list-subscriptions-1', 'list-wallets-1']);
    const listed = await listSubscriptionPage(db, org, { statuses: ['active'] }, { skip: 0, limit: 10 });
    expect(listed).toMatchObject({ totalCount: 1, docs: [{ _id: legacy._id }] });
    expect((await customerWallets(db, org, 'old_co')).map((x) => x._id)).toEqual([w._id]);
    expect((await listWalletTransactionPage(db, w._id, { skip: 0, limit: 10 })).totalCount).toBe(1);
    expect((await customerOngoingUsage(db, 'old_co')).map((u) => u._id)).toEqual(['old_sub']);
  }, 60_000);
});
