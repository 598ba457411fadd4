/**
 * Deterministic Temporal ids. They include the organization, so two organizations may use the same
 * external ids; a retried create finds the same workflow (conflict policy USE_EXISTING).
 */
export const subscriptionWorkflowId = (organizationId: string, externalSubscriptionId: string): string =>
  `sub:${organizationId}:${externalSubscriptionId}`;

export const walletWorkflowId = (organizationId: string, walletId: string): string =>
  `wallet:${organizationId}:${walletId}`;

/** One invoice per (subscription, period), whatever retries or replays happen. */
export const subscriptionInvoiceId = (subscriptionId: string, periodStartIso: string): string =>
  `${subscriptionId}:${periodStartIso}`;
