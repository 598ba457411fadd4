/**
 * Wallet I/O for the workflows: the read model (projection, ongoing balances), credit invoices for
 * paid top-ups, and the calls a subscription makes to its customer's wallet workflows when one of
 * its invoices is finalized. Every activity is idempotent.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  allocateOngoingUsage,
  centsToCredits,
  formatQuantity,
  localDateOf,
  type Wallet,
} from '../src/billing';
import type { CreditableFee } from '../src/billing/credit-allocation';
import type {
  ConsumeCreditsRequest,
  ConsumeCreditsResult,
  WalletRecord,
  WalletTransactionRecord,
} from '../src/contracts/wallet-workflow';
import { walletConsumeUpdate, walletQuery } from '../src/temporal/messages';
import {
  billingWalletOf,
  ongoingOf,
  customerOngoingUsage,
  customerWallets,
  listOngoingUsage,
  listWalletTransaction,
  ongoingUsage,
  transactionDoc,
  walletOngoing,
  walletBalanceFields,
  wallets,
  walletTransactions,
  type WalletDoc,
} from '../src/store/wallets';
import { insertInvoiceIfMissing, invoices, type InvoiceDoc } from '../src/store/invoices';
import { stableUuid } from '../src/store/stable-uuid';
import { claimInvoiceNumbers } from '../src/store/invoice-numbers';
import { applicableTimezone, customers, documentNumberPrefix } from '../src/store/customers';
import { organizations } from '../src/store/organizations';
import { serializeWallet, serializeWalletTransaction } from '../src/contracts/lago/serializers/wallet';
import {
  createWebhookActivities,
  NO_WEBHOOK_SENT,
  type SendWebhookResult,
  type WebhookActivityDeps,
} from './webhooks';

export interface WalletActivityDeps extends WebhookActivityDeps {
  /** The worker's Temporal client: credit application talks to the wallet workflows. */
  client?: Client;
}

/** What a subscription reports of its usage not yet invoiced (SubscriptionState.ongoingUsageReport). */
export interface OngoingUsageReport {
  subscription_id: string;
  organization_id: string;
  customer_id: string;
  currency: string;
  fees: CreditableFee[];
  as_of: number;
}

export type WalletTransactionWebhook = 'wallet_transaction.created' | 'wallet_transaction.updated';

/** The credit invoice of a paid top-up: one per transaction, whatever the retries. */
export const creditInvoiceId = (transactionId: string) => `credit:${transactionId}`;

export function createWalletActivities(deps: WalletActivityDeps) {
  const { db } = deps;
  const { sendWebhook } = createWebhookActivities(deps);
  const none = NO_WEBHOOK_SENT;

  function temporal(): Client {
    if (!deps.client)
      throw new Error('wallet activities need a Temporal client (createActivities({ client }))');
    return deps.client;
  }

  /**
   * Recomputes the ongoing balances of a customer's active wallets from the usage its subscriptions
   * reported, and sends `wallet.depleted_ongoing_balance` when one crosses 0 (positive before, 0 or
   * less now). The crossing is counted in the document by compare-and-set, so concurrent refreshes
   * count it once; an announcement that fails is retried at the next refresh.
   */
  async function refreshOngoingBalances(input: { organization_id: string; customer_id: string }): Promise<{
    depleted: string[];
  }> {
    const now = Date.now();
    const active = (await customerWallets(db, input.organization_id, input.customer_id)).filter(
      (w) => w.status === 'active',
    );
    if (active.length === 0) return { depleted: [] };
    const usage = await customerOngoingUsage(db, input.customer_id);
    const billing = active.map(billingWalletOf);
    const shares = new Map<string, number>();
    for (const currency of new Set(active.map((w) => w.currency))) {
      const fees: CreditableFee[] = usage.filter((u) => u.currency === currency).flatMap((u) => u.fees);
      for (const share of allocateOngoingUsage({ currency, fees }, billing, now)) {
        shares.set(share.walletCode, (shares.get(share.walletCode) ?? 0) + share.ongoingUsageBalanceCents);
      }
    }
    const known = await ongoingOf(
      db,
      active.map((w) => w._id),
    );
    for (const doc of active) {
      const usageCents = shares.get(doc._id) ?? 0;
      const ongoing = doc.balance_cents - usageCents;
      const last = known.get(doc._id);
      if (!last) {
        // First computation: the ongoing balance was the balance itself (no usage counted yet).
        await walletOngoing(db)
          .insertOne({
            _id: doc._id,
            customer_id: doc.customer_id,
            ongoing_usage_balance_cents: usageCents,
            ongoing_balance_cents: ongoing,
            depletions: doc.balance_cents > 0 && ongoing <= 0 ? 1 : 0,
            depletions_notified: 0,
          })
          .catch((err: { code?: number }) => {
            if (err.code !== 11000) throw err; // a concurrent refresh inserted it: it holds the same figures
          });
        continue;
      }
      if (last.ongoing_usage_balance_cents === usageCents && last.ongoing_balance_cents === ongoing) continue;
      const crossed = last.ongoing_balance_cents > 0 && ongoing <= 0;
      // Compare-and-set on the figures read: two refreshes at once count a crossing once.
      await walletOngoing(db).updateOne(
        { _id: doc._id, ongoing_balance_cents: last.ongoing_balance_cents, depletions: last.depletions },
        {
          $set: { ongoing_usage_balance_cents: usageCents, ongoing_balance_cents: ongoing },
          ...(crossed ? { $inc: { depletions: 1 } } : {}),
        },
      );
    }
    return { depleted: await announceDepletions(input) };
  }

  async function announceDepletions(input: {
    organization_id: string;
    customer_id: string;
  }): Promise<string[]> {
    const customerWalletIds = (await customerWallets(db, input.organization_id, input.customer_id)).map(
      (w) => w._id,
    );
    const owed = [...(await ongoingOf(db, customerWalletIds)).values()].filter(
      (o) => o.depletions > o.depletions_notified,
    );
    const sent: string[] = [];
    for (const ongoing of owed) {
      const doc = await wallets(db).findOne({ _id: ongoing._id, organization_id: input.organization_id });
      if (!doc) continue;
      try {
        await sendWebhook({
          organizationId: doc.organization_id,
          webhookType: 'wallet.depleted_ongoing_balance',
          objectType: 'wallet',
          object: serializeWallet(doc, ongoing),
          uniqueKey: `wallet.depleted_ongoing_balance:${doc._id}:${ongoing.depletions}`,
        });
        await walletOngoing(db).updateOne(
          { _id: doc._id, depletions_notified: ongoing.depletions_notified },
          { $set: { depletions_notified: ongoing.depletions } },
        );
        sent.push(doc._id);
      } catch {
        // The receiver failed: the next refresh retries this announcement (same unique key).
      }
    }
    return sent;
  }

  return {
    /** Writes the wallet's balance (only over an older projection) and its changed transactions. */
    async projectWallet(input: {
      wallet: WalletRecord;
      transactions: WalletTransactionRecord[];
      version: number;
      at: number;
    }): Promise<void> {
      const { wallet } = input;
      for (const tx of input.transactions) {
        await walletTransactions(db).updateOne(
          { _id: tx.id },
          { $set: transactionDoc(wallet.organization_id, tx) },
          { upsert: true },
        );
        await listWalletTransaction(db, { _id: tx.id, wallet_id: tx.wallet_id, created_at: tx.created_at });
      }
      await wallets(db).updateOne(
        { _id: wallet.id, version: { $lt: input.version } },
        {
          $set: {
            ...walletBalanceFields(wallet),
            version: input.version,
            updated_at: new Date(input.at),
          },
        },
      );
    },

    refreshOngoingBalances,

    /**
     * A subscription's usage not yet invoiced (current usage plus open drafts), reported by its
     * workflow; then the customer's ongoing balances are refreshed.
     */
    async reportOngoingUsage(input: OngoingUsageReport): Promise<{ depleted: string[] }> {
      const { subscription_id, ...report } = input;
      const existing = await ongoingUsage(db).findOne({ _id: subscription_id });
      if (!existing) {
        await listOngoingUsage(db, { _id: subscription_id, customer_id: input.customer_id });
        await ongoingUsage(db)
          .insertOne({ _id: subscription_id, ...report })
          .catch((err: { code?: number }) => {
            if (err.code !== 11000) throw err;
          });
      }
      // The subscription's workflow is this document's only writer and reports in order; an older
      // report (a retried activity) is skipped here rather than in the filter, so the update is by
      // bare `_id` (FerretDB on SQLite serves only that from an index).
      else if (existing.as_of <= input.as_of)
        await ongoingUsage(db).updateOne({ _id: subscription_id }, { $set: report });
      return refreshOngoingBalances({
        organization_id: input.organization_id,
        customer_id: input.customer_id,
      });
    },

    /**
     * The finalized `credit` invoice of a paid top-up, payment pending (Lago's PaidCreditService).
     * Numbered like every invoice of the customer; inserted once per transaction.
     */
    async createCreditInvoice(input: {
      wallet: WalletRecord;
      transaction: WalletTransactionRecord;
    }): Promise<{ lago_id: string; id: string }> {
      const { wallet, transaction: tx } = input;
      const id = creditInvoiceId(tx.id);
      const existing = await invoices(db).findOne({ _id: id });
      if (existing) return { lago_id: existing.lago_id, id };
      const [customer, organization] = await Promise.all([
        customers(db).findOne({ _id: wallet.customer_id }),
        organizations(db).findOne({ _id: wallet.organization_id }),
      ]);
      const seq = await claimInvoiceNumbers(db, id, wallet.customer_id);
      const pad = (n: number) => String(n).padStart(3, '0');
      const prefix = documentNumberPrefix(organization ?? { _id: wallet.organization_id, name: 'org' });
      const lagoId = stableUuid(id);
      const now = new Date(tx.created_at);
      const issuingDate = localDateOf(tx.created_at, customer ? applicableTimezone(customer) : 'UTC');
      const currency = wallet.wallet.currency;
      const doc: InvoiceDoc = {
        _id: id,
        lago_id: lagoId,
        organization_id: wallet.organization_id,
        customer_id: wallet.customer_id,
        external_customer_id: wallet.external_customer_id,
        subscription_id: null,
        external_subscription_id: null,
        invoice_type: 'credit',
        invoicing_reason: null,
        status: 'finalized',
        payment_status: 'pending',
        number: `${prefix}-${pad(customer?.sequential_id ?? 0)}-${pad(seq.customerSequence)}`,
        sequential_id: seq.customerSequence,
        issuing_date: issuingDate,
        payment_due_date: issuingDate,
        net_payment_term: 0,
        currency,
        from_datetime: null,
        to_datetime: null,
        fees_amount_cents: tx.amount_cents,
        taxes_amount_cents: 0,
        sub_total_excluding_taxes_amount_cents: tx.amount_cents,
        sub_total_including_taxes_amount_cents: tx.amount_cents,
        prepaid_credit_amount_cents: 0,
        total_amount_cents: tx.amount_cents,
        fees: [
          {
            lago_id: stableUuid(`${id}:fee`),
            fee_type: 'credit',
            charge_code: null,
            lago_charge_id: null,
            billable_metric_code: null,
            lago_billable_metric_id: null,
            invoice_display_name: tx.name,
            from_datetime: null,
            to_datetime: null,
            charges_duration: null,
            units: formatQuantity(centsToCredits(tx.amount_cents, wallet.wallet.rateAmount, currency)),
            prorated_units: null,
            events_count: 0,
            amount_cents: tx.amount_cents,
            amount_currency: currency,
            precise_amount: null,
            wallet_transaction_id: tx.id,
          },
        ],
        created_at: now,
        updated_at: now,
        finalized_at: now,
        version_number: 1,
      };
      await insertInvoiceIfMissing(db, doc);
      return { lago_id: lagoId, id };
    },

    /**
     * The customer's wallets that may pay an invoice of `currency`, as their workflows hold them now
     * (the read model may lag a top-up by a moment). A wallet whose workflow has ended is terminated.
     */
    async loadCustomerWallets(input: {
      organization_id: string;
      customer_id: string;
      currency: string;
    }): Promise<{ wallet: Wallet; workflow_id: string }[]> {
      const docs = (await customerWallets(db, input.organization_id, input.customer_id)).filter(
        (w) => w.currency === input.currency && w.status === 'active',
      );
      const out: { wallet: Wallet; workflow_id: string }[] = [];
      for (const doc of docs) {
        try {
          const view = await temporal().workflow.getHandle(doc.workflow_id).query(walletQuery);
          out.push({ wallet: view.wallet.wallet, workflow_id: doc.workflow_id });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      return out;
    },

    /**
     * Asks one wallet for credits for an invoice. The update id `{invoice}:{wallet}` (and the
     * wallet's own memory of invoices) makes a retry return the first answer. If the wallet's
     * workflow has ended since, its ledger in MongoDB says what it gave.
     */
    async consumeWalletCredits(input: {
      workflow_id: string;
      wallet_id: string;
      invoice_id: string;
      amount_cents: number;
    }): Promise<ConsumeCreditsResult> {
      const request: ConsumeCreditsRequest = {
        invoice_id: input.invoice_id,
        invoice_lago_id: stableUuid(input.invoice_id),
        amount_cents: input.amount_cents,
      };
      try {
        return await temporal()
          .workflow.getHandle(input.workflow_id)
          .executeUpdate(walletConsumeUpdate, {
            args: [request],
            updateId: `${request.invoice_id}:${input.wallet_id}`,
          });
      } catch (err) {
        const ended =
          err instanceof WorkflowNotFoundError ||
          /workflow execution already completed/i.test(String((err as Error).message));
        if (!ended) throw err;
        const tx = await walletTransactions(db).findOne({
          _id: `${input.wallet_id}:${request.invoice_lago_id}`,
        });
        return tx
          ? { amount_cents: tx.amount_cents, credit_amount: tx.credit_amount, transaction_id: tx._id }
          : { amount_cents: 0, credit_amount: '0', transaction_id: null };
      }
    },

    async notifyWallet(input: {
      walletId: string;
      webhookType: 'wallet.created';
    }): Promise<SendWebhookResult> {
      const doc = await wallets(db).findOne({ _id: input.walletId });
      if (!doc) return none;
      return sendWebhook({
        organizationId: doc.organization_id,
        webhookType: input.webhookType,
        objectType: 'wallet',
        object: serializeWallet(doc, await walletOngoing(db).findOne({ _id: doc._id })),
        uniqueKey: `${input.webhookType}:${doc._id}`,
      });
    },

    async notifyWalletTransaction(input: {
      transactionId: string;
      webhookType: WalletTransactionWebhook;
    }): Promise<SendWebhookResult> {
      const tx = await walletTransactions(db).findOne({ _id: input.transactionId });
      const wallet = tx ? await wallets(db).findOne({ _id: tx.wallet_id }) : null;
      if (!tx || !wallet) return none;
      return sendWebhook({
        organizationId: tx.organization_id,
        webhookType: input.webhookType,
        objectType: 'wallet_transaction',
        object: serializeWalletTransaction(tx, wallet),
        uniqueKey: `${input.webhookType}:${tx._id}:${tx.status}`,
      });
    },
  };
}

export type { WalletDoc };
