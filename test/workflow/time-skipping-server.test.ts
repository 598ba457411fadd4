import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkippingEnv } from '../support/services';
import { sleepUntil } from './fixtures/month-sleeper';

describe('Temporal time-skipping test server (Java, built locally)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await startTimeSkippingEnv();
  }, 60_000);
  afterAll(async () => {
    await env?.teardown();
  });

  it('sleeps through a whole calendar month in seconds of real time', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'month',
      workflowsPath: require.resolve('./fixtures/month-sleeper'),
    });
    const start = await env.currentTimeMs();
    const d = new Date(start);
    const endOfNextMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 2, 1);
    const realStart = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute(sleepUntil, {
        taskQueue: 'month',
        workflowId: 'month-sleeper',
        args: [endOfNextMonth],
      }),
    );
    expect(result.wokeAt - result.startedAt).toBeGreaterThanOrEqual(28 * 24 * 3600 * 1000);
    expect(result.wokeAt).toBeGreaterThanOrEqual(endOfNextMonth);
    expect(Date.now() - realStart).toBeLessThan(60_000);
  }, 120_000);
});
