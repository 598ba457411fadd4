/**
 * One long-lived workflow per wallet (SPEC section 6): it serialises every change of the balance, so
 * two invoices finalized at once, a top-up and an expiry never race. Top-ups, consumptions for
 * invoices, settlements of paid top-ups, edits and termination arrive as updates; each is answered
 * once the ledger is projected into MongoDB (so the API reads its own writes). The expiry is a
 * durable timer. The balance arithmetic is src/billing's (wallet.ts, wallet-topup.ts).
 *
 * Exactly once: a consumption's update id is `{invoice}:{wallet}` (Temporal deduplicates it within
 * a run) and the state keeps the recent answers by invoice (so a retry after continue-as-new gets
 * the first answer, never a second debit).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { billingActivityOptions, webhookActivityOptions } from './activity-options';
import {
  walletChangeUpdate,
  walletConsumeUpdate,
  walletQuery,
  walletSettleUpdate,
  walletTerminateUpdate,
  walletTopUpUpdate,
} from '../src/temporal/messages';
import {
  creditWallet,
  debitWallet,
  expireWallet,
  formatQuantity,
  minorToAmount,
  Dec,
  topUpAmount,
  type Wallet,
} from '../src/billing';
import type {
  ConsumeCreditsRequest,
  ConsumeCreditsResult,
  TopUpRequest,
  WalletAnnouncements,
  WalletChanges,
  WalletTransactionRecord,
  WalletWorkflowInput,
} from '../src/contracts/wallet-workflow';

const activities = proxyActivities<Activities>(billingActivityOptions);

const webhooks = proxyActivities<Activities>(webhookActivityOptions);

/** Consumptions remembered across continue-as-new (an invoice is retried within minutes, not months). */
const CONSUMED_WINDOW = 1000;
/** Continue-as-new after this many changes even if the history is still small. */
const DEFAULT_CHANGES_PER_RUN = 500;

function rejected(message: string, type: string): never {
  throw ApplicationFailure.nonRetryable(message, type);
}

export async function walletWorkflow(input: WalletWorkflowInput): Promise<void> {
  const record = input.wallet;
  let wallet: Wallet = record.wallet;
  const pending: WalletTransactionRecord[] = [...input.pending];
  const consumed = new Map(input.consumed.map((c) => [c.invoice_id, c.result]));
  /** Transactions created or changed since the last projection. */
  const unprojected = new Map<string, WalletTransactionRecord>();
  const invoicesToIssue: WalletTransactionRecord[] = [];
  const settledNow = new Set<string>();
  const announce: WalletAnnouncements = input.announce ?? { invoices: [], transactions: [], refresh: false };
  let version = input.projected_version ?? 0;
  let projected = version;
  let changes = 0;
  const changesPerRun = input.changes_per_run ?? DEFAULT_CHANGES_PER_RUN;
  const projectedVersion = () => projected;

  const setWallet = (next: Wallet, at: number, consumedNow = false) => {
    wallet = next;
    record.wallet = next;
    record.last_balance_sync_at = at;
    if (consumedNow) record.last_consumed_credit_at = at;
  };
  const changed = (tx?: WalletTransactionRecord): number => {
    if (tx) unprojected.set(tx.id, tx);
    changes += 1;
    version += 1;
    return version;
  };
  const projectedUpTo = (v: number) => condition(() => projectedVersion() >= v);
  const expireIfDue = (now: number) => {
    const expired = expireWallet(wallet, now);
    if (expired !== wallet) {
      setWallet(expired, now);
      changed();
    }
  };

  function transaction(
    fields: Pick<
      WalletTransactionRecord,
      'id' | 'transaction_type' | 'transaction_status' | 'status' | 'amount_cents' | 'credit_amount'
    > &
      Partial<WalletTransactionRecord>,
  ): WalletTransactionRecord {
    const now = Date.now();
    return {
      wallet_id: record.id,
      source: 'manual',
      invoice_lago_id: null,
      name: null,
      metadata: [],
      invoice_requires_successful_payment: false,
      created_at: now,
      settled_at: fields.status === 'settled' ? now : null,
      failed_at: null,
      ...fields,
    };
  }

  /** Applies a top-up request; returns its transactions (paid, granted, voided order, as Lago). */
  function topUp(request: TopUpRequest): WalletTransactionRecord[] {
    const now = Date.now();
    const out: WalletTransactionRecord[] = [];
    const order = { paid: 0, granted: 1, voided: 2 } as const;
    for (const item of [...request.items].sort((a, b) => order[a.kind] - order[b.kind])) {
      const priced = topUpAmount(item.credits, wallet.rateAmount, wallet.currency);
      if (!priced.ok) continue; // the validator refused these already; a creation top-up of 0 is skipped
      const common = {
        id: item.id,
        amount_cents: priced.amountCents,
        credit_amount: priced.credits,
        name: request.name,
        metadata: request.metadata,
        source: request.source,
        invoice_requires_successful_payment: request.invoice_requires_successful_payment,
      };
      let tx: WalletTransactionRecord;
      if (item.kind === 'granted') {
        setWallet(creditWallet(wallet, priced.credits, priced.amountCents), now);
        tx = transaction({
          ...common,
          transaction_type: 'inbound',
          transaction_status: 'granted',
          status: 'settled',
        });
      } else if (item.kind === 'paid') {
        tx = transaction({
          ...common,
          transaction_type: 'inbound',
          transaction_status: 'purchased',
          status: 'pending',
        });
        pending.push(tx);
        invoicesToIssue.push(tx);
      } else {
        const amount = Math.min(priced.amountCents, wallet.balanceCents);
        const debited = debitWallet(wallet, amount);
        setWallet(debited.wallet, now);
        tx = transaction({
          ...common,
          amount_cents: amount,
          credit_amount: debited.creditAmount,
          transaction_type: 'outbound',
          transaction_status: 'voided',
          status: 'settled',
        });
      }
      changed(tx);
      out.push(tx);
    }
    return out;
  }

  function consume(request: ConsumeCreditsRequest): ConsumeCreditsResult {
    const done = consumed.get(request.invoice_id);
    if (done) return done;
    const now = Date.now();
    expireIfDue(now);
    const amount = wallet.status === 'active' ? Math.min(request.amount_cents, wallet.balanceCents) : 0;
    let result: ConsumeCreditsResult = { amount_cents: 0, credit_amount: '0', transaction_id: null };
    if (amount > 0) {
      const debited = debitWallet(wallet, amount);
      setWallet(debited.wallet, now, true);
      const tx = transaction({
        id: `${record.id}:${request.invoice_lago_id}`,
        transaction_type: 'outbound',
        transaction_status: 'invoiced',
        status: 'settled',
        amount_cents: amount,
        credit_amount: debited.creditAmount,
        invoice_lago_id: request.invoice_lago_id,
      });
      changed(tx);
      result = { amount_cents: amount, credit_amount: debited.creditAmount, transaction_id: tx.id };
    }
    consumed.set(request.invoice_id, result);
    while (consumed.size > CONSUMED_WINDOW) consumed.delete(consumed.keys().next().value as string);
    return result;
  }

  const activeOnly = () => {
    if (wallet.status !== 'active') rejected('the wallet is terminated', 'wallet_is_terminated');
  };

  setHandler(walletQuery, () => ({ wallet: record, pending }));

  setHandler(
    walletTopUpUpdate,
    async (request) => {
      const txs = topUp(request);
      await projectedUpTo(version);
      return txs.map((tx) => unprojected.get(tx.id) ?? pending.find((p) => p.id === tx.id) ?? tx);
    },
    {
      validator: (request) => {
        activeOnly();
        for (const item of request.items) {
          const priced = topUpAmount(item.credits, wallet.rateAmount, wallet.currency);
          if (!priced.ok)
            rejected(`${item.kind}_credits: ${priced.error}`, `${item.kind}_credits:${priced.error}`);
        }
      },
    },
  );

  setHandler(walletConsumeUpdate, async (request) => {
    const result = consume(request);
    await projectedUpTo(version);
    return result;
  });

  setHandler(
    walletSettleUpdate,
    async ({ transaction_id, payment_status }) => {
      const index = pending.findIndex((p) => p.id === transaction_id);
      if (index === -1) rejected('no pending top-up with this id', 'wallet_transaction_not_found');
      const now = Date.now();
      const tx = { ...(pending[index] as WalletTransactionRecord) };
      pending.splice(index, 1);
      settledNow.add(tx.id);
      if (payment_status === 'succeeded') {
        // A wallet terminated meanwhile keeps its ledger: the paid credits are recorded, not spendable.
        setWallet(creditWallet(wallet, tx.credit_amount, tx.amount_cents), now);
        tx.status = 'settled';
        tx.settled_at = now;
      } else {
        tx.status = 'failed';
        tx.failed_at = now;
      }
      await projectedUpTo(changed(tx));
      return tx;
    },
    {
      validator: ({ transaction_id }) => {
        if (!pending.some((p) => p.id === transaction_id))
          rejected('no pending top-up with this id', 'wallet_transaction_not_found');
      },
    },
  );

  setHandler(
    walletChangeUpdate,
    async (changes) => {
      const now = Date.now();
      if (changes.name !== undefined) setWallet({ ...wallet, name: changes.name }, now);
      if (changes.priority !== undefined) setWallet({ ...wallet, priority: changes.priority }, now);
      if (changes.expiration_at !== undefined)
        setWallet({ ...wallet, expirationAt: changes.expiration_at }, now);
      if (changes.code !== undefined) record.code = changes.code;
      if (changes.invoice_requires_successful_payment !== undefined)
        record.invoice_requires_successful_payment = changes.invoice_requires_successful_payment;
      await projectedUpTo(changed());
      return record;
    },
    { validator: (_changes: WalletChanges) => activeOnly() },
  );

  setHandler(walletTerminateUpdate, async () => {
    if (wallet.status === 'active') {
      const now = Date.now();
      setWallet({ ...wallet, status: 'terminated', terminatedAt: now }, now);
      await projectedUpTo(changed());
    }
    return record;
  });

  if (input.initial_top_up) topUp(input.initial_top_up);
  let announced = input.announced ?? false;
  if (!announced) changed();

  for (;;) {
    const expiresIn =
      wallet.status === 'active' && wallet.expirationAt !== null
        ? Math.max(1, wallet.expirationAt - Date.now())
        : undefined;
    const due = () =>
      version > projected ||
      announce.refresh ||
      workflowInfo().continueAsNewSuggested ||
      changes >= changesPerRun;
    if (expiresIn === undefined) await condition(due);
    else await condition(due, expiresIn);
    expireIfDue(Date.now());

    if (version > projected) {
      const upTo = version;
      for (const tx of invoicesToIssue.splice(0)) {
        const invoice = await activities.createCreditInvoice({ wallet: record, transaction: tx });
        tx.invoice_lago_id = invoice.lago_id;
        unprojected.set(tx.id, tx);
        announce.invoices.push(invoice.id);
      }
      const txs = [...unprojected.values()];
      unprojected.clear();
      await activities.projectWallet({ wallet: record, transactions: txs, version: upTo, at: Date.now() });
      projected = upTo;
      for (const tx of txs) {
        // `created` once per transaction; `updated` when a paid top-up settles or fails.
        const webhookType = settledNow.delete(tx.id)
          ? 'wallet_transaction.updated'
          : 'wallet_transaction.created';
        announce.transactions.push({ id: tx.id, webhookType });
      }
      announce.refresh = true;
      setCurrentDetails(details());
    }

    // Right after a projection, in the same workflow task as the answers it releases: a steady
    // stream of updates cannot starve continue-as-new. What is still to announce moves with it.
    if (wallet.status === 'terminated' && pending.length === 0 && version === projected) {
      await announceAll();
      await condition(allHandlersFinished);
      if (version === projected) return;
    }
    if ((workflowInfo().continueAsNewSuggested || changes >= changesPerRun) && version === projected) {
      await condition(allHandlersFinished);
      if (version === projected) {
        return continueAsNew<typeof walletWorkflow>({
          wallet: record,
          pending,
          consumed: [...consumed.entries()].map(([invoice_id, result]) => ({ invoice_id, result })),
          initial_top_up: null,
          announced,
          announce,
          projected_version: projected,
          changes_per_run: input.changes_per_run,
        });
      }
    }
    await announceAll();
  }

  /** Webhooks for what was projected, then the customer's ongoing balances. */
  async function announceAll(): Promise<void> {
    if (!announced) {
      announced = true;
      await notify(() => webhooks.notifyWallet({ walletId: record.id, webhookType: 'wallet.created' }));
    }
    for (const invoiceId of announce.invoices.splice(0)) {
      await notify(() => webhooks.notifyInvoice({ invoiceId, webhookType: 'invoice.paid_credit_added' }));
    }
    for (const tx of announce.transactions.splice(0)) {
      await notify(() =>
        webhooks.notifyWalletTransaction({ transactionId: tx.id, webhookType: tx.webhookType }),
      );
    }
    if (announce.refresh) {
      announce.refresh = false;
      await activities.refreshOngoingBalances({
        organization_id: record.organization_id,
        customer_id: record.customer_id,
      });
    }
  }

  function details(): string {
    const money = formatQuantity(minorToAmount(wallet.balanceCents, wallet.currency));
    return [
      `**${wallet.status}** wallet of ${record.external_customer_id}, priority ${wallet.priority}`,
      `Balance: ${formatQuantity(new Dec(wallet.creditsBalance))} credits = ${money} ${wallet.currency}`,
      `Pending paid top-ups: ${pending.length}`,
    ].join('\n');
  }
}

async function notify(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch {
    // Delivery failed after its attempts: the webhooks collection records the failure.
  }
}
