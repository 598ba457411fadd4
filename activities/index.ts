import type { Db } from 'mongodb';
import { createEventActivities } from './events';
import { createInvoiceActivities } from './invoices';
import { createSubscriptionActivities } from './subscriptions';
import { createWebhookActivities } from './webhooks';
import { createNotificationActivities } from './notifications';

export interface ActivityDeps {
  db: Db;
  fetch?: typeof fetch;
}

/** Activities are built from injected dependencies: one MongoDB client per worker process. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createEventActivities(deps),
    ...createInvoiceActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createWebhookActivities(deps),
    ...createNotificationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
