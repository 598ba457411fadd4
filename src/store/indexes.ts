import type { Db } from 'mongodb';
import { ensureEventIndexes } from './events';
import { ensureSubscriptionIndexes } from './subscriptions';
import { ensureInvoiceIndexes } from './invoices';
import { ensureBillableMetricIndexes } from './billable-metrics';
import { ensurePlanIndexes } from './plans';
import { ensureCustomerIndexes } from './customers';
import { ensureWebhookEndpointIndexes } from './webhook-endpoints';
import { ensureWalletIndexes } from './wallets';
import { ensureSequenceIndexes } from './sequences';
import { runMigrations } from './migrations';

/**
 * Every index prorata relies on, created idempotently at start-up (API and worker), then the
 * one-time migrations (`src/store/migrations.ts`) that hot paths need before they serve. Only plain
 * and unique compound indexes: FerretDB 1.24 has no partial, sparse or TTL indexes.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  await db.collection('api_keys').createIndex({ organization_id: 1 });
  await ensureEventIndexes(db);
  await ensureSubscriptionIndexes(db);
  await ensureInvoiceIndexes(db);
  await ensureBillableMetricIndexes(db);
  await ensurePlanIndexes(db);
  await ensureCustomerIndexes(db);
  await ensureWebhookEndpointIndexes(db);
  await ensureWalletIndexes(db);
  await ensureSequenceIndexes(db);
  await runMigrations(db);
}
