import type { Db } from 'mongodb';
import { recordAwaitingEvents } from './awaiting-events';
import { billableMetrics, LIVE } from './billable-metrics';
import { plans } from './plans';
import { upsertRetryingDuplicate } from './database';
import { customers } from './customers';
import { events, listStoredEvents, type EventDoc } from './events';
import { invoiceCountSequence, invoices, listStoredInvoice } from './invoices';
import { keys, keyId, type KeyKind } from './keys';
import { addListEntries } from './list-entries';
import { legacySequences, raiseSequenceTop, raiseSequenceTops, sequenceTop, slots } from './sequences';
import { listSubscription, subscriptions } from './subscriptions';
import {
  listOngoingUsage,
  listWallet,
  listWalletTransaction,
  ongoingUsage,
  wallets,
  walletTransactions,
} from './wallets';

interface MigrationDoc {
  _id: string; // the step's name
  done_at: Date;
}

/**
 * One-time steps that write the documents hot paths read by `_id` (docs/scaling.md) for data stored
 * before those documents existed. Each runs once per database (recorded in `migrations`), scans
 * its collection once, and is idempotent, so processes starting together may both run it.
 */
const STEPS: { name: string; run: (db: Db) => Promise<void> }[] = [
  {
    name: 'keys-customers-1',
    run: async (db) => {
      const cursor = customers(db).find(
        { deletion_key: LIVE },
        { projection: { _id: 1, organization_id: 1, external_id: 1 } },
      );
      for await (const c of cursor) await ensureKey(db, 'customer', c.organization_id, c.external_id, c._id);
    },
  },
  {
    name: 'keys-subscriptions-1',
    run: async (db) => {
      const cursor = subscriptions(db).find(
        {},
        { projection: { _id: 1, organization_id: 1, external_id: 1 } },
      );
      for await (const s of cursor)
        await ensureKey(db, 'subscription', s.organization_id, s.external_id, s._id);
    },
  },
  {
    name: 'sequence-tops-1',
    run: async (db) => {
      // FerretDB 1.24 has no `$max` accumulator in `$group`: one pass here instead.
      const tops = new Map<string, number>();
      for await (const slot of slots(db).find({}, { projection: { name: 1, value: 1 } }))
        tops.set(slot.name, Math.max(tops.get(slot.name) ?? 0, slot.value));
      for (const [name, value] of tops) await raiseSequenceTop(db, name, value);
    },
  },
  {
    // Counters from before slots: their hint takes their value, so the hot paths stop reading them
    // (issue #14: one find less per sequence taken or read).
    name: 'sequence-tops-2',
    run: async (db) => {
      let batch: { name: string; value: number }[] = [];
      for await (const counter of legacySequences(db).find({})) {
        batch.push({ name: counter._id, value: counter.value });
        if (batch.length === 1_000) {
          await raiseSequenceTops(db, batch);
          batch = [];
        }
      }
      await raiseSequenceTops(db, batch);
    },
  },
  {
    name: 'awaiting-markers-1',
    run: async (db) => {
      const cursor = events(db).find(
        { awaiting_subscription: true, delivered_at: null },
        { projection: { _id: 1, organization_id: 1, external_subscription_id: 1, created_at: 1 } },
      );
      for await (const e of cursor) await recordAwaitingEvents(db, [e]);
    },
  },
  {
    name: 'list-customers-1',
    run: async (db) => {
      // Entries for live customers; the deleted-customers sequence set so that created - deleted
      // (total_count) is the number of live customers now.
      const live = new Map<string, number>();
      const cursor = customers(db).find(
        {},
        { projection: { _id: 1, organization_id: 1, created_at: 1, deletion_key: 1 } },
      );
      for await (const c of cursor) {
        live.set(c.organization_id, (live.get(c.organization_id) ?? 0) + (c.deletion_key === LIVE ? 1 : 0));
        if (c.deletion_key !== LIVE) continue;
        await addListEntries(db, [
          { list: 'customers', scope: [c.organization_id], createdAt: c.created_at, itemId: c._id },
        ]);
      }
      for (const [organizationId, count] of live) {
        const created = await sequenceTop(db, `customer:${organizationId}`);
        if (created > count)
          await raiseSequenceTop(db, `customer-deleted:${organizationId}`, created - count);
      }
    },
  },
  {
    name: 'list-invoices-1',
    run: async (db) => {
      const counts = new Map<string, number>();
      const cursor = invoices(db).find(
        {},
        { projection: { _id: 1, organization_id: 1, external_customer_id: 1, created_at: 1 } },
      );
      for await (const inv of cursor) {
        await listStoredInvoice(db, inv);
        for (const name of [
          invoiceCountSequence(inv.organization_id),
          invoiceCountSequence(inv.organization_id, inv.external_customer_id),
        ])
          counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      for (const [name, count] of counts) await raiseSequenceTop(db, name, count);
    },
  },
  {
    name: 'list-subscriptions-1',
    run: async (db) => {
      for await (const s of subscriptions(db).find({}, { projection: { _id: 1 } }))
        await listSubscription(db, s._id);
    },
  },
  {
    name: 'list-wallets-1',
    run: async (db) => {
      const wallet = { _id: 1, organization_id: 1, customer_id: 1, created_at: 1 };
      for await (const w of wallets(db).find({}, { projection: wallet })) await listWallet(db, w);
      const tx = { _id: 1, wallet_id: 1, created_at: 1 };
      for await (const t of walletTransactions(db).find({}, { projection: tx }))
        await listWalletTransaction(db, t);
      const usage = { _id: 1, customer_id: 1 };
      for await (const u of ongoingUsage(db).find({}, { projection: usage })) await listOngoingUsage(db, u);
    },
  },
  {
    name: 'keys-catalog-1',
    run: async (db) => {
      const coded = { _id: 1, organization_id: 1, code: 1 };
      for await (const m of billableMetrics(db).find({ deletion_key: LIVE }, { projection: coded }))
        await ensureKey(db, 'metric', m.organization_id, m.code, m._id);
      for await (const p of plans(db).find({ deletion_key: LIVE }, { projection: coded }))
        await ensureKey(db, 'plan', p.organization_id, p.code, p._id);
    },
  },
  {
    name: 'list-events-1',
    run: async (db) => {
      let batch: EventDoc[] = [];
      for await (const e of events(db).find({})) {
        batch.push(e);
        if (batch.length < 500) continue;
        await listStoredEvents(db, batch);
        batch = [];
      }
      await listStoredEvents(db, batch);
    },
  },
];

/** Writes the key unless one exists: a key written since start-up is newer than this scan. */
async function ensureKey(
  db: Db,
  kind: KeyKind,
  organizationId: string,
  naturalKey: string,
  targetId: string,
) {
  await upsertRetryingDuplicate(() =>
    keys(db).updateOne(
      { _id: keyId(kind, organizationId, naturalKey) },
      {
        $setOnInsert: {
          kind,
          organization_id: organizationId,
          natural_key: naturalKey,
          target_id: targetId,
          created_at: new Date(),
        },
      },
      { upsert: true },
    ),
  );
}

export async function runMigrations(db: Db): Promise<string[]> {
  const done = db.collection<MigrationDoc>('migrations');
  const ran: string[] = [];
  for (const step of STEPS) {
    if (await done.findOne({ _id: step.name })) continue;
    await step.run(db);
    await upsertRetryingDuplicate(() =>
      done.updateOne({ _id: step.name }, { $setOnInsert: { done_at: new Date() } }, { upsert: true }),
    );
    ran.push(step.name);
  }
  return ran;
}
