/**
 * Durable delivery of one webhook the API raises itself (e.g. `events.errors`): the API starts this
 * workflow and answers at once; the activity signs and sends, with Lago's 3 attempts.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SendWebhookInput } from '../activities/webhooks';

const { sendWebhook } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 4, maximumAttempts: 3 },
});

export async function webhookDeliveryWorkflow(input: SendWebhookInput): Promise<void> {
  await sendWebhook(input);
}
