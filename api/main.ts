import { loadConfig, webhookDestinationPolicy } from '../src/config';
import { describeDestinationPolicy } from '../src/webhooks/destination-guard';
import { connectDatabase } from '../src/store/database';
import { ensureIndexes } from '../src/store/indexes';
import { connectTemporal } from '../src/temporal/connection';
import { createApp } from './app';
import { listen } from './server';
import { EventDelivery } from './event-delivery';
import { describeRateLimits, rateLimitsOf } from './rate-limit';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is required');
  const database = await connectDatabase(config.MONGODB_URI, config.MONGODB_DB, { replaceStuckClient: true });
  await ensureIndexes(database.db);
  const temporal = await connectTemporal(config);
  const eventDelivery = new EventDelivery(database.db, temporal.client, config.TEMPORAL_TASK_QUEUE);
  const stopReconciler = eventDelivery.startReconciler();
  const webhookDestinations = webhookDestinationPolicy(config);
  const rateLimits = rateLimitsOf(config);
  const app = createApp({
    db: database.db,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    eventDelivery,
    webhookDestinations,
    rateLimits,
  });
  const server = await listen(app, config.PORT, config.HOST);
  console.log(`[api] listening on http://${config.HOST}:${config.PORT}`);
  console.log(`[api] ${describeDestinationPolicy(webhookDestinations)}`);
  console.log(`[api] ${describeRateLimits(rateLimits)}`);
  const shutdown = (signal: string) => {
    console.log(`[api] ${signal}: closing`);
    stopReconciler();
    server.close(async () => {
      await eventDelivery.close();
      await database.close();
      await temporal.connection.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error('[api] failed to start:', err);
  process.exit(1);
});
