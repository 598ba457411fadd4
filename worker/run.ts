import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, webhookDestinationPolicy } from '../src/config';
import { describeDestinationPolicy } from '../src/webhooks/destination-guard';
import { connectDatabase } from '../src/store/database';
import { ensureIndexes } from '../src/store/indexes';
import { createActivities, type ActivityDeps } from '../activities';

/** The prebuilt bundle (npm run build): the same file the replay tests use. */
export const WORKFLOW_BUNDLE = resolve(__dirname, '..', 'workflow-bundle.js');

export interface WorkerOptions {
  /** A prebuilt workflow bundle (default: prorata's own). */
  workflowBundlePath?: string;
  /** Activities registered beside prorata's (the benchmarks' baselines). */
  extraActivities?: (deps: ActivityDeps) => Record<string, (...args: never[]) => Promise<unknown>>;
}

/**
 * Runs a prorata worker until SIGINT/SIGTERM: MongoDB and Temporal from the environment
 * (src/config.ts), the workflow bundle, prorata's activities. worker/main.ts runs it as shipped.
 */
export async function runWorker(options: WorkerOptions = {}): Promise<void> {
  const config = loadConfig();
  const bundle = options.workflowBundlePath ?? WORKFLOW_BUNDLE;
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is required');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`);
  const database = await connectDatabase(config.MONGODB_URI, config.MONGODB_DB, { replaceStuckClient: true });
  await ensureIndexes(database.db);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  // Activities that talk to other workflows (credit application asks the wallet workflows).
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const webhookDestinations = webhookDestinationPolicy(config);
  const deps: ActivityDeps = { db: database.db, client, webhookDestinations, apiUrl: config.PRORATA_API_URL };
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: { codePath: bundle },
    activities: { ...createActivities(deps), ...options.extraActivities?.(deps) },
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    // SIGINT/SIGTERM: stop polling, let running tasks finish (Worker's default shutdown signals).
    shutdownGraceTime: '10s',
  });
  console.log(`[worker] polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
  console.log(`[worker] ${describeDestinationPolicy(webhookDestinations)}`);
  await worker.run();
  await database.close();
  await connection.close();
  await clientConnection.close();
  console.log('[worker] stopped');
}
