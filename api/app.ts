import { walletRoutes, walletTransactionRoutes } from './routes/wallets';
import express, { Router, type Express } from 'express';
import type { Db } from 'mongodb';
import type { Client, Connection } from '@temporalio/client';
import { healthHandler } from './health';
import { authenticate } from './auth';
import { errorMapper, notFoundRoute } from './errors';
import { billableMetricRoutes } from './routes/billable-metrics';
import { planRoutes } from './routes/plans';
import { customerRoutes } from './routes/customers';
import { webhookEndpointRoutes } from './routes/webhook-endpoints';
import { webhookPublicKeyRoutes } from './routes/webhook-public-key';
import { eventRoutes } from './routes/events';
import { subscriptionRoutes } from './routes/subscriptions';
import { invoiceRoutes, invoiceHtmlRoute } from './routes/invoices';
import { currentUsageRoutes } from './routes/current-usage';
import { notifyPlanChanged, terminateCustomerSubscriptions } from './subscription-control';
import { EventDelivery } from './event-delivery';
import { openApiHandler } from './openapi';
import { docsHandler } from './docs';
import { LAGO_RATE_LIMITS, rateLimit, type RateLimits } from './rate-limit';
import type { WebhookDestinationPolicy } from '../src/webhooks/destination-guard';

export interface ApiDeps {
  db: Db;
  temporal: { client: Client; connection: Connection };
  taskQueue: string;
  /** Called after a plan changed (update, or charges removed with a deleted metric), with its code. */
  onPlanUpdated?: (organizationId: string, planCode: string) => Promise<void>;
  /** Called after a customer was (soft-)deleted, to terminate its subscriptions. */
  onCustomerDeleted?: (organizationId: string, externalId: string) => Promise<void>;
  /** Where webhook endpoints may point (src/config.ts); public http(s) destinations when absent. */
  webhookDestinations?: WebhookDestinationPolicy;
  /** Requests per second per organization; Lago's published limits when absent. */
  rateLimits?: RateLimits;
  /** Delivers stored events to subscription workflows; created from db + client when absent. */
  eventDelivery?: EventDelivery;
}

/** Request bodies above this are refused with 413 (a batch of 100 events fits easily). */
export const BODY_LIMIT = '1mb';

/** The Express app: a thin Lago-compatible facade over MongoDB and the subscription workflows. */
export function createApp(input: ApiDeps): Express {
  // By default, plan updates and customer deletions reach the subscription workflows.
  const deps: ApiDeps = {
    ...input,
    onPlanUpdated: input.onPlanUpdated ?? ((org, code) => notifyPlanChanged(deps, org, code)),
    onCustomerDeleted:
      input.onCustomerDeleted ?? ((org, id) => terminateCustomerSubscriptions(deps, org, id)),
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended'); // `status[]=a&status[]=b` -> { status: ['a', 'b'] }
  app.get('/health', healthHandler({ db: deps.db, temporal: deps.temporal.connection }));

  const v1 = Router();
  v1.use(express.json({ limit: BODY_LIMIT, type: () => true, strict: false }));
  v1.use(authenticate(deps.db));
  v1.use(rateLimit(deps.rateLimits ?? LAGO_RATE_LIMITS));
  v1.use('/billable_metrics', billableMetricRoutes(deps));
  v1.use('/plans', planRoutes(deps));
  v1.use('/customers', currentUsageRoutes(deps));
  v1.use('/customers', customerRoutes(deps));
  v1.use('/subscriptions', subscriptionRoutes(deps));
  v1.use('/invoices', invoiceRoutes(deps));
  v1.use('/webhook_endpoints', webhookEndpointRoutes(deps));
  v1.use('/webhooks', webhookPublicKeyRoutes(deps));
  v1.use('/wallets', walletRoutes(deps));
  v1.use('/wallet_transactions', walletTransactionRoutes(deps));
  v1.use(
    '/events',
    eventRoutes(deps, deps.eventDelivery ?? new EventDelivery(deps.db, deps.temporal.client, deps.taskQueue)),
  );
  app.get('/api/v1/openapi.json', openApiHandler); // public: before the authenticated router
  app.get('/docs', docsHandler);
  app.use(invoiceHtmlRoute(deps));
  app.use('/api/v1', v1);

  app.use(notFoundRoute);
  app.use(errorMapper);
  return app;
}
