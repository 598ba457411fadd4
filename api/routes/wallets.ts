/**
 * Lago's wallets and wallet transactions (lago-api.md section 4.8; SPEC section 6). Reads come from
 * the read model the wallet workflows project; every balance change goes through the wallet's
 * workflow, which answers once its ledger is stored.
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, validationErrors } from '../errors';
import { registerRoute } from '../openapi';
import { findPage, paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { createWallet, updateWallet } from '../wallet-control';
import { Dec, topUpAmount } from '../../src/billing';
import { serializeWallet, serializeWalletTransaction } from '../../src/contracts/lago/serializers/wallet';
import {
  ACTIVE_WALLET_LIMIT,
  walletCreateInput,
  walletListQuery,
  walletTransactionCreateInput,
  walletTransactionListQuery,
  walletUpdateInput,
} from '../../src/contracts/lago/wallet';
import type { TopUpItem, WalletChanges } from '../../src/contracts/wallet-workflow';
import { customers, findCustomer } from '../../src/store/customers';
import {
  customerWallets,
  listWalletPage,
  listWalletTransactionPage,
  ongoingOf,
  wallets,
  walletTransactions,
  type WalletDoc,
} from '../../src/store/wallets';
import { walletChangeUpdate, walletTerminateUpdate, walletTopUpUpdate } from '../../src/temporal/messages';
import type { ErrorDetails } from '../errors';

const ROOT = 'wallet';

registerRoute({
  method: 'post',
  path: '/wallets',
  summary:
    'Create a wallet of prepaid credits; initial `paid_credits`/`granted_credits` are processed just after (the response shows 0)',
  requestRoot: ROOT,
  requestSchema: walletCreateInput,
  responses: {
    200: { description: 'The wallet', root: ROOT },
    400: 'No `wallet` root',
    422: '`customer_not_found`, `wallet_limit_reached`, `currencies_does_not_match`, `invalid_rate_amount`, `invalid_paid_credits`, `amount_rounds_to_zero`, `invalid_date`',
    503: 'The billing engine did not answer: nothing was created',
  },
});
registerRoute({
  method: 'get',
  path: '/wallets',
  summary: 'List wallets, newest first (`external_customer_id` to filter)',
  query: paginationQuery.extend(walletListQuery.shape),
  responses: { 200: { description: 'One page of wallets', root: 'wallets', list: true } },
});
registerRoute({
  method: 'get',
  path: '/wallets/{lago_id}',
  summary: 'Find a wallet (balance and ongoing balance as last projected)',
  responses: { 200: { description: 'The wallet', root: ROOT }, 404: '`wallet_not_found`' },
});
registerRoute({
  method: 'put',
  path: '/wallets/{lago_id}',
  summary: 'Update `name`, `code`, `priority`, `expiration_at`, `invoice_requires_successful_payment`',
  requestRoot: ROOT,
  requestSchema: walletUpdateInput,
  responses: {
    200: { description: 'The wallet', root: ROOT },
    404: '`wallet_not_found`',
    422: '`wallet_is_terminated`, invalid fields',
  },
});
registerRoute({
  method: 'delete',
  path: '/wallets/{lago_id}',
  summary: 'Terminate a wallet (its credits are no longer applied)',
  responses: { 200: { description: 'The terminated wallet', root: ROOT }, 404: '`wallet_not_found`' },
});
registerRoute({
  method: 'post',
  path: '/wallet_transactions',
  summary:
    'Top up (paid: pending until its credit invoice is paid; granted: settled at once) or void credits; one transaction per kind',
  requestRoot: 'wallet_transaction',
  requestSchema: walletTransactionCreateInput,
  responses: {
    200: {
      description: 'The transactions (paid, granted, voided order)',
      root: 'wallet_transactions',
      list: true,
    },
    400: 'No `wallet_transaction` root',
    422: '`wallet_not_found`, `wallet_is_terminated`, `invalid_paid_credits`, `amount_rounds_to_zero`',
    503: 'The billing engine did not answer',
  },
});
registerRoute({
  method: 'get',
  path: '/wallets/{lago_id}/wallet_transactions',
  summary: 'List a wallet’s transactions, newest first (`status`, `transaction_status`, `transaction_type`)',
  query: paginationQuery.extend(walletTransactionListQuery.shape),
  responses: {
    200: { description: 'One page of transactions', root: 'wallet_transactions', list: true },
    404: '`wallet_not_found`',
  },
});

/** Lago's error code for a refused amount of credits. */
function creditsError(field: 'paid' | 'granted' | 'voided', error: string): string {
  return error === 'invalid_credits' ? `invalid_${field}_credits` : error;
}

/** The top-up items of a request; a credits value of 0 means "none of this kind". */
function topUpItems(
  given: { paid?: string | null; granted?: string | null; voided?: string | null },
  wallet: { rate_amount: string; currency: string },
  details: ErrorDetails,
): TopUpItem[] {
  const items: TopUpItem[] = [];
  for (const kind of ['paid', 'granted', 'voided'] as const) {
    const credits = given[kind];
    if (credits === undefined || credits === null) continue;
    if (/^\d+(\.\d+)?$/.test(credits) && new Dec(credits).isZero()) continue;
    const priced = topUpAmount(credits, wallet.rate_amount, wallet.currency);
    if (!priced.ok) details[`${kind}_credits`] = [creditsError(kind, priced.error)];
    else items.push({ id: randomUUID(), kind, credits: priced.credits });
  }
  return items;
}

const hasDetails = (details: ErrorDetails) => Object.keys(details).length > 0;

export function walletRoutes(deps: ApiDeps): Router {
  const { db } = deps;
  const router = Router();

  async function load(organizationId: string, id: unknown): Promise<WalletDoc> {
    const doc = await wallets(db).findOne({ _id: String(id), organization_id: organizationId });
    if (!doc) throw notFound('wallet');
    return doc;
  }

  const reread = async (doc: WalletDoc) => (await wallets(db).findOne({ _id: doc._id })) ?? doc;
  /** The wallets in Lago's shape, with their ongoing balances. */
  const render = async (docs: WalletDoc[]) => {
    const ongoing = await ongoingOf(
      db,
      docs.map((d) => d._id),
    );
    return docs.map((d) => serializeWallet(d, ongoing.get(d._id)));
  };
  const renderOne = async (doc: WalletDoc) => (await render([doc]))[0];

  router.post('/', async (req, res) => {
    const org = organizationOf(req);
    const input = parseRoot(req, ROOT, walletCreateInput);
    const customer = await findCustomer(db, org._id, input.external_customer_id);
    if (!customer) throw validationErrors({ customer: ['customer_not_found'] });
    const details: ErrorDetails = {};
    if (customer.currency && customer.currency !== input.currency)
      details.currency = ['currencies_does_not_match'];
    const rate = topUpAmount('1', input.rate_amount, input.currency);
    if (!rate.ok && rate.error === 'invalid_rate_amount') details.rate_amount = ['invalid_rate_amount'];
    const expiration = input.expiration_at ? Date.parse(input.expiration_at) : null;
    const now = Date.now();
    if (expiration !== null && expiration <= now) details.expiration_at = ['invalid_date'];
    const items = details.rate_amount
      ? []
      : topUpItems(
          { paid: input.paid_credits, granted: input.granted_credits },
          { rate_amount: input.rate_amount, currency: input.currency },
          details,
        );
    if (hasDetails(details)) throw validationErrors(details);
    const active = (await customerWallets(db, org._id, customer._id)).filter(
      (w) => w.status === 'active',
    ).length;
    if (active >= ACTIVE_WALLET_LIMIT) throw validationErrors({ customer: ['wallet_limit_reached'] });
    if (!customer.currency) {
      await customers(db).updateOne(
        { _id: customer._id, currency: null },
        { $set: { currency: input.currency } },
      );
    }

    const doc = await createWallet(deps, {
      organizationId: org._id,
      customer,
      currency: input.currency,
      rateAmount: input.rate_amount,
      name: input.name ?? null,
      code: input.code ?? null,
      priority: input.priority ?? 50,
      createdAt: now,
      expirationAt: expiration,
      appliesTo: {
        feeTypes: input.applies_to?.fee_types ?? [],
        billableMetricCodes: input.applies_to?.billable_metric_codes ?? [],
      },
      invoiceRequiresSuccessfulPayment: input.invoice_requires_successful_payment ?? false,
      paidTopUpMinAmountCents: input.paid_top_up_min_amount_cents ?? null,
      paidTopUpMaxAmountCents: input.paid_top_up_max_amount_cents ?? null,
      initialTopUp:
        items.length > 0
          ? {
              items,
              name: input.transaction_name ?? null,
              metadata: input.transaction_metadata ?? [],
              invoice_requires_successful_payment: input.invoice_requires_successful_payment ?? false,
              source: 'manual',
            }
          : null,
    });
    res.json({ wallet: await renderOne(await reread(doc)) });
  });

  router.get('/', async (req, res) => {
    const org = organizationOf(req);
    const q = parseQuery(req, paginationQuery.extend(walletListQuery.shape));
    // List entries and a count read by `_id` (the customer's own list when filtered by customer).
    const customer =
      q.external_customer_id === undefined
        ? undefined
        : await findCustomer(db, org._id, q.external_customer_id);
    const listed =
      customer === null
        ? { docs: [], totalCount: 0 }
        : await listWalletPage(db, org._id, customer?._id, {
            skip: (q.page - 1) * q.per_page,
            limit: q.per_page,
          });
    res.json({ wallets: await render(listed.docs), meta: paginationMeta(q, listed.totalCount) });
  });

  router.get('/:id', async (req, res) => {
    res.json({ wallet: await renderOne(await load(organizationOf(req)._id, req.params.id)) });
  });

  router.put('/:id', async (req, res) => {
    const doc = await load(organizationOf(req)._id, req.params.id);
    const input = parseRoot(req, ROOT, walletUpdateInput);
    if (doc.status === 'terminated') throw validationErrors({ wallet_id: ['wallet_is_terminated'] });
    const changes: WalletChanges = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.code !== undefined) changes.code = input.code;
    if (input.priority !== undefined && input.priority !== null) changes.priority = input.priority;
    if (
      input.invoice_requires_successful_payment !== undefined &&
      input.invoice_requires_successful_payment !== null
    )
      changes.invoice_requires_successful_payment = input.invoice_requires_successful_payment;
    if (input.expiration_at !== undefined) {
      const expiration = input.expiration_at === null ? null : Date.parse(input.expiration_at);
      if (expiration !== null && expiration <= Date.now())
        throw validationErrors({ expiration_at: ['invalid_date'] });
      changes.expiration_at = expiration;
    }
    await updateWallet(deps, doc, (h) => h.executeUpdate(walletChangeUpdate, { args: [changes] }));
    const others: Partial<WalletDoc> = {};
    if (input.paid_top_up_min_amount_cents !== undefined)
      others.paid_top_up_min_amount_cents = input.paid_top_up_min_amount_cents;
    if (input.paid_top_up_max_amount_cents !== undefined)
      others.paid_top_up_max_amount_cents = input.paid_top_up_max_amount_cents;
    if (Object.keys(others).length > 0) await wallets(db).updateOne({ _id: doc._id }, { $set: others });
    res.json({ wallet: await renderOne(await reread(doc)) });
  });

  router.delete('/:id', async (req, res) => {
    const doc = await load(organizationOf(req)._id, req.params.id);
    if (doc.status === 'active')
      await updateWallet(deps, doc, (h) =>
        h.executeUpdate(walletTerminateUpdate, { updateId: `terminate:${doc._id}` }),
      );
    res.json({ wallet: await renderOne(await reread(doc)) });
  });

  router.get('/:id/wallet_transactions', async (req, res) => {
    const doc = await load(organizationOf(req)._id, req.params.id);
    const q = parseQuery(req, paginationQuery.extend(walletTransactionListQuery.shape));
    const filter: Record<string, unknown> = { wallet_id: doc._id };
    if (q.status) filter.status = q.status;
    if (q.transaction_status) filter.transaction_status = q.transaction_status;
    if (q.transaction_type) filter.transaction_type = q.transaction_type;
    // The wallet's whole ledger: list entries and a count read by `_id`; filtered: the indexed query.
    const { docs, meta } =
      Object.keys(filter).length > 1
        ? await findPage(walletTransactions(db), filter, q)
        : await listWalletTransactionPage(db, doc._id, {
            skip: (q.page - 1) * q.per_page,
            limit: q.per_page,
          }).then(({ docs, totalCount }) => ({ docs, meta: paginationMeta(q, totalCount) }));
    res.json({ wallet_transactions: docs.map((tx) => serializeWalletTransaction(tx, doc)), meta });
  });

  return router;
}

export function walletTransactionRoutes(deps: ApiDeps): Router {
  const { db } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const org = organizationOf(req);
    const input = parseRoot(req, 'wallet_transaction', walletTransactionCreateInput);
    const doc = await wallets(db).findOne({ _id: input.wallet_id, organization_id: org._id });
    if (!doc) throw validationErrors({ wallet_id: ['wallet_not_found'] });
    if (doc.status === 'terminated') throw validationErrors({ wallet_id: ['wallet_is_terminated'] });
    const details: ErrorDetails = {};
    const items = topUpItems(
      { paid: input.paid_credits, granted: input.granted_credits, voided: input.voided_credits },
      doc,
      details,
    );
    if (hasDetails(details)) throw validationErrors(details);
    if (items.length === 0) {
      res.json({ wallet_transactions: [] });
      return;
    }
    const created = await updateWallet(deps, doc, (h) =>
      h.executeUpdate(walletTopUpUpdate, {
        args: [
          {
            items,
            name: input.name ?? null,
            metadata: input.metadata ?? [],
            invoice_requires_successful_payment:
              input.invoice_requires_successful_payment ?? doc.invoice_requires_successful_payment,
            source: 'manual',
          },
        ],
      }),
    );
    const stored = await Promise.all(created.map((tx) => walletTransactions(db).findOne({ _id: tx.id })));
    const byId = new Map(stored.flatMap((tx) => (tx ? [[tx._id, tx] as const] : [])));
    const wallet = (await wallets(db).findOne({ _id: doc._id })) ?? doc;
    res.json({
      wallet_transactions: created.flatMap((tx) => {
        const s = byId.get(tx.id);
        return s ? [serializeWalletTransaction(s, wallet)] : [];
      }),
    });
  });

  return router;
}
