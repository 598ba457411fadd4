import { Router } from 'express';
import type { Db } from 'mongodb';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { methodNotAllowed, notFound, serviceUnavailable } from '../errors';
import { registerRoute } from '../openapi';
import { parseQuery } from '../validation';
import { currentUsageQuery as currentUsageParams } from '../../src/contracts/lago/invoice';
import { findCustomer } from '../../src/store/customers';
import { findSubscriptionWithStatus } from '../../src/store/subscriptions';
import { currentUsageQuery } from '../../src/temporal/messages';
import { pendingPrefix, readPendingDeliveries } from '../../src/store/pending-deliveries';

registerRoute({
  method: 'get',
  path: '/customers/{external_customer_id}/current_usage',
  summary:
    "Current period usage of one subscription, seats projected to the period's end (from its workflow)",
  query: currentUsageParams,
  responses: {
    200: { description: 'Usage in Lago shape, plus prorated_units per charge', root: 'customer_usage' },
    404: '`customer_not_found`',
    405: '`no_active_subscription`',
    503: 'No worker answered the query',
  },
});

const QUERY_TIMEOUT_MS = 10_000;
/** Most accepted-but-undelivered events passed to the query (the deliverer's backlog is smaller). */
const MAX_PENDING = 5_000;

/**
 * Events of this subscription accepted (200) but whose delivery to its workflow is still in
 * flight: its pending-delivery markers, one `_id` range. Passed to the query, so a usage read after
 * an event's 200 counts it (read your writes).
 */
async function pendingMessages(db: Db, organizationId: string, externalSubscriptionId: string) {
  const markers = await readPendingDeliveries(db, {
    prefix: pendingPrefix(organizationId, externalSubscriptionId),
    limit: MAX_PENDING,
  });
  return markers.flatMap((m) => (m.message ? [m.message] : []));
}

/** How long a customer found live is taken as live without reading it again (this process). */
const CUSTOMER_CACHE_MS = 2_000;
/** At most this many customers and subscriptions are remembered (then the memory starts over). */
const KNOWN_MAX = 100_000;

/**
 * What this process remembers to spare current usage its point reads (issue #14): a customer found
 * live, for `CUSTOMER_CACHE_MS`; and, for good, the customer and workflow of a subscription found
 * active. Both never change for an external subscription id (its key is claimed once; plan changes
 * run in the same workflow). Whether the subscription is still active is the workflow's answer: a
 * usage, or null (405). Every 405 reads the customer again, so a customer deleted since a request
 * remembered it answers 404 as before.
 */
class CurrentUsageTargets {
  private readonly customers = new Map<string, number>();
  private readonly subscriptions = new Map<string, { externalCustomerId: string; workflowId: string }>();

  constructor(private readonly db: Db) {}

  /** Whether the customer is live: remembered, or read (and then remembered). */
  async customerLive(organizationId: string, externalId: string, fresh = false): Promise<boolean> {
    const key = JSON.stringify([organizationId, externalId]);
    const until = this.customers.get(key);
    if (!fresh && until !== undefined && until > Date.now()) return true;
    const found = await findCustomer(this.db, organizationId, externalId);
    if (!found) {
      this.customers.delete(key);
      return false;
    }
    if (this.customers.size >= KNOWN_MAX) this.customers.clear();
    this.customers.set(key, Date.now() + CUSTOMER_CACHE_MS);
    return true;
  }

  /** Forgets a subscription found no longer active: the next request reads its status. */
  forgetSubscription(organizationId: string, externalId: string): void {
    this.subscriptions.delete(JSON.stringify([organizationId, externalId]));
  }

  /** The active subscription's customer and workflow: remembered, or read (null: none active). */
  async subscription(organizationId: string, externalId: string) {
    const key = JSON.stringify([organizationId, externalId]);
    const known = this.subscriptions.get(key);
    if (known) return known;
    const sub = await findSubscriptionWithStatus(this.db, organizationId, externalId, ['active']);
    if (sub?.status !== 'active') return null;
    const found = { externalCustomerId: sub.external_customer_id, workflowId: sub.workflow_id };
    if (this.subscriptions.size >= KNOWN_MAX) this.subscriptions.clear();
    this.subscriptions.set(key, found);
    return found;
  }
}

/** Mounted beside the customer routes: GET /customers/{id}/current_usage. */
export function currentUsageRoutes(deps: ApiDeps): Router {
  const router = Router();
  const targets = new CurrentUsageTargets(deps.db);
  router.get('/:externalId/current_usage', async (req, res) => {
    const org = organizationOf(req);
    const externalCustomerId = String(req.params.externalId);
    const customerRead = targets.customerLive(org._id, externalCustomerId);
    let q;
    try {
      q = parseQuery(req, currentUsageParams);
    } catch (err) {
      if (!(await customerRead)) throw notFound('customer'); // an unknown customer comes first
      throw err;
    }
    // The reads are independent (by `_id`, and one `_id` range), each skipped when remembered.
    const [customerLive, sub, pending] = await Promise.all([
      customerRead,
      targets.subscription(org._id, q.external_subscription_id),
      pendingMessages(deps.db, org._id, q.external_subscription_id),
    ]);
    if (!customerLive) throw notFound('customer');
    /** 405, unless the customer, remembered live, is gone (404 as before). */
    const noActiveSubscription = async () =>
      (await targets.customerLive(org._id, externalCustomerId, true))
        ? methodNotAllowed('no_active_subscription')
        : notFound('customer');
    if (sub?.externalCustomerId !== externalCustomerId) throw await noActiveSubscription();
    let usage;
    try {
      // A real gRPC deadline: the call is cancelled, not left pending, when no worker answers.
      usage = await deps.temporal.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
        deps.temporal.client.workflow.getHandle(sub.workflowId).query(currentUsageQuery, pending),
      );
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError))
        throw serviceUnavailable(
          'billing_engine_unavailable',
          `current usage needs a running worker: ${(err as Error).message}`,
        );
      usage = null;
    }
    if (!usage) {
      targets.forgetSubscription(org._id, q.external_subscription_id); // no longer active
      throw await noActiveSubscription();
    }
    res.json({ customer_usage: usage });
  });
  return router;
}
