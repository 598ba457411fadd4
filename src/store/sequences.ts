import type { Db } from 'mongodb';

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

const slots = (db: Db) => db.collection<SequenceSlotDoc>('sequence_slots');

export async function ensureSequenceIndexes(db: Db): Promise<void> {
  await slots(db).createIndex({ name: 1, value: -1 });
}

/**
 * Next value of a named counter (customer sequential ids, invoice numbers). Values are taken by
 * inserting `{name}#{value}`: the unique `_id` makes a value impossible to hand out twice, and a
 * caller that loses a race takes the next free one. (A `$inc` counter would be simpler, but FerretDB
 * does not apply concurrent updates of one document atomically: 200 parallel `$inc`s handed out 11
 * distinct values in test/integration/ferretdb-concurrency.test.ts.) Gap-free while nothing crashes
 * between taking a value and using it, as before.
 */
export async function nextSequence(db: Db, name: string): Promise<number> {
  const legacy = await db.collection<SequenceDoc>('sequences').findOne({ _id: name });
  for (let attempt = 1; ; attempt += 1) {
    const [top] = await slots(db).find({ name }).sort({ value: -1 }).limit(1).toArray();
    const value = Math.max(top?.value ?? 0, legacy?.value ?? 0) + 1;
    try {
      await slots(db).insertOne({ _id: `${name}#${value}`, name, value });
      return value;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      // Taken by a concurrent caller: look again after a random pause, so racers spread out.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }
}
