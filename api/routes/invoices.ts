import { Router, type Request } from 'express';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, serviceUnavailable } from '../errors';
import { registerRoute } from '../openapi';
import { findPage, paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { serializeInvoice } from '../../src/contracts/lago/serializers/invoice';
import { invoiceListQuery, invoiceUpdateInput } from '../../src/contracts/lago/invoice';
import { invoices, listInvoicePage, type InvoiceDoc } from '../../src/store/invoices';
import { customers } from '../../src/store/customers';
import { subscriptions } from '../../src/store/subscriptions';
import { finalizeInvoiceUpdate } from '../../src/temporal/messages';
import { renderInvoiceHtml } from '../invoice-html';
import { updateWallet } from '../wallet-control';
import { wallets, walletTransactions } from '../../src/store/wallets';
import { walletSettleUpdate } from '../../src/temporal/messages';

registerRoute({
  method: 'get',
  path: '/invoices',
  summary: 'List invoices, newest first',
  query: paginationQuery.extend(invoiceListQuery.shape),
  responses: { 200: { description: 'One page of invoices', root: 'invoices', list: true } },
});
registerRoute({
  method: 'get',
  path: '/invoices/{lago_id}',
  summary: 'An invoice with its fees',
  responses: { 200: { description: 'The invoice', root: 'invoice' }, 404: '`invoice_not_found`' },
});
registerRoute({
  method: 'put',
  path: '/invoices/{lago_id}/finalize',
  summary: 'Finalize a draft invoice now (ends its grace period)',
  responses: {
    200: { description: 'The finalized invoice', root: 'invoice' },
    404: '`invoice_not_found` (or not a draft)',
  },
});
registerRoute({
  method: 'put',
  path: '/invoices/{lago_id}',
  summary: 'Update the payment status',
  requestRoot: 'invoice',
  requestSchema: invoiceUpdateInput,
  responses: { 200: { description: 'The invoice', root: 'invoice' }, 404: '`invoice_not_found`' },
});
registerRoute({
  method: 'post',
  path: '/invoices/{lago_id}/download',
  summary: 'A link to the invoice rendered as HTML (finalized invoices)',
  responses: {
    200: { description: 'The invoice with file_url', root: 'invoice' },
    404: '`invoice_not_found`',
  },
});

const FINALIZE_TIMEOUT_MS = 30_000;

export function fileUrlOf(req: Request, inv: InvoiceDoc): string {
  return `${req.protocol}://${req.get('host')}/invoices/${inv.lago_id}.html`;
}

export function invoiceRoutes(deps: ApiDeps): Router {
  const router = Router();
  const db = deps.db;

  async function load(req: Request): Promise<InvoiceDoc> {
    const org = organizationOf(req);
    const inv = await invoices(db).findOne({ organization_id: org._id, lago_id: String(req.params.id) });
    if (!inv) throw notFound('invoice');
    return inv;
  }

  async function render(req: Request, inv: InvoiceDoc, withFees: boolean) {
    const customer = await customers(db).findOne({ _id: inv.customer_id });
    return serializeInvoice(inv, customer, {
      withFees,
      fileUrl: inv.status === 'finalized' ? fileUrlOf(req, inv) : null,
    });
  }

  router.get('/', async (req, res) => {
    const org = organizationOf(req);
    const q = parseQuery(req, paginationQuery.extend(invoiceListQuery.shape));
    const filter: Record<string, unknown> = { organization_id: org._id };
    const customer = q.external_customer_id ?? q.customer_external_id;
    if (customer) filter.external_customer_id = customer;
    if (q.invoice_type) filter.invoice_type = q.invoice_type;
    const statuses = q['statuses[]'] ?? q.status;
    if (statuses) filter.status = { $in: Array.isArray(statuses) ? statuses : [statuses] };
    const payments = q['payment_statuses[]'] ?? q.payment_status;
    if (payments) filter.payment_status = { $in: Array.isArray(payments) ? payments : [payments] };
    if (q.currency) filter.currency = q.currency;
    const dates: Record<string, string> = {};
    if (q.issuing_date_from) dates.$gte = q.issuing_date_from;
    if (q.issuing_date_to) dates.$lte = q.issuing_date_to;
    if (Object.keys(dates).length > 0) filter.issuing_date = dates;
    // By organization or customer alone: a page of list entries and a count read by `_id`.
    const { docs, meta } = Object.keys(filter).every(
      (k) => k === 'organization_id' || k === 'external_customer_id',
    )
      ? await listInvoicePage(db, org._id, customer, {
          skip: (q.page - 1) * q.per_page,
          limit: q.per_page,
        }).then(({ docs, totalCount }) => ({ docs, meta: paginationMeta(q, totalCount) }))
      : await findPage(invoices(db), filter, q);
    res.json({ invoices: await Promise.all(docs.map((d) => render(req, d, false))), meta });
  });

  router.get('/:id', async (req, res) => {
    res.json({ invoice: await render(req, await load(req), true) });
  });

  router.put('/:id/finalize', async (req, res) => {
    const inv = await load(req);
    if (inv.status !== 'draft') throw notFound('invoice');
    const sub = inv.subscription_id ? await subscriptions(db).findOne({ _id: inv.subscription_id }) : null;
    if (!sub) throw notFound('invoice');
    try {
      await deps.temporal.client.withDeadline(Date.now() + FINALIZE_TIMEOUT_MS, () =>
        deps.temporal.client.workflow.getHandle(sub.workflow_id).executeUpdate(finalizeInvoiceUpdate, {
          args: [{ invoice_id: inv._id }],
          updateId: `finalize:${inv._id}`,
        }),
      );
    } catch (err) {
      const stored = await invoices(db).findOne({ _id: inv._id });
      if (stored?.status === 'finalized') {
        res.json({ invoice: await render(req, stored, true) });
        return;
      }
      if ((err as { cause?: { type?: string } }).cause?.type === 'invoice_not_found')
        throw notFound('invoice');
      throw serviceUnavailable(
        'temporal_unavailable',
        `the billing engine did not answer: ${(err as Error).message}`,
      );
    }
    res.json({ invoice: await render(req, (await invoices(db).findOne({ _id: inv._id }))!, true) });
  });

  router.put('/:id', async (req, res) => {
    const inv = await load(req);
    const input = parseRoot(req, 'invoice', invoiceUpdateInput);
    if (input.payment_status && inv.status === 'finalized') {
      // A paid top-up's credit invoice: its wallet settles (or fails) the transaction first.
      if (inv.invoice_type === 'credit' && input.payment_status !== 'pending')
        await settleTopUp(deps, inv, input.payment_status);
      await invoices(db).updateOne(
        { _id: inv._id },
        { $set: { payment_status: input.payment_status, updated_at: new Date() } },
      );
    }
    res.json({ invoice: await render(req, (await invoices(db).findOne({ _id: inv._id }))!, true) });
  });

  router.post('/:id/download', async (req, res) => {
    const inv = await load(req);
    if (inv.status !== 'finalized') throw notFound('invoice');
    res.json({ invoice: await render(req, inv, true) });
  });

  return router;
}

/** GET /invoices/{lago_id}.html: the rendering `file_url` points at (unguessable id, like Lago's file links). */
export function invoiceHtmlRoute(deps: ApiDeps): Router {
  const router = Router();
  router.get('/invoices/:file', async (req, res) => {
    const m = /^([0-9a-f-]{36})\.html$/.exec(String(req.params.file));
    const inv = m ? await invoices(deps.db).findOne({ lago_id: m[1], status: 'finalized' }) : null;
    if (!inv) throw notFound('invoice');
    const customer = await customers(deps.db).findOne({ _id: inv.customer_id });
    res.type('html').send(renderInvoiceHtml(inv, customer));
  });
  return router;
}

/**
 * The credit invoice of a paid top-up was paid (or failed): the wallet's workflow settles the
 * transaction (the balance rises) before the invoice says so. Settling twice is harmless: a
 * transaction no longer pending is left as it is.
 */
async function settleTopUp(deps: ApiDeps, inv: InvoiceDoc, outcome: 'succeeded' | 'failed'): Promise<void> {
  const fee = inv.fees.find((f) => f.fee_type === 'credit');
  if (!fee || fee.fee_type !== 'credit') return;
  const tx = await walletTransactions(deps.db).findOne({ _id: fee.wallet_transaction_id });
  if (!tx || tx.status !== 'pending') return;
  const wallet = await wallets(deps.db).findOne({ _id: tx.wallet_id });
  if (!wallet) return;
  await updateWallet(deps, wallet, (h) =>
    h.executeUpdate(walletSettleUpdate, {
      args: [{ transaction_id: tx._id, payment_status: outcome }],
      updateId: `settle:${tx._id}`,
    }),
  );
}
