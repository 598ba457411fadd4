/**
 * History cost of seat events on the dev server with Temporal's default limits: 1,000 seat events in
 * batches of 10 (100 signals) stay in one run, far below the 4,096-event continue-as-new suggestion.
 * The measured length and size are printed for docs/operations.md.
 */
import { startStack, type Stack } from '../support/stack';
import { seat, seedSubscription } from '../support/billing-fixtures';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import { subscriptionQuery } from '../../src/temporal/messages';
import type { subscriptionWorkflow } from '../../workflows/subscription';

describe('history cost of seat events (default Temporal limits)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('takes 1,000 seat events in 10-event batches in one run', async () => {
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const fixture = await seedSubscription(stack.db, { externalId: 'busy_team', subscriptionAt: monthStart });
    const handle = await stack.env.client.workflow.start<typeof subscriptionWorkflow>(
      'subscriptionWorkflow',
      {
        taskQueue: stack.taskQueue,
        workflowId: subscriptionWorkflowId(fixture.organizationId, 'busy_team'),
        args: [fixture.input],
      },
    );
    const span = Math.max(1, Date.now() - monthStart - 60_000);
    for (let b = 0; b < 100; b++) {
      const batch = Array.from({ length: 10 }, (_, i) => {
        const n = b * 10 + i;
        return seat(
          `h${n}`,
          `user-${n % 400}`,
          n % 5 === 4 ? 'remove' : 'add',
          monthStart + Math.floor((span * n) / 1000),
        );
      });
      // Recorded already (as the API does), so the history holds signals only.
      await stack.env.client.workflow.getHandle(handle.workflowId).signal(
        'seatEvents',
        batch.map((e) => ({ ...e, recorded: true })),
      );
    }
    let view = await handle.query(subscriptionQuery);
    for (let i = 0; i < 100 && view.events_applied < 1000; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = await handle.query(subscriptionQuery);
    }
    expect(view.events_applied).toBe(1000);
    const described = await handle.describe();
    console.log(
      `[history] 1,000 seat events in 100 signals: ${described.historyLength} events, ${described.historySize} bytes, run ${described.runId === handle.firstExecutionRunId ? 'not continued' : 'continued as new'}`,
    );
    expect(described.runId).toBe(handle.firstExecutionRunId);
    expect(described.historyLength).toBeLessThan(4096);
  }, 120_000);
});
