import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/store/database';
import { ensureIndexes } from '../src/store/indexes';
import { createActivities } from '../activities';

/** The prebuilt bundle (npm run build): the same file the replay tests use. */
export const WORKFLOW_BUNDLE = resolve(__dirname, '..', 'workflow-bundle.js');

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is required');
  if (!existsSync(WORKFLOW_BUNDLE)) throw new Error(`${WORKFLOW_BUNDLE} is missing: run npm run build`);
  const database = await connectDatabase(config.MONGODB_URI, config.MONGODB_DB);
  await ensureIndexes(database.db);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  // Activities that talk to other workflows (credit application asks the wallet workflows).
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
    activities: createActivities({ db: database.db, client }),
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    // SIGINT/SIGTERM: stop polling, let running tasks finish (Worker's default shutdown signals).
    shutdownGraceTime: '10s',
  });
  console.log(`[worker] polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
  await worker.run();
  await database.close();
  await connection.close();
  await clientConnection.close();
  console.log('[worker] stopped');
}

main().catch((err) => {
  console.error('[worker] failed:', err);
  process.exit(1);
});
