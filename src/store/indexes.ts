import type { Db } from 'mongodb';

/**
 * Every index prorata relies on, created idempotently at start-up (API and worker). Only plain and
 * unique compound indexes: FerretDB 1.24 has no partial, sparse or TTL indexes.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  await db.collection('api_keys').createIndex({ organization_id: 1 });
}
