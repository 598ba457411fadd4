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
