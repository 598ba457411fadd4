/**
 * How the workflows call their activities. Billing I/O retries until it succeeds (every activity is
 * idempotent); webhooks make Lago's 3 attempts, so a receiver that stays down never holds billing up.
 */
import type { ActivityOptions } from '@temporalio/workflow';

export const billingActivityOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
};

export const webhookActivityOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 4, maximumAttempts: 3 },
};
