import { MongoClient, type AnyBulkWriteOperation, type Collection, type Db, type Document } from 'mongodb';

export interface Database {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/**
 * One MongoClient per process. Short server-selection timeout so a dead database turns into a
 * quick 503 rather than a hung request.
 */
export async function connectDatabase(uri: string, dbName: string): Promise<Database> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000 });
  await client.connect();
  const db = client.db(dbName);
  return { client, db, close: () => client.close() };
}

export async function pingDatabase(db: Db): Promise<void> {
  await db.command({ ping: 1 });
}

/**
 * A unique-index violation. MongoDB and FerretDB answer 11000 to inserts and upserts, but FerretDB
 * 1.24 (SQLite) answers an update that breaks a unique index with code 1 (InternalError) and
 * SQLite's "UNIQUE constraint failed" message.
 */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; message?: string } | null;
  return e?.code === 11000 || (e?.code === 1 && /UNIQUE constraint failed/.test(e.message ?? ''));
}

/**
 * Most operations sent in one bulk write. FerretDB 1.24 on SQLite never answers an update or delete
 * command carrying 100 or more statements (measured: 99 answered in 0.3 s, 100 hung until the client
 * gave up, and held SQLite's write lock meanwhile); MongoDB takes 100,000. 50 stays well clear.
 */
export const MAX_BULK_OPERATIONS = 50;

/** An unordered bulk write, sent `MAX_BULK_OPERATIONS` statements at a time. */
export async function bulkWriteInChunks<T extends Document>(
  collection: Collection<T>,
  operations: AnyBulkWriteOperation<T>[],
): Promise<void> {
  for (let i = 0; i < operations.length; i += MAX_BULK_OPERATIONS)
    await collection.bulkWrite(operations.slice(i, i + MAX_BULK_OPERATIONS), { ordered: false });
}
