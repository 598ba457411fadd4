/**
 * Plan changes through Lago's `POST /subscriptions` (SPEC section 8, docs/plan-changes.md): the
 * external id's active subscription and a new plan make a new subscription, stored here, then
 * carried by the same workflow (`planChangeUpdate`): an upgrade switches at once (the old one
 * billed and terminated), a downgrade is `pending` until the end of the current period.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApiDeps } from './app';
import { serviceUnavailable, validationErrors } from './errors';
import { billingSnapshotOf } from '../src/contracts/billing-snapshot';
import { currentBillingPeriod } from '../src/billing/billing-period';
import { scheduleOf } from '../src/billing/billing-cycle';
import { localDateOf } from '../src/billing/local-time';
import { planChangeKind } from '../src/billing/plan-change';
import { findCustomer, type CustomerDoc } from '../src/store/customers';
import { findPlanWithMetrics, type PlanWithMetrics } from '../src/store/plans';
import { pointKey } from '../src/store/keys';
import { stableUuid } from '../src/store/stable-uuid';
import {
  findSubscriptionWithStatus,
  insertPlanChange,
  subscriptions,
  type SubscriptionDoc,
} from '../src/store/subscriptions';
import { planChangeUpdate } from '../src/temporal/messages';
import { buildSubscriptionWorkflowInput } from '../src/temporal/subscription-input';
import type { subscriptionWorkflow } from '../workflows/subscription';

/** How long the API waits for the workflow to bill an upgrade before answering 503. */
const UPDATE_TIMEOUT_MS = 30_000;

export interface PlanChangeInput {
  name?: string | null;
  ending_at?: string | null;
}

/**
 * Changes the plan of `newest` (the external id's newest subscription, with another plan than
 * `target`) and returns the new subscription as stored. 422 when there is no active subscription
 * to change, or a downgrade is already waiting.
 */
export async function changeSubscriptionPlan(
  deps: ApiDeps,
  newest: SubscriptionDoc,
  target: PlanWithMetrics,
  input: PlanChangeInput,
): Promise<SubscriptionDoc> {
  const { db } = deps;
  const active = await findSubscriptionWithStatus(db, newest.organization_id, newest.external_id, ['active']);
  if (!active) throw validationErrors({ plan_code: ['no_active_subscription'] });
  if (newest._id !== active._id) throw validationErrors({ plan_code: ['plan_change_already_pending'] });
  const [customer, current] = await Promise.all([
    findCustomer(db, active.organization_id, active.external_customer_id),
    findPlanWithMetrics(db, active.organization_id, active.plan_code),
  ]);
  const from = current ? billingSnapshotOf(current) : null;
  const to = billingSnapshotOf(target);
  if (!customer || !from?.ok || !to.ok) throw validationErrors({ plan_code: ['plan_change_not_billable'] });
  if (to.plan.currency !== from.plan.currency)
    throw validationErrors({ plan_code: ['currencies_does_not_match'] });
  const kind = planChangeKind(from.plan, to.plan);
  const now = new Date();
  const doc = newSubscription(active, customer, target, kind, input, now);

  const stored = await insertPlanChange(db, doc);
  if (kind === 'downgrade' && active.current_billing_period_ending_at) {
    const { terms } = buildSubscriptionWorkflowInput(active, customer, current as PlanWithMetrics);
    await subscriptions(db).updateOne(
      { _id: active._id },
      {
        $set: {
          next_plan_code: target.plan.code,
          downgrade_plan_date: localDateOf(active.current_billing_period_ending_at.getTime(), terms.timeZone),
          updated_at: now,
        },
      },
    );
  }
  try {
    await deps.temporal.client.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () =>
      deps.temporal.client.workflow
        .getHandle<typeof subscriptionWorkflow>(active.workflow_id)
        .executeUpdate(planChangeUpdate, {
          args: [
            {
              kind,
              subscription_id: stored._id,
              plan: { plan: to.plan, metrics: to.metrics },
              ending_at: stored.ending_at ? stored.ending_at.getTime() : null,
              at: now.getTime(),
            },
          ],
          updateId: `plan-change:${stored._id}`,
        }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      // The workflow refused (it had just ended, or another change ran first): undo, nothing stored.
      await undo(deps, active, stored);
      throw validationErrors({ plan_code: ['plan_change_refused'] });
    }
    throw serviceUnavailable(
      'temporal_unavailable',
      `the billing engine did not answer: ${(err as Error).message}`,
    );
  }
  return (await subscriptions(db).findOne({ _id: stored._id })) ?? stored;
}

async function undo(deps: ApiDeps, active: SubscriptionDoc, created: SubscriptionDoc): Promise<void> {
  await pointKey(deps.db, 'subscription', active.organization_id, active.external_id, active._id);
  await subscriptions(deps.db).deleteOne({ _id: created._id });
  await subscriptions(deps.db).updateOne(
    { _id: active._id },
    { $set: { next_plan_code: null, downgrade_plan_date: null } },
  );
}

/**
 * The subscription a plan change creates (Lago keeps `external_id`, `subscription_at` and
 * `billing_time`); its `_id` is derived from the change, so a retry stores it once.
 */
function newSubscription(
  active: SubscriptionDoc,
  customer: CustomerDoc,
  target: PlanWithMetrics,
  kind: 'upgrade' | 'downgrade',
  input: PlanChangeInput,
  now: Date,
): SubscriptionDoc {
  const upgrade = kind === 'upgrade';
  const doc: SubscriptionDoc = {
    ...active,
    _id: stableUuid(JSON.stringify(['plan-change', active._id, target.plan._id])),
    plan_id: target.plan._id,
    plan_code: target.plan.code,
    name: input.name ?? active.name,
    status: upgrade ? 'active' : 'pending',
    started_at: upgrade ? now : null,
    ending_at: input.ending_at ? new Date(input.ending_at) : null,
    terminated_at: null,
    canceled_at: null,
    created_at: now,
    updated_at: now,
    current_billing_period_started_at: null,
    current_billing_period_ending_at: null,
    active_units: upgrade ? active.active_units : {},
    previous_subscription_id: active._id,
    previous_plan_code: active.plan_code,
    next_plan_code: null,
    downgrade_plan_date: null,
  };
  delete doc.projected_at;
  if (upgrade) {
    // The new subscription's first period ends with the old one's (same anchor); the workflow
    // projects the same once it has switched.
    const { terms } = buildSubscriptionWorkflowInput(doc, customer, target);
    const period = currentBillingPeriod(scheduleOf(terms), now.getTime(), now.getTime());
    doc.current_billing_period_started_at = new Date(period.startAt);
    doc.current_billing_period_ending_at = new Date(period.endAt);
  }
  return doc;
}
