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

/** Mounted beside the customer routes: GET /customers/{id}/current_usage. */
export function currentUsageRoutes(deps: ApiDeps): Router {
  const router = Router();
  router.get('/:externalId/current_usage', async (req, res) => {
    const org = organizationOf(req);
    const customerRead = findCustomer(deps.db, org._id, String(req.params.externalId));
    let q;
    try {
      q = parseQuery(req, currentUsageParams);
    } catch (err) {
      if (!(await customerRead)) throw notFound('customer'); // an unknown customer comes first
      throw err;
    }
    // The three reads are independent (by `_id`, and one `_id` range): in parallel.
    const [customer, sub, pending] = await Promise.all([
      customerRead,
      findSubscriptionWithStatus(deps.db, org._id, q.external_subscription_id, ['active']),
      pendingMessages(deps.db, org._id, q.external_subscription_id),
    ]);
    if (!customer) throw notFound('customer');
    if (sub?.external_customer_id !== customer.external_id || sub.status !== 'active')
      throw methodNotAllowed('no_active_subscription');
    let usage;
    try {
      // A real gRPC deadline: the call is cancelled, not left pending, when no worker answers.
      usage = await deps.temporal.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
        deps.temporal.client.workflow.getHandle(sub.workflow_id).query(currentUsageQuery, pending),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw methodNotAllowed('no_active_subscription');
      throw serviceUnavailable(
        'billing_engine_unavailable',
        `current usage needs a running worker: ${(err as Error).message}`,
      );
    }
    if (!usage) throw methodNotAllowed('no_active_subscription');
    res.json({ customer_usage: usage });
  });
  return router;
}
