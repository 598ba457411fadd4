import { MongoClient, type AnyBulkWriteOperation, type Collection, type Db, type Document } from 'mongodb';

export interface Database {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/**
 * Connections per process unless MONGODB_URI sets `maxPoolSize`: FerretDB (SQLite) deadlocks when
 * its 100 SQLite connections are all held by in-flight updates (each holds two), so the API, the
 * worker and a tool together stay below 50 commands at once. Raise it in the URI on real MongoDB.
 */
export const DEFAULT_MAX_POOL_SIZE = 16;

/**
 * One MongoClient per process. Short server-selection timeout so a dead database turns into a
 * quick 503 rather than a hung request.
 */
export async function connectDatabase(uri: string, dbName: string): Promise<Database> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    ...(/[?&]maxPoolSize=/i.test(uri) ? {} : { maxPoolSize: DEFAULT_MAX_POOL_SIZE }),
  });
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
 * Statements per write command. FerretDB 1.24 (SQLite) keeps one pooled SQLite connection open for
 * every statement of an update or delete command until the whole command ends, and needs one more
 * to write; its pool holds 100. So one command of 100 statements never answers (measured: 99 took
 * 0.3 s, 100 hung and held the write lock), nor do two concurrent commands of 50. One statement per
 * command, with `maxPoolSize` (connectDatabase) bounding how many run at once, cannot starve it.
 */
export const MAX_BULK_OPERATIONS = 1;

/** How many of those single-statement commands one call keeps in flight. */
const WRITE_PARALLELISM = 8;

/**
 * Unordered writes, each sent as its own command (`MAX_BULK_OPERATIONS`), `WRITE_PARALLELISM` at a
 * time. Use with filters on bare `_id`, which FerretDB serves from its index.
 */
export async function writeOneByOne<T extends Document>(
  collection: Collection<T>,
  operations: AnyBulkWriteOperation<T>[],
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(WRITE_PARALLELISM, operations.length) }, async () => {
      while (next < operations.length) {
        const operation = operations[next++]!;
        await retryWhileBusy(() => collection.bulkWrite([operation], { ordered: false }));
      }
    }),
  );
}

/**
 * FerretDB on SQLite (WAL) answers SQLITE_BUSY at once, without waiting, when another writer
 * committed while an update waited for the write lock. The write did not happen: it is tried again
 * after a short random pause (idempotent writes only), up to `attempts` times.
 */
export async function retryWhileBusy<T>(write: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= attempts || !isSqliteBusy(err)) throw err;
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * Math.min(attempt, 5)));
    }
  }
}

export function isSqliteBusy(err: unknown): boolean {
  return /SQLITE_BUSY|database is locked/.test((err as { message?: string } | null)?.message ?? '');
}
