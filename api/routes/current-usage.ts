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
/** Tries of a query the server refused for want of a recent poller (gRPC status 9). */
const QUERY_ATTEMPTS = 4;
const FAILED_PRECONDITION = 9;
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

/** How long this process takes a customer found by its external id to still exist. */
const KNOWN_CUSTOMER_MS = 10_000;
const KNOWN_CUSTOMERS_MAX = 50_000;

/**
 * Customers known to exist, per process, for `KNOWN_CUSTOMER_MS`: a usage read by a customer found
 * a moment ago reads no customer document (two point reads by key), and an unknown one is read every
 * time. A customer deleted meanwhile has had its subscriptions terminated by the DELETE, so its
 * workflow answers no usage: for at most that long such a read answers 405 instead of 404.
 */
class KnownCustomers {
  private readonly seen = new Map<string, number>();

  constructor(private readonly db: Db) {}

  async known(organizationId: string, externalId: string, opts: { fresh?: boolean } = {}): Promise<boolean> {
    const key = JSON.stringify([organizationId, externalId]);
    const until = this.seen.get(key);
    if (!opts.fresh && until !== undefined && until > Date.now()) return true;
    const exists = (await findCustomer(this.db, organizationId, externalId)) !== null;
    if (!exists) this.seen.delete(key);
    else {
      if (this.seen.size >= KNOWN_CUSTOMERS_MAX) this.seen.clear();
      this.seen.set(key, Date.now() + KNOWN_CUSTOMER_MS);
    }
    return exists;
  }
}

/**
 * Mounted beside the customer routes: GET /customers/{id}/current_usage. The subscription's workflow
 * id follows from its external id, so a usage is one `_id` range (the pending events) and one query,
 * whose answer names the customer the subscription bills. The customer is checked first (404
 * `customer_not_found`), from `KnownCustomers` when it was found a moment ago; no subscription
 * document is read. An answer that is not that customer's usage is `no_active_subscription`
 * (Lago's 405), once the customer is read again.
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
  const customers = new KnownCustomers(deps.db);
  router.get('/:externalId/current_usage', async (req, res) => {
    const org = organizationOf(req);
    const externalCustomerId = String(req.params.externalId);
    // An unknown customer comes first (404), before validation and without asking Temporal.
    if (!(await customers.known(org._id, externalCustomerId))) throw notFound('customer');
    const q = parseQuery(req, currentUsageParams);
    const workflowId = subscriptionWorkflowId(org._id, q.external_subscription_id);
    const pending = await pendingMessages(deps.db, org._id, q.external_subscription_id);
    const answer = await (async (): Promise<CustomerUsageAnswer | null | Error> => {
      try {
        // A real gRPC deadline: the call is cancelled, not left pending, when no worker answers.
        const deadline = Date.now() + QUERY_TIMEOUT_MS;
        // "No poller seen for task queue recently" (gRPC FAILED_PRECONDITION) is the server's
        // transient view of a busy worker: asked again after a moment, within the same deadline.
        for (let attempt = 1; ; attempt++) {
          try {
            return await temporal.withDeadline(deadline, () =>
              temporal.getHandle(workflowId).query(customerUsageQuery, { pending }),
            );
          } catch (err) {
            const code = ((err as { cause?: { code?: number } }).cause ?? {}).code;
            if (code !== FAILED_PRECONDITION || attempt >= QUERY_ATTEMPTS || Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
          }
        }
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
    if (!(await customers.known(org._id, externalCustomerId, { fresh: true }))) throw notFound('customer');
    if (answer instanceof Error)
      throw serviceUnavailable(
        'billing_engine_unavailable',
        `current usage needs a running worker: ${answer.message}`,
      );
    throw methodNotAllowed('no_active_subscription');
  });
  return router;
}
