import type { Db } from 'mongodb';

interface SequenceDoc {
  _id: string;
  value: number;
}

/**
 * Next value of a named counter (customer sequential ids, invoice numbers per customer). An atomic
 * findOneAndUpdate with $inc: both MongoDB and FerretDB serialise it per document.
 */
export async function nextSequence(db: Db, name: string): Promise<number> {
  const doc = await db
    .collection<SequenceDoc>('sequences')
    .findOneAndUpdate({ _id: name }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' });
  if (!doc) throw new Error(`sequence ${name} did not return a value`);
  return doc.value;
}
