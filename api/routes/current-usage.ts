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
import { FreshReads } from '../../src/store/fresh-reads';
import type { CurrentUsageView } from '../../src/contracts/subscription-workflow';
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

/** Whose usage a read is: organization, external subscription id, workflow id. */
type UsageKey = [string, string, string];

/** An error and its causes, for a 503's message (the SDK's own message is generic). */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (
    let e = err as { message?: string; cause?: unknown } | undefined;
    e && parts.length < 4;
    e = e.cause as typeof e
  )
    if (e.message) parts.push(e.message);
  return parts.join(': ');
}

/** Mounted beside the customer routes: GET /customers/{id}/current_usage. */
export function currentUsageRoutes(deps: ApiDeps): Router {
  const router = Router();
  /**
   * One subscription's usage, read at most once at a time per process: the pending markers, then
   * the query with them. Requests arriving while a read runs share the next one, which starts
   * after they arrived, so each still counts every event acknowledged before it (`FreshReads`).
   * Temporal buffers queries that reach a workflow while it has a workflow task in flight and
   * refuses more than it buffers (RESOURCE_EXHAUSTED, retried by the client until the deadline):
   * concurrent usage reads of a subscription receiving events answered 503 under load.
   */
  const usageReads = new FreshReads<CurrentUsageView | null>(async (key) => {
    const [organizationId, externalSubscriptionId, workflowId] = JSON.parse(key) as UsageKey;
    const pending = await pendingMessages(deps.db, organizationId, externalSubscriptionId);
    // A real gRPC deadline: the call is cancelled, not left pending, when no worker answers.
    return deps.temporal.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      deps.temporal.client.workflow.getHandle(workflowId).query(currentUsageQuery, pending),
    );
  });
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
    // The two reads are independent (by `_id`): in parallel.
    const [customer, sub] = await Promise.all([
      customerRead,
      findSubscriptionWithStatus(deps.db, org._id, q.external_subscription_id, ['active']),
    ]);
    if (!customer) throw notFound('customer');
    if (sub?.external_customer_id !== customer.external_id || sub.status !== 'active')
      throw methodNotAllowed('no_active_subscription');
    let usage;
    try {
      usage = await usageReads.get(
        JSON.stringify([org._id, q.external_subscription_id, sub.workflow_id] satisfies UsageKey),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw methodNotAllowed('no_active_subscription');
      throw serviceUnavailable(
        'billing_engine_unavailable',
        `current usage needs a running worker: ${describeError(err)}`,
      );
    }
    if (!usage) throw methodNotAllowed('no_active_subscription');
    res.json({ customer_usage: usage });
  });
  return router;
}
