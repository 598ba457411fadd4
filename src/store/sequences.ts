import type { Db } from 'mongodb';
import { upsertRetryingDuplicate } from './database';

/** The legacy counter document (before slots); still read so numbering continues where it was. */
interface SequenceDoc {
  _id: string;
  value: number;
}

/** One taken value of a named sequence. Its `_id` is unique, so two callers can never take the same. */
interface SequenceSlotDoc {
  _id: string; // `{name}#{value}`
  name: string;
  value: number;
}

/**
 * The highest value known to be taken, per name: a hint read by `_id`, so taking the next value
 * needs no query over the slots (FerretDB on SQLite scans the whole collection for any filter other
 * than `_id`). Only the unique slot insert guarantees a value is taken once; a hint that lags (a
 * crash, or two updates at once, which FerretDB does not apply atomically) costs a few more probes.
 */
export interface SequenceTopDoc {
  _id: string; // name
  value: number;
}

export const slots = (db: Db) => db.collection<SequenceSlotDoc>('sequence_slots');
export const sequenceTops = (db: Db) => db.collection<SequenceTopDoc>('sequence_tops');

export async function ensureSequenceIndexes(db: Db): Promise<void> {
  await slots(db).createIndex({ name: 1, value: -1 });
}

/**
 * Next value of a named counter (customer sequential ids, invoice numbers). Values are taken by
 * inserting `{name}#{value}`: the unique `_id` makes a value impossible to hand out twice, and a
 * caller that loses a race probes the next one. (A `$inc` counter would be simpler, but FerretDB
 * does not apply concurrent updates of one document atomically: 200 parallel `$inc`s handed out 11
 * distinct values in test/integration/ferretdb-concurrency.test.ts.) The first value tried comes
 * from `sequence_tops` (the migration `sequence-tops-1` wrote it for sequences older than it).
 * Gap-free while nothing crashes between taking a value and using it, as before.
 */
export async function nextSequence(db: Db, name: string): Promise<number> {
  const [legacy, top] = await Promise.all([
    db.collection<SequenceDoc>('sequences').findOne({ _id: name }),
    sequenceTops(db).findOne({ _id: name }),
  ]);
  let value = Math.max(top?.value ?? 0, legacy?.value ?? 0) + 1;
  for (;;) {
    try {
      await slots(db).insertOne({ _id: `${name}#${value}`, name, value });
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      value += 1; // taken by a concurrent caller (or the hint lags): probe the next one
    }
  }
  await raiseSequenceTop(db, name, value);
  return value;
}

/** `$max` upsert of the hint; two first upserts at once: one inserts, the other updates on retry. */
export async function raiseSequenceTop(db: Db, name: string, value: number): Promise<void> {
  await upsertRetryingDuplicate(() =>
    sequenceTops(db).updateOne({ _id: name }, { $max: { value } }, { upsert: true }),
  );
}

/** The highest value taken so far (0 when none): a point read of the hint, for counts. */
export async function sequenceTop(db: Db, name: string): Promise<number> {
  const [legacy, top] = await Promise.all([
    db.collection<SequenceDoc>('sequences').findOne({ _id: name }),
    sequenceTops(db).findOne({ _id: name }),
  ]);
  return Math.max(top?.value ?? 0, legacy?.value ?? 0);
}
