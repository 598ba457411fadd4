import type { CustomerDoc } from '../store/customers';
import type { PlanWithMetrics } from '../store/plans';
import type { SubscriptionDoc } from '../store/subscriptions';
import { billingSnapshotOf, customerTermsOf } from '../contracts/billing-snapshot';
import { localDateOf } from '../billing/local-time';
import type { SubscriptionWorkflowInput } from '../../workflows/subscription-state';

/** The first input of a subscription's workflow, from its stored documents. */
export function buildSubscriptionWorkflowInput(
  sub: SubscriptionDoc,
  customer: CustomerDoc,
  planWithMetrics: PlanWithMetrics,
): SubscriptionWorkflowInput {
  const snapshot = billingSnapshotOf(planWithMetrics);
  if (!snapshot.ok) {
    throw new Error(
      `plan ${sub.plan_code} cannot be billed: ${snapshot.problems.map((p) => `${p.charge} ${p.problem}`).join(', ')}`,
    );
  }
  const { timeZone, graceDays } = customerTermsOf(customer);
  return {
    subscription: {
      organizationId: sub.organization_id,
      id: sub._id,
      externalId: sub.external_id,
      customerId: sub.customer_id,
      externalCustomerId: sub.external_customer_id,
      planCode: sub.plan_code,
    },
    status: sub.status === 'pending' ? 'pending' : 'active',
    endingAt: sub.ending_at ? sub.ending_at.getTime() : null,
    startedAt: sub.subscription_at.getTime(),
    terms: {
      timeZone,
      graceDays,
      billingTime: sub.billing_time,
      anchorLocalDate: localDateOf(sub.subscription_at.getTime(), timeZone),
      plan: snapshot.plan,
      metrics: snapshot.metrics,
    },
  };
}
