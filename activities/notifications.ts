import { invoices } from '../src/store/invoices';
import { customers } from '../src/store/customers';
import { subscriptions } from '../src/store/subscriptions';
import { findPlanWithMetrics } from '../src/store/plans';
import { serializeInvoice } from '../src/contracts/lago/serializers/invoice';
import { serializeSubscription } from '../src/contracts/lago/serializers/subscription';
import { serializeCustomer } from '../src/contracts/lago/serializers/customer';
import { serializePlan } from '../src/contracts/lago/serializers/plan';
import {
  createWebhookActivities,
  NO_WEBHOOK_SENT,
  type SendWebhookResult,
  type WebhookActivityDeps,
} from './webhooks';

export type InvoiceWebhook = 'invoice.drafted' | 'invoice.created' | 'invoice.paid_credit_added';
export type SubscriptionWebhook =
  'subscription.started' | 'subscription.terminated' | 'subscription.trial_ended';

/**
 * Lago's webhooks about invoices and subscriptions: the object as stored now, in Lago's shape, sent
 * once per (type, object) to every subscribed endpoint (the delivery key makes retries harmless).
 */
export function createNotificationActivities(deps: WebhookActivityDeps) {
  const { sendWebhook } = createWebhookActivities(deps);
  const { db } = deps;
  const none = NO_WEBHOOK_SENT;
  return {
    async notifyInvoice(input: {
      invoiceId: string;
      webhookType: InvoiceWebhook;
    }): Promise<SendWebhookResult> {
      const invoice = await invoices(db).findOne({ _id: input.invoiceId });
      if (!invoice) return none;
      const customer = await customers(db).findOne({ _id: invoice.customer_id });
      return sendWebhook({
        organizationId: invoice.organization_id,
        webhookType: input.webhookType,
        objectType: 'invoice',
        object: serializeInvoice(invoice, customer, { withFees: true }),
        uniqueKey: `${input.webhookType}:${invoice.lago_id}`,
      });
    },

    async notifySubscription(input: {
      subscriptionId: string;
      webhookType: SubscriptionWebhook;
    }): Promise<SendWebhookResult> {
      const sub = await subscriptions(db).findOne({ _id: input.subscriptionId });
      if (!sub) return none;
      const [customer, plan] = await Promise.all([
        customers(db).findOne({ _id: sub.customer_id }),
        findPlanWithMetrics(db, sub.organization_id, sub.plan_code),
      ]);
      return sendWebhook({
        organizationId: sub.organization_id,
        webhookType: input.webhookType,
        objectType: 'subscription',
        object: {
          ...serializeSubscription(
            sub,
            plan?.plan ?? null,
            plan ? serializePlan(plan.plan, plan.billableMetrics) : undefined,
          ),
          customer: customer ? serializeCustomer(customer) : null,
        },
        uniqueKey: `${input.webhookType}:${sub._id}`,
      });
    },
  };
}
