import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import { createEventActivities } from './events';
import { createInvoiceActivities } from './invoices';
import { createSubscriptionActivities } from './subscriptions';
import { createWebhookActivities } from './webhooks';
import { createNotificationActivities } from './notifications';
import { createWalletActivities } from './wallets';
import type { WebhookDestinationPolicy } from '../src/webhooks/destination-guard';

export interface ActivityDeps {
  db: Db;
  /** Where webhooks may go; public http(s) destinations only when absent. */
  webhookDestinations?: WebhookDestinationPolicy;
  /** The worker's Temporal client (credit application calls the wallet workflows). */
  client?: Client;
}

/** Activities are built from injected dependencies: one MongoDB client per worker process. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createEventActivities(deps),
    ...createInvoiceActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createWebhookActivities(deps),
    ...createNotificationActivities(deps),
    ...createWalletActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
