/**
 * The whole prorata stack for integration and end-to-end tests, on real services: the Temporal dev
 * server, FerretDB, a worker running the shipped workflow bundle with the real activities, and the
 * API on a free port. Nothing is mocked.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from 'mongodb';
import { createApp } from '../../api/app';
import { listen } from '../../api/server';
import { EventDelivery, type EventDeliveryOptions } from '../../api/event-delivery';
import { NO_RATE_LIMITS, type RateLimits } from '../../api/rate-limit';
import { createActivities } from '../../activities';
import { ensureIndexes } from '../../src/store/indexes';
import { createOrganization } from '../../src/store/organizations';
import { startDevServerEnv, startMongo, type TestMongo } from './services';
import { ANY_DESTINATION, type WebhookDestinationPolicy } from '../../src/webhooks/destination-guard';

/** The bundle `npm run build` ships (npm test builds it first); bundled on the fly when absent. */
export const SHIPPED_BUNDLE = join(__dirname, '..', '..', 'dist', 'workflow-bundle.js');

export function workflowCode(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  return existsSync(SHIPPED_BUNDLE)
    ? { workflowBundle: { codePath: SHIPPED_BUNDLE } }
    : { workflowsPath: require.resolve('../../workflows') };
}

export interface Stack {
  env: TestWorkflowEnvironment;
  mongo: TestMongo;
  db: Db;
  taskQueue: string;
  baseUrl: string;
  apiKey: string;
  organizationId: string;
  eventDelivery: EventDelivery;
  /** Starts a (new) worker; `stopWorker` stops it. */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  dynamicConfig?: Record<string, string | number | boolean>;
  /**
   * Where webhooks may go. By default any address, as PRORATA_WEBHOOK_ALLOW_PRIVATE=1 allows: the
   * tests' receivers listen on 127.0.0.1.
   */
  webhookDestinations?: WebhookDestinationPolicy;
  /** Off by default: the tests send requests as fast as they can. */
  rateLimits?: RateLimits;
  /** The deliverer's clock and yield delay (its defaults otherwise). */
  eventDelivery?: EventDeliveryOptions;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const webhookDestinations = options.webhookDestinations ?? ANY_DESTINATION;
  const [env, mongo] = await Promise.all([startDevServerEnv(options.dynamicConfig), startMongo()]);
  const db = mongo.database.db;
  await ensureIndexes(db);
  const taskQueue = 'prorata-test';
  let worker: Worker | null = null;
  let running: Promise<void> | null = null;

  async function startWorker() {
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      ...workflowCode(),
      activities: createActivities({ db, client: env.client, webhookDestinations }),
    });
    running = worker.run();
  }
  async function stopWorker() {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    worker = null;
  }
  await startWorker();

  const temporal = { client: env.client, connection: env.connection };
  const eventDelivery = new EventDelivery(db, env.client, taskQueue, options.eventDelivery);
  const app = createApp({
    db,
    temporal,
    taskQueue,
    eventDelivery,
    webhookDestinations,
    rateLimits: options.rateLimits ?? NO_RATE_LIMITS,
  });
  const server: Server = await listen(app, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  const { organization, apiKey } = await createOrganization(db, 'Acme Billing');

  return {
    env,
    mongo,
    db,
    taskQueue,
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    apiKey,
    organizationId: organization._id,
    eventDelivery,
    startWorker,
    stopWorker,
    async stop() {
      await new Promise((ok) => server.close(() => ok(undefined)));
      await eventDelivery.close();
      await stopWorker().catch(() => undefined);
      await Promise.allSettled([env.teardown(), mongo.stop()]);
    },
  };
}
