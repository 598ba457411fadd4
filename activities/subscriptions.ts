import type { Db } from 'mongodb';
import { listSubscription, subscriptions, type SubscriptionStatus } from '../src/store/subscriptions';
import { findPlanWithMetrics } from '../src/store/plans';
import { billingSnapshotOf } from '../src/contracts/billing-snapshot';
import type { PlanWithMetricsSnapshot } from '../src/contracts/subscription-input';

export interface SubscriptionProjection {
  subscriptionId: string;
  status: SubscriptionStatus;
  startedAt: number | null;
  terminatedAt: number | null;
  canceledAt: number | null;
  periodStartAt: number | null;
  periodEndAt: number | null;
  /** Lago's `trial_ended_at` once the trial has ended (absent from older workflow code: unchanged). */
  trialEndedAt?: number | null;
  /** Active units now per metric code (decimal strings). */
  activeUnits: Record<string, string>;
  /** Workflow time of this projection: an older projection never overwrites a newer one. */
  asOf: number;
}

export function createSubscriptionActivities({ db }: { db: Db }) {
  const at = (ms: number | null) => (ms === null ? null : new Date(ms));
  return {
    /** The subscription's read model in MongoDB (status, period, seats): reads never wait on a workflow. */
    async projectSubscription(p: SubscriptionProjection): Promise<void> {
      // The subscription's workflow is the projection's only writer and projects in order; an older
      // projection (a retried activity) is skipped here rather than in the filter, so the update is
      // by bare `_id` (FerretDB on SQLite serves only that from an index: `_id` with `$or` scanned
      // every subscription, a cost that grew with their number).
      const stored = await subscriptions(db).findOne(
        { _id: p.subscriptionId },
        { projection: { projected_at: 1 } },
      );
      if (!stored) return;
      if (stored.projected_at !== undefined && stored.projected_at > p.asOf) {
        await listSubscription(db, p.subscriptionId);
        return;
      }
      await subscriptions(db).updateOne(
        { _id: p.subscriptionId },
        {
          $set: {
            status: p.status,
            started_at: at(p.startedAt),
            terminated_at: at(p.terminatedAt),
            canceled_at: at(p.canceledAt),
            current_billing_period_started_at: at(p.periodStartAt),
            current_billing_period_ending_at: at(p.periodEndAt),
            ...(p.trialEndedAt === undefined ? {} : { trial_ended_at: at(p.trialEndedAt) }),
            active_units: p.activeUnits,
            projected_at: p.asOf,
            updated_at: new Date(),
          },
        },
      );
      await listSubscription(db, p.subscriptionId);
    },

    /**
     * The plan as billing prices it now (after a plan update). Null when it is gone or can no longer
     * be billed: the subscription then keeps the plan it has.
     */
    async loadPlanSnapshot(input: {
      organizationId: string;
      planCode: string;
    }): Promise<PlanWithMetricsSnapshot | null> {
      const found = await findPlanWithMetrics(db, input.organizationId, input.planCode);
      if (!found) return null;
      const snapshot = billingSnapshotOf(found);
      return snapshot.ok ? { plan: snapshot.plan, metrics: snapshot.metrics } : null;
    },
  };
}
