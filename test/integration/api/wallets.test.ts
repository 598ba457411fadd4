/**
 * The wallets API over HTTP on the real stack (dev server, worker, FerretDB): edits, termination,
 * voided credits, a failed credit-invoice payment, filters, limits and every error shape. Refused
 * requests change nothing.
 */
import { startStack, type Stack } from '../../support/stack';
import { wallets, walletTransactions } from '../../../src/store/wallets';

describe('wallets API', () => {
  let stack: Stack;
  let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(async () => {
    stack = await startStack();
    call = async (method, path, body) => {
      const res = await fetch(`${stack.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    await call('POST', '/customers', { customer: { external_id: 'acme', name: 'Acme', currency: 'USD' } });
    await call('POST', '/customers', { customer: { external_id: 'nocurrency', name: 'No currency' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const settledBalance = async (id: string, cents: number) => {
    for (let i = 0; i < 200; i++) {
      const w = await call('GET', `/wallets/${id}`);
      if (w.body.wallet.balance_cents === cents) return w.body.wallet;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`balance never reached ${cents}`);
  };

  it('refuses bad input with Lago errors and stores nothing', async () => {
    const before = await wallets(stack.db).countDocuments();
    const cases: [unknown, number, unknown][] = [
      [{}, 400, undefined],
      [
        { wallet: { external_customer_id: 'acme', currency: 'USD' } },
        422,
        { rate_amount: ['value_is_mandatory'] },
      ],
      [
        { wallet: { external_customer_id: 'acme', rate_amount: '-1', currency: 'USD' } },
        422,
        { rate_amount: ['invalid_rate_amount'] },
      ],
      [
        { wallet: { external_customer_id: 'acme', rate_amount: 'abc', currency: 'USD' } },
        422,
        { rate_amount: ['invalid_rate_amount'] },
      ],
      [
        { wallet: { external_customer_id: 'acme', rate_amount: '1', currency: 'XXX' } },
        422,
        { currency: ['value_is_invalid'] },
      ],
      [
        { wallet: { external_customer_id: 'acme', rate_amount: '1', currency: 'USD', priority: 51 } },
        422,
        { priority: ['value_is_out_of_range'] },
      ],
      [
        {
          wallet: { external_customer_id: 'acme', rate_amount: '1', currency: 'USD', granted_credits: '-5' },
        },
        422,
        { granted_credits: ['invalid_granted_credits'] },
      ],
      [
        {
          wallet: {
            external_customer_id: 'acme',
            rate_amount: '1',
            currency: 'USD',
            expiration_at: '2001-01-01T00:00:00Z',
          },
        },
        422,
        { expiration_at: ['invalid_date'] },
      ],
      [
        {
          wallet: {
            external_customer_id: 'acme',
            rate_amount: '1',
            currency: 'USD',
            expiration_at: 'tomorrow',
          },
        },
        422,
        { expiration_at: ['invalid_date'] },
      ],
    ];
    for (const [body, status, details] of cases) {
      const res = await call('POST', '/wallets', body);
      expect({ body, status: res.status }).toEqual({ body, status });
      if (details)
        expect(res.body).toMatchObject({ status: 422, code: 'validation_errors', error_details: details });
    }
    expect(await wallets(stack.db).countDocuments()).toBe(before);
    expect(await call('GET', '/wallets/00000000-0000-0000-0000-000000000000')).toMatchObject({
      status: 404,
      body: { status: 404, error: 'Not Found', code: 'wallet_not_found' },
    });
  });

  it('gives the customer its currency, edits, voids, fails a payment, lists, and terminates', async () => {
    const created = await call('POST', '/wallets', {
      wallet: {
        external_customer_id: 'nocurrency',
        rate_amount: '2',
        currency: 'EUR',
        granted_credits: '10',
        name: 'Gift',
      },
    });
    expect(created.status).toBe(200);
    const id = created.body.wallet.lago_id as string;
    expect((await call('GET', '/customers/nocurrency')).body.customer.currency).toBe('EUR');
    // 10 credits at €2: 2000 cents.
    await settledBalance(id, 2000);

    const edited = await call('PUT', `/wallets/${id}`, {
      wallet: { name: 'Renamed', priority: 3, expiration_at: '2099-01-01T00:00:00Z' },
    });
    expect(edited.body.wallet).toMatchObject({
      name: 'Renamed',
      priority: 3,
      expiration_at: '2099-01-01T00:00:00Z',
    });

    const voided = await call('POST', '/wallet_transactions', {
      wallet_transaction: { wallet_id: id, voided_credits: '2.5' },
    });
    expect(voided.body.wallet_transactions).toEqual([
      expect.objectContaining({
        transaction_type: 'outbound',
        transaction_status: 'voided',
        status: 'settled',
        amount: '5.0',
        credit_amount: '2.5',
      }),
    ]);
    expect((await call('GET', `/wallets/${id}`)).body.wallet).toMatchObject({
      balance_cents: 1500,
      credits_balance: '7.5',
    });

    // A paid top-up whose payment fails: the transaction fails, the balance does not move.
    const paid = await call('POST', '/wallet_transactions', {
      wallet_transaction: { wallet_id: id, paid_credits: '1' },
    });
    const purchase = paid.body.wallet_transactions[0];
    expect(purchase).toMatchObject({ status: 'pending', transaction_status: 'purchased', amount: '2.0' });
    const failed = await call('PUT', `/invoices/${purchase.lago_invoice_id}`, {
      invoice: { payment_status: 'failed' },
    });
    expect(failed.body.invoice).toMatchObject({ invoice_type: 'credit', payment_status: 'failed' });
    const tx = await walletTransactions(stack.db).findOne({ _id: purchase.lago_id });
    expect(tx).toMatchObject({ status: 'failed' });
    expect((await call('GET', `/wallets/${id}`)).body.wallet.balance_cents).toBe(1500);

    const bad = await call('POST', '/wallet_transactions', {
      wallet_transaction: { wallet_id: id, granted_credits: '0.001' },
    });
    expect(bad).toMatchObject({
      status: 422,
      body: {
        error_details: { granted_credits: ['amount_rounds_to_zero'] },
      },
    });
    expect(
      await call('POST', '/wallet_transactions', {
        wallet_transaction: { wallet_id: 'nope', granted_credits: '1' },
      }),
    ).toMatchObject({ status: 422, body: { error_details: { wallet_id: ['wallet_not_found'] } } });

    const list = await call('GET', '/wallets?external_customer_id=nocurrency');
    expect(list.body.wallets.map((w: { lago_id: string }) => w.lago_id)).toEqual([id]);
    expect(list.body.meta).toMatchObject({ current_page: 1, total_count: 1 });
    const outbound = await call('GET', `/wallets/${id}/wallet_transactions?transaction_type=outbound`);
    expect(outbound.body.wallet_transactions).toHaveLength(1);
    expect(
      (await call('GET', `/wallets/${id}/wallet_transactions?status=failed`)).body.wallet_transactions,
    ).toHaveLength(1);
    expect((await call('GET', `/wallets/${id}/wallet_transactions?status=nope`)).status).toBe(422);
    expect(
      (await call('GET', `/wallets/00000000-0000-0000-0000-000000000000/wallet_transactions`)).status,
    ).toBe(404);

    const ended = await call('DELETE', `/wallets/${id}`);
    expect(ended.body.wallet).toMatchObject({ status: 'terminated', balance_cents: 1500 });
    expect(ended.body.wallet.terminated_at).toEqual(expect.any(String));
    expect((await call('DELETE', `/wallets/${id}`)).body.wallet.status).toBe('terminated');
    expect(await call('PUT', `/wallets/${id}`, { wallet: { name: 'x' } })).toMatchObject({
      status: 422,
      body: { error_details: { wallet_id: ['wallet_is_terminated'] } },
    });
  });

  it('allows at most 6 active wallets per customer', async () => {
    await call('POST', '/customers', { customer: { external_id: 'many', name: 'Many', currency: 'USD' } });
    for (let i = 0; i < 6; i++) {
      const res = await call('POST', '/wallets', {
        wallet: { external_customer_id: 'many', rate_amount: '1', currency: 'USD' },
      });
      expect(res.status).toBe(200);
    }
    expect(
      await call('POST', '/wallets', {
        wallet: { external_customer_id: 'many', rate_amount: '1', currency: 'USD' },
      }),
    ).toMatchObject({ status: 422, body: { error_details: { customer: ['wallet_limit_reached'] } } });
  });
});
