import type { WorkflowHandle } from '@temporalio/client';
import type { ApiDeps } from './app';
import { serviceUnavailable, ApiError } from './errors';
import { subscriptions, type SubscriptionDoc } from '../src/store/subscriptions';
import { findCustomer } from '../src/store/customers';
import { findPlanWithMetrics } from '../src/store/plans';
import { customerIdKey, planCodeKey, subscriptionStatusKey } from '../src/temporal/search-attributes';
import { endingAtSignal, planChangedSignal, terminateUpdate } from '../src/temporal/messages';
import { buildSubscriptionWorkflowInput } from '../src/temporal/subscription-input';
import type { subscriptionWorkflow } from '../workflows/subscription';

/** How long the API waits for a worker to carry out a termination before answering 503. */
const UPDATE_TIMEOUT_MS = 30_000;

function unavailable(err: unknown): never {
  if (err instanceof ApiError) throw err;
  throw serviceUnavailable(
    'temporal_unavailable',
    `the billing engine did not answer: ${(err as Error).message}`,
  );
}

/** Starts (or finds, USE_EXISTING) the subscription's workflow. */
export async function startSubscriptionWorkflow(deps: ApiDeps, sub: SubscriptionDoc): Promise<void> {
  const [customer, plan] = await Promise.all([
    findCustomer(deps.db, sub.organization_id, sub.external_customer_id),
    findPlanWithMetrics(deps.db, sub.organization_id, sub.plan_code),
  ]);
  if (!customer || !plan) throw new Error(`subscription ${sub._id}: customer or plan vanished`);
  try {
    await deps.temporal.client.workflow.start<typeof subscriptionWorkflow>('subscriptionWorkflow', {
      workflowId: sub.workflow_id,
      taskQueue: deps.taskQueue,
      args: [buildSubscriptionWorkflowInput(sub, customer, plan)],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: customerIdKey, value: sub.external_customer_id },
        { key: planCodeKey, value: sub.plan_code },
        { key: subscriptionStatusKey, value: sub.status },
      ],
      staticSummary: `Subscription ${sub.external_id} of ${sub.external_customer_id} on plan ${sub.plan_code}`,
    });
  } catch (err) {
    unavailable(err);
  }
}

function handleOf(deps: ApiDeps, sub: SubscriptionDoc): WorkflowHandle<typeof subscriptionWorkflow> {
  return deps.temporal.client.workflow.getHandle<typeof subscriptionWorkflow>(sub.workflow_id);
}

/**
 * Terminates through the workflow (which bills the final invoice and projects the new status), then
 * returns the subscription as stored.
 */
export async function terminateSubscriptionWorkflow(
  deps: ApiDeps,
  sub: SubscriptionDoc,
  terminatedAt?: Date,
): Promise<SubscriptionDoc> {
  try {
    await deps.temporal.client.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () =>
      handleOf(deps, sub).executeUpdate(terminateUpdate, {
        args: [terminatedAt ? { terminated_at: terminatedAt.getTime() } : {}],
        updateId: `terminate:${sub._id}`,
      }),
    );
  } catch (err) {
    unavailable(err);
  }
  return (await subscriptions(deps.db).findOne({ _id: sub._id })) ?? sub;
}

export async function changeSubscriptionEnd(
  deps: ApiDeps,
  sub: SubscriptionDoc,
  endingAt: Date | null,
): Promise<void> {
  try {
    await handleOf(deps, sub).signal(endingAtSignal, { ending_at: endingAt ? endingAt.getTime() : null });
  } catch (err) {
    unavailable(err);
  }
}

/** A plan was updated: its live subscriptions reload it from their next period. */
export async function notifyPlanChanged(
  deps: ApiDeps,
  organizationId: string,
  planCode: string,
): Promise<void> {
  const subs = await subscriptions(deps.db)
    .find({ organization_id: organizationId, plan_code: planCode, status: { $in: ['active', 'pending'] } })
    .toArray();
  for (const sub of subs) {
    try {
      await handleOf(deps, sub).signal(planChangedSignal);
    } catch (err) {
      unavailable(err);
    }
  }
}

/** A customer was deleted: its subscriptions are terminated (each with its final invoice). */
export async function terminateCustomerSubscriptions(
  deps: ApiDeps,
  organizationId: string,
  externalCustomerId: string,
): Promise<void> {
  const subs = await subscriptions(deps.db)
    .find({
      organization_id: organizationId,
      external_customer_id: externalCustomerId,
      status: { $in: ['active', 'pending'] },
    })
    .toArray();
  for (const sub of subs) await terminateSubscriptionWorkflow(deps, sub);
}
