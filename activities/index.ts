import type { Client } from '@temporalio/client';
import { createEventActivities } from './events';
import { createInvoiceActivities } from './invoices';
import { createSubscriptionActivities } from './subscriptions';
import { createWebhookActivities, type WebhookActivityDeps } from './webhooks';
import { createNotificationActivities } from './notifications';
import { createWalletActivities } from './wallets';
import { createSettleInvoiceActivities } from './settle-invoice';

export interface ActivityDeps extends WebhookActivityDeps {
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
    ...createSettleInvoiceActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
