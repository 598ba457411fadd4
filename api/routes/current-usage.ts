import { Router } from 'express';
import type { Db } from 'mongodb';
import {
  QueryRejectCondition,
  QueryRejectedError,
  WorkflowClient,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { methodNotAllowed, notFound, serviceUnavailable } from '../errors';
import { registerRoute } from '../openapi';
import { parseQuery } from '../validation';
import { currentUsageQuery as currentUsageParams } from '../../src/contracts/lago/invoice';
import { findCustomer } from '../../src/store/customers';
import { customerUsageQuery } from '../../src/temporal/messages';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import type { CustomerUsageAnswer } from '../../src/contracts/subscription-workflow';
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

/**
 * Mounted beside the customer routes: GET /customers/{id}/current_usage. The subscription's workflow
 * id follows from its external id, so a usage is one `_id` range (the pending events) and one query,
 * whose answer names the customer the subscription bills: no customer or subscription document is
 * read unless the answer is not that customer's usage, and then the customer decides between
 * `customer_not_found` (404, first) and `no_active_subscription` (Lago's 405). A deleted customer's
 * subscriptions are terminated by its DELETE, so their workflows answer no usage.
 */
export function currentUsageRoutes(deps: ApiDeps): Router {
  const router = Router();
  // A subscription whose workflow has ended has no current usage: its query is refused by the
  // server, not answered by replaying the closed history on a worker.
  const temporal = new WorkflowClient({
    connection: deps.temporal.connection,
    namespace: deps.temporal.client.options.namespace,
    queryRejectCondition: QueryRejectCondition.NOT_OPEN,
  });
  router.get('/:externalId/current_usage', async (req, res) => {
    const org = organizationOf(req);
    const externalCustomerId = String(req.params.externalId);
    const knownCustomer = async () => (await findCustomer(deps.db, org._id, externalCustomerId)) !== null;
    let q;
    try {
      q = parseQuery(req, currentUsageParams);
    } catch (err) {
      if (!(await knownCustomer())) throw notFound('customer'); // an unknown customer comes first
      throw err;
    }
    const workflowId = subscriptionWorkflowId(org._id, q.external_subscription_id);
    const pending = await pendingMessages(deps.db, org._id, q.external_subscription_id);
    const answer = await (async (): Promise<CustomerUsageAnswer | null | Error> => {
      try {
        // A real gRPC deadline: the call is cancelled, not left pending, when no worker answers.
        return await temporal.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
          temporal.getHandle(workflowId).query(customerUsageQuery, { pending }),
        );
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || err instanceof QueryRejectedError) return null;
        return err as Error;
      }
    })();
    if (answer && !(answer instanceof Error)) {
      if (answer.usage && answer.external_customer_id === externalCustomerId) {
        res.json({ customer_usage: answer.usage });
        return;
      }
    }
    if (!(await knownCustomer())) throw notFound('customer');
    if (answer instanceof Error)
      throw serviceUnavailable(
        'billing_engine_unavailable',
        `current usage needs a running worker: ${answer.message}`,
      );
    throw methodNotAllowed('no_active_subscription');
  });
  return router;
}
