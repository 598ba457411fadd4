/**
 * For product services that talk to Temporal directly instead of the REST API: sends seat events to
 * a subscription's workflow. The workflow applies each transaction_id once and records the events in
 * MongoDB, so the API lists them too.
 */
import type { Client } from '@temporalio/client';
import { seatEventsSignal } from './messages';
import { subscriptionWorkflowId } from './ids';
import type { SeatEventMessage } from '../contracts/subscription-workflow';

export interface DirectSeatEvent {
  transaction_id: string;
  /** Billable metric code. */
  code: string;
  /** Epoch milliseconds. */
  timestamp: number;
  properties: SeatEventMessage['properties'];
}

export async function sendSeatEvents(
  client: Client,
  target: { organizationId: string; externalSubscriptionId: string },
  events: DirectSeatEvent[],
): Promise<void> {
  const batch: SeatEventMessage[] = events.map((e) => ({ ...e, recorded: false }));
  await client.workflow
    .getHandle(subscriptionWorkflowId(target.organizationId, target.externalSubscriptionId))
    .signal(seatEventsSignal, batch);
}
