import type { Wallet } from '../src/billing';
import type { ComputedInvoice, StoredInvoiceSummary } from '../src/contracts/subscription-workflow';
import { endpointsSubscribedTo } from '../src/store/webhook-endpoints';
import type { InvoiceDoc } from '../src/store/invoices';
import { createInvoiceWriter } from './invoices';
import { createSubscriptionActivities, type SubscriptionProjection } from './subscriptions';
import { createWalletActivities, type OngoingUsageReport, type WalletActivityDeps } from './wallets';

export interface SettleInvoiceInput {
  /** The invoice to finalize, its amounts after the credits already applied (0 on a first call). */
  invoice: ComputedInvoice;
  /**
   * Whether the customer's wallets must be looked at first. True on the first call: when the customer
   * has active wallets in the invoice's currency the call stops there and returns them, so the
   * workflow allocates credits (recorded in its history) and calls again with this false.
   */
  look_for_wallets: boolean;
  /** The subscription as it stands after this invoice (the next period's projection). */
  projection: SubscriptionProjection;
  /** The usage report after this invoice; null for runs that never report usage. */
  usage_report: OngoingUsageReport | null;
}

export type SettleInvoiceResult =
  | { kind: 'wallets'; wallets: { wallet: Wallet; workflow_id: string }[] }
  | {
      kind: 'settled';
      invoice: StoredInvoiceSummary;
      /** Whether an endpoint of the organization takes `invoice.created` (then notifyInvoice is due). */
      notify: boolean;
    };

/**
 * A period's invoice settled in one activity (issue #14, the billing day): the checks and writes that
 * were five activities (loadCustomerWallets, finalizeInvoice, notifyInvoice's endpoint lookup,
 * projectSubscription, reportOngoingUsage) are one, so a boundary costs one activity task instead
 * of five. Each step is idempotent, so the whole is: a finalized invoice is never touched again and
 * skips the wallet check (a retry after the invoice was stored goes straight on to the projection),
 * the projection and the usage report are kept only when newer than what is stored. The webhook is
 * left to `notifyInvoice`, with its own attempts, only when an endpoint is there to receive it.
 */
export function createSettleInvoiceActivities(deps: WalletActivityDeps) {
  const { db } = deps;
  const writer = createInvoiceWriter(db);
  const { projectSubscription } = createSubscriptionActivities({ db });
  const { loadCustomerWallets, reportOngoingUsage } = createWalletActivities(deps);
  return {
    async settleInvoice(input: SettleInvoiceInput): Promise<SettleInvoiceResult> {
      const { invoice } = input;
      let stored: InvoiceDoc | null | undefined; // read once here, or by finalizeStored
      if (input.look_for_wallets && invoice.sub_total_including_taxes_amount_cents > 0) {
        // Both reads at once; a finalized invoice (a retry) takes no credits whatever wallets exist now.
        let wallets;
        [stored, wallets] = await Promise.all([
          writer.storedInvoice(invoice.id),
          loadCustomerWallets({
            organization_id: invoice.organization_id,
            customer_id: invoice.customer_id,
            currency: invoice.currency,
          }),
        ]);
        if (stored?.status !== 'finalized' && wallets.length > 0) return { kind: 'wallets', wallets };
      }
      const [doc, endpoints] = await Promise.all([
        writer.finalizeStored(invoice, stored),
        endpointsSubscribedTo(db, invoice.organization_id, 'invoice.created'),
      ]);
      await projectSubscription(input.projection);
      if (input.usage_report) await reportOngoingUsage(input.usage_report);
      return {
        kind: 'settled',
        invoice: {
          id: doc._id,
          lago_id: doc.lago_id,
          status: 'finalized',
          number: doc.number,
          total_amount_cents: doc.total_amount_cents,
        },
        notify: endpoints.length > 0,
      };
    },
  };
}
