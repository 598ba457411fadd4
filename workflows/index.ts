/**
 * Entry point of the workflow bundle (scripts/bundle-workflows.ts). Only deterministic code may be
 * reachable from here: @temporalio/workflow, src/billing, src/contracts, src/temporal/messages.
 */
export { subscriptionWorkflow } from './subscription';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { walletWorkflow } from './wallet';
