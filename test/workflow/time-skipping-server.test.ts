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

  // `npm run test:dates` moves every clock to an instant: both Node's and the Java server's must
  // read it, or the run proves nothing about that date.
  const instant = process.env.PRORATA_TEST_INSTANT;
  (instant ? it : it.skip)(
    `runs with Node's and the server's clocks at ${instant ?? 'the set instant'}`,
    async () => {
      const at = Date.parse(instant!);
      const nearby = 30 * 60_000; // this run started at the instant, minutes ago
      expect(Math.abs(Date.now() - at)).toBeLessThan(nearby);
      // The server started at its own (moved) clock; it skips time only while workflows wait, so this
      // runs before the month-long sleep below.
      expect(Math.abs((await env.currentTimeMs()) - at)).toBeLessThan(nearby);
    },
  );

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
