/**
 * The frame of a time-skipping workflow suite: Temporal's time-skipping server and a FerretDB for the
 * whole file, a fresh worker per test with the real activities, and every workflow a test started
 * terminated after it (a workflow left running without a worker would hold the server's clock).
 * Call once at the top of a `describe`; the hooks it registers run before the file's own.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { startMongo, startTimeSkippingEnv, type TestMongo } from './services';
import { workflowCode } from './stack';
import type { SubscriptionFixture } from './billing-fixtures';
import { createActivities } from '../../activities';
import { ensureIndexes } from '../../src/store/indexes';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import type { subscriptionWorkflow } from '../../workflows/subscription';

export interface TimeSkippingSuite {
  readonly env: TestWorkflowEnvironment;
  readonly db: Db;
  /** Runs `fn` with a worker on `queue` (the real activities unless given). */
  runWorker(queue: string, fn: () => Promise<void>, activities?: object): Promise<void>;
  /** Advances the server's time to `at` (epoch ms). */
  sleepUntil(at: number): Promise<void>;
  /** Terminates this workflow after the test. */
  terminateAfterTest(workflowId: string): void;
  /** Starts the subscription's workflow (terminated after the test). */
  startSubscription(
    fixture: SubscriptionFixture,
    queue: string,
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof subscriptionWorkflow>>;
}

export function timeSkippingSuite(): TimeSkippingSuite {
  let env: TestWorkflowEnvironment | undefined;
  let mongo: TestMongo | undefined;
  const started: string[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the time-skipping suite is not started (beforeAll)');
    return value;
  };

  beforeAll(async () => {
    [env, mongo] = await Promise.all([startTimeSkippingEnv(), startMongo()]);
    await ensureIndexes(mongo.database.db);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([env?.teardown(), mongo?.stop()]);
  });
  afterEach(async () => {
    for (const id of started.splice(0))
      await ready(env)
        .client.workflow.getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
  });

  const suite: TimeSkippingSuite = {
    get env() {
      return ready(env);
    },
    get db() {
      return ready(mongo).database.db;
    },
    async runWorker(queue, fn, activities) {
      const worker = await Worker.create({
        connection: suite.env.nativeConnection,
        taskQueue: queue,
        ...workflowCode(),
        activities: activities ?? createActivities({ db: suite.db, client: suite.env.client }),
      });
      await worker.runUntil(fn);
    },
    async sleepUntil(at) {
      const now = await suite.env.currentTimeMs();
      if (at > now) await suite.env.sleep(at - now);
    },
    terminateAfterTest(workflowId) {
      started.push(workflowId);
    },
    startSubscription(fixture, queue) {
      const workflowId = subscriptionWorkflowId(
        fixture.organizationId,
        fixture.input.subscription.externalId,
      );
      started.push(workflowId);
      return suite.env.client.workflow.start<typeof subscriptionWorkflow>('subscriptionWorkflow', {
        taskQueue: queue,
        workflowId,
        args: [fixture.input],
      });
    },
  };
  return suite;
}
