import { parseProperties, type EventDoc } from '../../../store/events';
import { isoSeconds } from './iso';

/** Lago's event object (timestamp with milliseconds, as Lago renders it). */
export function serializeEvent(e: EventDoc, lagoSubscriptionId: string | null = null) {
  return {
    lago_id: e._id,
    transaction_id: e.transaction_id,
    lago_customer_id: null,
    code: e.code,
    timestamp: e.timestamp.toISOString(),
    precise_total_amount_cents: e.precise_total_amount_cents,
    properties: parseProperties(e),
    lago_subscription_id: lagoSubscriptionId,
    external_subscription_id: e.external_subscription_id,
    created_at: isoSeconds(e.created_at),
    ...(e.problems.length > 0 ? { error_details: e.problems } : {}),
  };
}
