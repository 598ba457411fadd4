/**
 * The subscription workflow on the real Temporal dev server with the real worker and FerretDB:
 * continue-as-new keeps the state exactly, a worker restart loses nothing, search attributes are
 * listable. With SAVE_HISTORIES=1 the runs are saved under test/histories/ for the replay test.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startStack, type Stack } from '../support/stack';
import {
  seat,
  seedSubscription,
  simulateFixture,
  type SubscriptionFixture,
} from '../support/billing-fixtures';
import { lagoCustomerUsage } from '../../src/billing/lago-shapes';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import { sendSeatEvents, type DirectSeatEvent } from '../../src/temporal/seat-events';
import { currentUsageQuery } from '../../src/temporal/messages';
import { customerIdKey, planCodeKey, subscriptionStatusKey } from '../../src/temporal/search-attributes';
import type { subscriptionWorkflow } from '../../workflows/subscription';

const HISTORIES = join(__dirname, '..', 'histories');

async function saveHistory(client: Client, workflowId: string, runId: string, name: string): Promise<void> {
  if (!process.env.SAVE_HISTORIES) return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  mkdirSync(HISTORIES, { recursive: true });
  writeFileSync(join(HISTORIES, `${name}.json`), historyToJSON(history));
}

describe('subscription workflow on the dev server', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A tiny continue-as-new threshold, so a few dozen signals force several runs.
    stack = await startStack({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function start(fixture: SubscriptionFixture) {
    const handle = await stack.env.client.workflow.start<typeof subscriptionWorkflow>(
      'subscriptionWorkflow',
      {
        taskQueue: stack.taskQueue,
        workflowId: subscriptionWorkflowId(fixture.organizationId, fixture.input.subscription.externalId),
        args: [fixture.input],
        typedSearchAttributes: [
          { key: customerIdKey, value: fixture.input.subscription.externalCustomerId },
          { key: planCodeKey, value: fixture.input.subscription.planCode },
          { key: subscriptionStatusKey, value: 'active' },
        ],
      },
    );
    return handle;
  }

  function expectedUsage(fixture: SubscriptionFixture, events: DirectSeatEvent[]) {
    return lagoCustomerUsage(
      simulateFixture(fixture, events, Date.now()).currentUsage!,
      fixture.input.terms.metrics,
    );
  }

  async function usageWhen(handle: WorkflowHandle<typeof subscriptionWorkflow>, eventsCount: number) {
    for (let i = 0; i < 100; i++) {
      const usage = await handle.query(currentUsageQuery);
      if (usage?.charges_usage[0]?.events_count === eventsCount) return usage;
      await new Promise((r) => setTimeout(r, 100));
    }
    return handle.query(currentUsageQuery);
  }

  it('keeps its state exactly across continue-as-new (usage before == after == simulate)', async () => {
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const fixture = await seedSubscription(stack.db, { externalId: 'can_team', subscriptionAt: monthStart });
    const handle = await start(fixture);
    const firstRunId = handle.firstExecutionRunId;
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'can_team' };
    const sent: DirectSeatEvent[] = [];
    const span = Math.max(1, Date.now() - monthStart - 60_000);
    for (let i = 0; i < 60; i++) {
      const batch = [
        seat(`c${i}`, `u${i % 7}`, i % 3 === 2 ? 'remove' : 'add', monthStart + Math.floor((span * i) / 60)),
      ];
      sent.push(...batch);
      await sendSeatEvents(stack.env.client, target, batch);
      if (i === 14) {
        const before = await usageWhen(handle, 15);
        expect(before).toEqual(expectedUsage(fixture, sent));
      }
    }
    const after = await usageWhen(handle, 60);
    expect(after).toEqual(expectedUsage(fixture, sent));
    let described = await handle.describe();
    for (let i = 0; i < 50 && described.runId === firstRunId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      described = await handle.describe();
    }
    expect(described.runId).not.toBe(firstRunId); // it did continue as new
    expect(await handle.query(currentUsageQuery)).toEqual(after);
    await saveHistory(stack.env.client, handle.workflowId, firstRunId, 'subscription-continued-as-new');
    await saveHistory(
      stack.env.client,
      handle.workflowId,
      described.runId,
      'subscription-after-continue-as-new',
    );
  }, 120_000);

  it('loses nothing when the worker stops mid-period: signals wait, the restarted worker applies them', async () => {
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const fixture = await seedSubscription(stack.db, {
      externalId: 'restart_team',
      subscriptionAt: monthStart,
    });
    const handle = await start(fixture);
    const target = { organizationId: fixture.organizationId, externalSubscriptionId: 'restart_team' };
    const first = [seat('r1', 'u1', 'add', monthStart + 3_600_000)];
    await sendSeatEvents(stack.env.client, target, first);
    await usageWhen(handle, 1);

    await stack.stopWorker();
    const whileDown = [
      seat('r2', 'u2', 'add', monthStart + 2 * 3_600_000),
      seat('r3', 'u1', 'remove', Date.now() - 1000),
    ];
    await sendSeatEvents(stack.env.client, target, whileDown); // accepted by the server, no worker needed
    await stack.startWorker();

    const usage = await usageWhen(handle, 3);
    expect(usage).toEqual(expectedUsage(fixture, [...first, ...whileDown]));
    await saveHistory(
      stack.env.client,
      handle.workflowId,
      handle.firstExecutionRunId,
      'subscription-worker-restart',
    );
  }, 120_000);

  it('is listable by its custom search attributes', async () => {
    const fixture = await seedSubscription(stack.db, {
      externalId: 'listed_team',
      subscriptionAt: Date.now() - 1000,
    });
    await start(fixture);
    const query = `CustomerId = '${fixture.input.subscription.externalCustomerId}' AND PlanCode = 'team' AND SubscriptionStatus = 'active'`;
    let ids: string[] = [];
    for (let i = 0; i < 50 && ids.length === 0; i++) {
      ids = [];
      for await (const wf of stack.env.client.workflow.list({ query })) ids.push(wf.workflowId);
      if (ids.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ids).toEqual([subscriptionWorkflowId(fixture.organizationId, 'listed_team')]);
  }, 60_000);
});
