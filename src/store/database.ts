import { MongoClient, type Db } from 'mongodb';

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
