/**
 * Prepaid credits end to end through Lago's official client on the real stack (Temporal dev server,
 * FerretDB, worker, API): a wallet created with paid and granted credits, a top-up, its transactions
 * listed, the credit invoice paid, the ongoing balance, and a final seat invoice reduced by credits.
 */
import { Client, getLagoError } from 'lago-javascript-client';
import { startStack, type Stack } from '../support/stack';
import { createSeatCatalog } from '../support/lago-catalog';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { invoices } from '../../src/store/invoices';

async function lagoError(call: Promise<unknown>): Promise<{ status: number; error_details?: unknown }> {
  try {
    await call;
  } catch (err) {
    return (await getLagoError<unknown>(err)) as { status: number; error_details?: unknown };
  }
  throw new Error('the request was accepted');
}

describe('wallets through lago-javascript-client', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startStack();
    receiver = await startWebhookReceiver();
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    await lago.webhookEndpoints.createWebhookEndpoint({
      webhook_endpoint: { webhook_url: receiver.url, signature_algo: 'hmac' },
    });
    await createSeatCatalog(lago);
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it('creates, tops up, lists transactions, settles a paid top-up and reduces an invoice by credits', async () => {
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    const now = Date.now();
    const d = new Date(now);
    const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);

    await lago.customers.createCustomer({
      customer: { external_id: 'acme', name: 'Acme', currency: 'USD', timezone: 'UTC' },
    });

    // Lago's validation errors.
    expect(
      await lagoError(
        lago.wallets.createWallet({
          wallet: { external_customer_id: 'nobody', rate_amount: '1', currency: 'USD' },
        }),
      ),
    ).toMatchObject({ status: 422, error_details: { customer: ['customer_not_found'] } });
    expect(
      await lagoError(
        lago.wallets.createWallet({
          wallet: { external_customer_id: 'acme', rate_amount: '1', currency: 'EUR' },
        }),
      ),
    ).toMatchObject({ status: 422, error_details: { currency: ['currencies_does_not_match'] } });
    expect(
      await lagoError(
        lago.wallets.createWallet({
          wallet: { external_customer_id: 'acme', rate_amount: '0', currency: 'USD' },
        }),
      ),
    ).toMatchObject({ status: 422, error_details: { rate_amount: ['invalid_rate_amount'] } });
    expect(
      await lagoError(
        lago.wallets.createWallet({
          wallet: { external_customer_id: 'acme', rate_amount: '1', currency: 'USD', paid_credits: '0.001' },
        }),
      ),
    ).toMatchObject({ status: 422, error_details: { paid_credits: ['amount_rounds_to_zero'] } });

    // Created at 0: the initial credits are processed just after (as Lago's create job).
    const { data: created } = await lago.wallets.createWallet({
      wallet: {
        external_customer_id: 'acme',
        name: 'Prepaid',
        rate_amount: '1',
        currency: 'USD',
        paid_credits: '20',
        granted_credits: '10',
      },
    });
    expect(created.wallet).toMatchObject({
      status: 'active',
      balance_cents: 0,
      rate_amount: '1.0',
      priority: 50,
    });
    const walletId = created.wallet.lago_id;
    const balance = async () => (await lago.wallets.findWallet(walletId)).data.wallet;
    await eventually(async () => (await balance()).balance_cents === 1000);

    const { data: listed } = await lago.wallets.findAllWalletTransactions(walletId);
    const purchased = listed.wallet_transactions.find((t) => t.transaction_status === 'purchased')!;
    expect(purchased).toMatchObject({ status: 'pending', amount: '20.0', credit_amount: '20.0' });
    expect(listed.wallet_transactions.find((t) => t.transaction_status === 'granted')).toMatchObject({
      status: 'settled',
      amount: '10.0',
    });
    const { data: creditInvoice } = await lago.invoices.findInvoice(purchased.lago_invoice_id!);
    expect(creditInvoice.invoice).toMatchObject({
      invoice_type: 'credit',
      status: 'finalized',
      payment_status: 'pending',
      total_amount_cents: 2000,
    });

    // A granted top-up is settled at once.
    const { data: topUp } = await lago.walletTransactions.createWalletTransaction({
      wallet_transaction: { wallet_id: walletId, granted_credits: '5' },
    });
    expect(topUp.wallet_transactions).toHaveLength(1);
    expect(topUp.wallet_transactions[0]).toMatchObject({
      status: 'settled',
      transaction_status: 'granted',
      amount: '5.0',
    });
    expect((await balance()).balance_cents).toBe(1500);

    // The credit invoice is paid: the purchased credits become spendable.
    await lago.invoices.updateInvoice(purchased.lago_invoice_id!, {
      invoice: { payment_status: 'succeeded' },
    });
    expect((await balance()).balance_cents).toBe(3500);
    const { data: settled } = await lago.wallets.findAllWalletTransactions(walletId, { status: 'settled' });
    expect(settled.wallet_transactions).toHaveLength(3);

    // Two seats since the 1st of the month.
    await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'acme',
        plan_code: 'team',
        external_id: 'acme_team',
        billing_time: 'calendar',
        subscription_at: new Date(monthStart).toISOString(),
      },
    });
    const at = Math.min(monthStart + 9 * 3_600_000, now - 60_000);
    await lago.events.createBatchEvents({
      events: ['u1', 'u2'].map((user) => ({
        transaction_id: `add-${user}`,
        external_subscription_id: 'acme_team',
        code: 'seats',
        timestamp: Math.floor(at / 1000),
        properties: { user_id: user, operation_type: 'add' },
      })),
    });
    const usage = await eventually(async () => {
      const u = (
        await lago.customers.findCustomerCurrentUsage('acme', { external_subscription_id: 'acme_team' })
      ).data.customer_usage;
      return u.charges_usage[0]?.events_count === 2 ? u : null;
    });
    // The ongoing balance counts usage not yet invoiced (refreshed by the subscription within seconds).
    const ongoing = await eventually(async () => {
      const w = await balance();
      return w.ongoing_usage_balance_cents === usage.amount_cents ? w : null;
    });
    expect(ongoing.ongoing_balance_cents).toBe(3500 - usage.amount_cents);

    // Termination bills the final invoice; the wallet pays it.
    await lago.subscriptions.destroySubscription('acme_team');
    const final = await eventually(async () =>
      invoices(stack.db).findOne({ external_subscription_id: 'acme_team', status: 'finalized' }),
    );
    const due = final.sub_total_including_taxes_amount_cents;
    expect(due).toBeGreaterThan(0);
    const { data: listedInvoices } = await lago.invoices.findAllInvoices({
      external_customer_id: 'acme',
      invoice_type: 'subscription',
    });
    expect(listedInvoices.invoices[0]).toMatchObject({
      prepaid_credit_amount_cents: Math.min(due, 3500),
      total_amount_cents: due - Math.min(due, 3500),
    });
    expect((await balance()).balance_cents).toBe(3500 - Math.min(due, 3500));
    const { data: outbound } = await lago.wallets.findAllWalletTransactions(walletId, {
      transaction_type: 'outbound',
    });
    expect(outbound.wallet_transactions).toHaveLength(1);
    expect(outbound.wallet_transactions[0]).toMatchObject({
      transaction_status: 'invoiced',
      lago_invoice_id: final.lago_id,
    });

    // Terminated: no more top-ups.
    const { data: ended } = await lago.wallets.destroyWallet(walletId);
    expect(ended.wallet.status).toBe('terminated');
    expect(
      await lagoError(
        lago.walletTransactions.createWalletTransaction({
          wallet_transaction: { wallet_id: walletId, granted_credits: '1' },
        }),
      ),
    ).toMatchObject({ status: 422, error_details: { wallet_id: ['wallet_is_terminated'] } });
  }, 180_000);

  it('announces wallet.created, wallet_transaction.created and wallet.depleted_ongoing_balance', async () => {
    const lago = Client(stack.apiKey, { baseUrl: stack.baseUrl });
    const now = Date.now();
    const d = new Date(now);
    const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    await lago.customers.createCustomer({
      customer: { external_id: 'beta', name: 'Beta', currency: 'USD', timezone: 'UTC' },
    });
    // One credit at $1: 100 cents, less than a few days of two seats.
    const { data: created } = await lago.wallets.createWallet({
      wallet: { external_customer_id: 'beta', rate_amount: '1', currency: 'USD', granted_credits: '1' },
    });
    const walletId = created.wallet.lago_id;
    await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'beta',
        plan_code: 'team',
        external_id: 'beta_team',
        billing_time: 'calendar',
        subscription_at: new Date(monthStart).toISOString(),
      },
    });
    const at = Math.min(monthStart + 9 * 3_600_000, now - 60_000);
    await lago.events.createBatchEvents({
      events: ['u1', 'u2'].map((user) => ({
        transaction_id: `beta-${user}`,
        external_subscription_id: 'beta_team',
        code: 'seats',
        timestamp: Math.floor(at / 1000),
        properties: { user_id: user, operation_type: 'add' },
      })),
    });
    const about = (type: string) =>
      receiver.received.filter((r) => r.type === type && r.object.lago_id === walletId);
    await eventually(async () => about('wallet.depleted_ongoing_balance').length === 1);
    const depleted = about('wallet.depleted_ongoing_balance')[0]!.object;
    expect(depleted.balance_cents).toBe(100);
    expect(depleted.ongoing_balance_cents as number).toBeLessThanOrEqual(0);
    expect(about('wallet.created')).toHaveLength(1);
    expect(
      receiver.received.filter(
        (r) => r.type === 'wallet_transaction.created' && r.object.lago_wallet_id === walletId,
      ),
    ).toHaveLength(1);
    await lago.subscriptions.destroySubscription('beta_team');
  }, 120_000);
});
