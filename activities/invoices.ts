import type { Db } from 'mongodb';
import { insertInvoiceIfMissing, invoices, type InvoiceDoc } from '../src/store/invoices';
import { stableUuid } from '../src/store/stable-uuid';
import { claimInvoiceNumbers, takeInvoiceNumber } from '../src/store/invoice-numbers';
import { customers, documentNumberPrefix } from '../src/store/customers';
import { organizations } from '../src/store/organizations';
import type { ComputedInvoice, StoredInvoiceSummary } from '../src/contracts/subscription-workflow';

export interface InvoiceActivityDeps {
  db: Db;
  /** Called once an invoice is finalized (credits, then webhooks); must be idempotent. */
  onFinalized?: (invoice: InvoiceDoc) => Promise<void>;
}

function summary(doc: InvoiceDoc): StoredInvoiceSummary {
  return {
    id: doc._id,
    lago_id: doc.lago_id,
    status: doc.status === 'finalized' ? 'finalized' : 'draft',
    number: doc.number,
    total_amount_cents: doc.total_amount_cents,
  };
}

/** The computed content of an invoice, as stored (everything that a recomputed draft may change). */
function content(inv: ComputedInvoice) {
  return {
    invoicing_reason: inv.invoicing_reason,
    issuing_date: inv.issuing_date,
    payment_due_date: inv.issuing_date,
    currency: inv.currency,
    from_datetime: inv.from_datetime,
    to_datetime: inv.to_datetime,
    fees_amount_cents: inv.fees_amount_cents,
    taxes_amount_cents: inv.taxes_amount_cents,
    sub_total_excluding_taxes_amount_cents: inv.sub_total_excluding_taxes_amount_cents,
    sub_total_including_taxes_amount_cents: inv.sub_total_including_taxes_amount_cents,
    fees: inv.fees.map((f, i) => ({
      ...f,
      lago_id: stableUuid(`${inv.id}:fee:${i}:${f.charge_code ?? f.fee_type}`),
    })),
  };
}

/**
 * How subscription invoices are written (the invoice activities and settleInvoice share it): drafts
 * inserted once, finalization with a number claimed once.
 */
export function createInvoiceWriter(db: Db) {
  async function prefixOf(organizationId: string): Promise<string> {
    const org = await organizations(db).findOne({ _id: organizationId });
    return documentNumberPrefix(org ?? { _id: organizationId, name: 'org' });
  }

  /** The invoice as a new draft document (number `{PREFIX}-DRAFT` until it is finalized). */
  function draftDoc(inv: ComputedInvoice, prefix: string): InvoiceDoc {
    const now = new Date();
    return {
      _id: inv.id,
      lago_id: stableUuid(inv.id),
      organization_id: inv.organization_id,
      customer_id: inv.customer_id,
      external_customer_id: inv.external_customer_id,
      subscription_id: inv.subscription_id,
      external_subscription_id: inv.external_subscription_id,
      invoice_type: 'subscription',
      status: 'draft',
      payment_status: 'pending',
      number: `${prefix}-DRAFT`,
      sequential_id: null,
      net_payment_term: 0,
      prepaid_credit_amount_cents: 0,
      total_amount_cents: inv.sub_total_including_taxes_amount_cents,
      created_at: now,
      updated_at: now,
      finalized_at: null,
      version_number: 1,
      ...content(inv),
    };
  }

  /** Inserts the invoice as a draft unless it exists; never touches a finalized one. */
  async function insertDraftIfMissing(inv: ComputedInvoice): Promise<void> {
    await insertInvoiceIfMissing(db, draftDoc(inv, await prefixOf(inv.organization_id)));
  }

  /**
   * The invoice finalized, as stored: either inserted finalized at once with a new number (the
   * usual case: no draft was kept), or a stored draft updated to final with its number claimed once
   * (`claimInvoiceNumbers`). A finalized invoice is never touched again, so a retry returns what the
   * first call stored. The organization, the customer and the invoice are read at once, by `_id`;
   * `read` is the invoice as the caller just read it (null: not stored), so it is not read again.
   */
  async function finalizeStored(inv: ComputedInvoice, read?: InvoiceDoc | null): Promise<InvoiceDoc> {
    const [found, prefix, customer] = await Promise.all([
      read === undefined ? invoices(db).findOne({ _id: inv.id }) : read,
      prefixOf(inv.organization_id),
      customers(db).findOne({ _id: inv.customer_id }),
    ]);
    if (found && found.status !== 'draft') return found;
    // A stored draft claims its number (a retried update keeps it); a new invoice is inserted final
    // with its number in one write, and that invoice is the claim.
    const seq = found
      ? await claimInvoiceNumbers(db, inv.id, inv.customer_id)
      : { customerSequence: await takeInvoiceNumber(db, inv.customer_id) };
    const pad = (n: number) => String(n).padStart(3, '0');
    const now = new Date();
    const final = {
      ...content(inv),
      status: 'finalized' as const,
      number: `${prefix}-${pad(customer?.sequential_id ?? 0)}-${pad(seq.customerSequence)}`,
      sequential_id: seq.customerSequence,
      // Wallet credits were applied by the workflow (lagoAmountsWithCredits) before this call.
      prepaid_credit_amount_cents: inv.prepaid_credit_amount_cents,
      total_amount_cents: inv.total_amount_cents,
      payment_status: inv.total_amount_cents > 0 ? ('pending' as const) : ('succeeded' as const),
      finalized_at: now,
      updated_at: now,
    };
    if (!found) {
      const doc: InvoiceDoc = { ...draftDoc(inv, prefix), ...final, version_number: 2 };
      if (await insertInvoiceIfMissing(db, doc)) return doc;
    }
    await invoices(db).updateOne(
      { _id: inv.id, status: 'draft' },
      { $set: final, $inc: { version_number: 1 } },
    );
    const stored = await invoices(db).findOne({ _id: inv.id });
    if (!stored) throw new Error(`invoice ${inv.id} could not be stored`);
    return stored;
  }

  /** The stored invoice, null when it is not stored. */
  async function storedInvoice(invoiceId: string): Promise<InvoiceDoc | null> {
    return invoices(db).findOne({ _id: invoiceId });
  }

  return { insertDraftIfMissing, finalizeStored, storedInvoice };
}

export function createInvoiceActivities(deps: InvoiceActivityDeps) {
  const { db } = deps;
  const { insertDraftIfMissing, finalizeStored } = createInvoiceWriter(db);

  return {
    /**
     * Stores a draft (grace period): inserted once, then recomputed content replaces the old while it
     * is still a draft. Idempotent: a retried or replayed call leaves one invoice.
     */
    async saveInvoice(inv: ComputedInvoice): Promise<StoredInvoiceSummary> {
      await insertDraftIfMissing(inv);
      await invoices(db).updateOne(
        { _id: inv.id, status: 'draft' },
        {
          $set: {
            ...content(inv),
            total_amount_cents: inv.sub_total_including_taxes_amount_cents,
            updated_at: new Date(),
          },
          $inc: { version_number: 1 },
        },
      );
      const stored = await invoices(db).findOne({ _id: inv.id });
      return summary(stored!);
    },

    /**
     * Finalizes with the final content: number `{PREFIX}-{customer seq:3}-{invoice seq:3}` (claimed
     * once per invoice), payment status, then credits and webhooks (onFinalized). Idempotent.
     */
    async finalizeInvoice(inv: ComputedInvoice): Promise<StoredInvoiceSummary> {
      const doc = await finalizeStored(inv);
      if (!deps.onFinalized) return summary(doc);
      await deps.onFinalized(doc);
      return summary((await invoices(db).findOne({ _id: inv.id })) ?? doc);
    },
  };
}
