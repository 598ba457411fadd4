/**
 * Subscription invoices (SPEC section 5): fees, totals, status and numbering. An invoice is
 * computed as a value; storing it, numbering it and applying credits happen at finalization.
 */
import type { ChargeFee } from './charge-fee';
import type { LocalDate } from './local-time';
import type { SubscriptionFee } from './subscription-fee';

export type Fee = SubscriptionFee | ChargeFee;
export type FeeType = Fee['feeType'];

export type InvoicingReason =
  'subscription_starting' | 'subscription_periodic' | 'subscription_terminating' | 'in_advance_charge';
export type InvoiceStatus = 'draft' | 'finalized';
export type PaymentStatus = 'pending' | 'succeeded';

export interface Invoice {
  /** Stable identity within the subscription: `{reason}:{period start local date}`. */
  key: string;
  invoicingReason: InvoicingReason;
  status: InvoiceStatus;
  currency: string;
  /** The billing period the invoice closes (or, for `subscription_starting`, opens). */
  periodStartAt: number;
  periodEndAt: number;
  /** Charge window, epoch ms, both inclusive (Lago's from/to datetimes). */
  fromAt: number;
  toAt: number;
  issuingLocalDate: LocalDate;
  /** When the invoice is (or becomes) final: issued instant + grace days. */
  finalizesAt: number;
  fees: Fee[];
  feesAmountCents: number;
  taxesAmountCents: number;
  subTotalExcludingTaxesAmountCents: number;
  subTotalIncludingTaxesAmountCents: number;
  /** Wallet credits applied at finalization (0 while draft). */
  prepaidCreditAmountCents: number;
  totalAmountCents: number;
  paymentStatus: PaymentStatus;
}

export interface InvoiceDraft {
  key: string;
  invoicingReason: InvoicingReason;
  status: InvoiceStatus;
  currency: string;
  periodStartAt: number;
  periodEndAt: number;
  fromAt: number;
  toAt: number;
  issuingLocalDate: LocalDate;
  finalizesAt: number;
  fees: Fee[];
}

/** Lago: `draft` while the customer has a grace period, else finalized at once. */
export function invoiceStatusFor(graceDays: number): InvoiceStatus {
  return graceDays > 0 ? 'draft' : 'finalized';
}

/** Lago: nothing left to pay is `succeeded`, anything due is `pending`. */
export function paymentStatusFor(totalAmountCents: number): PaymentStatus {
  return totalAmountCents > 0 ? 'pending' : 'succeeded';
}

/**
 * Totals from fee cents (Lago `ComputeAmountsFromFees`). No coupons or progressive billing; taxes
 * are 0 until tax rates exist; wallet credits come last (`withPrepaidCredits`).
 */
export function buildInvoice(draft: InvoiceDraft): Invoice {
  let feesAmountCents = 0;
  for (const fee of draft.fees) {
    feesAmountCents += fee.amountCents;
    if (!Number.isSafeInteger(feesAmountCents)) throw new RangeError('invoice total out of range');
  }
  const taxesAmountCents = 0;
  const subTotalExcludingTaxesAmountCents = feesAmountCents;
  const subTotalIncludingTaxesAmountCents = subTotalExcludingTaxesAmountCents + taxesAmountCents;
  return {
    key: draft.key,
    invoicingReason: draft.invoicingReason,
    status: draft.status,
    currency: draft.currency,
    periodStartAt: draft.periodStartAt,
    periodEndAt: draft.periodEndAt,
    fromAt: draft.fromAt,
    toAt: draft.toAt,
    issuingLocalDate: draft.issuingLocalDate,
    finalizesAt: draft.finalizesAt,
    fees: draft.fees,
    feesAmountCents,
    taxesAmountCents,
    subTotalExcludingTaxesAmountCents,
    subTotalIncludingTaxesAmountCents,
    prepaidCreditAmountCents: 0,
    totalAmountCents: subTotalIncludingTaxesAmountCents,
    paymentStatus: paymentStatusFor(subTotalIncludingTaxesAmountCents),
  };
}

/** The amount wallets may still cover (Lago applies credits after taxes and credit notes). */
export function amountDueBeforeCredits(invoice: Pick<Invoice, 'subTotalIncludingTaxesAmountCents'>): number {
  return invoice.subTotalIncludingTaxesAmountCents;
}

/**
 * The amount left due once wallet credits are applied (`total = sub_total_including_taxes - credits`),
 * and whether it is paid. Credits can neither be negative nor exceed the amount due.
 */
export function totalAfterCredits(
  amountDue: number,
  prepaidCreditAmountCents: number,
): { totalAmountCents: number; paymentStatus: PaymentStatus } {
  if (
    !Number.isSafeInteger(prepaidCreditAmountCents) ||
    prepaidCreditAmountCents < 0 ||
    prepaidCreditAmountCents > amountDue
  ) {
    throw new RangeError(`credits ${prepaidCreditAmountCents} do not fit an amount due of ${amountDue}`);
  }
  const totalAmountCents = amountDue - prepaidCreditAmountCents;
  return { totalAmountCents, paymentStatus: paymentStatusFor(totalAmountCents) };
}

/** The finalized invoice with wallet credits applied. */
export function finalizedWithCredits(invoice: Invoice, prepaidCreditAmountCents: number): Invoice {
  return {
    ...invoice,
    status: 'finalized',
    prepaidCreditAmountCents,
    ...totalAfterCredits(amountDueBeforeCredits(invoice), prepaidCreditAmountCents),
  };
}

function pad3(value: number): string {
  return String(value).padStart(3, '0');
}

/** Lago's per-customer numbering: `{PREFIX}-{customer seq:3}-{invoice seq per customer:3}`. */
export function invoiceNumber(
  prefix: string,
  customerSequentialId: number,
  invoiceSequentialId: number,
): string {
  return `${prefix}-${pad3(customerSequentialId)}-${pad3(invoiceSequentialId)}`;
}

/** Drafts carry no number yet. */
export function draftInvoiceNumber(prefix: string): string {
  return `${prefix}-DRAFT`;
}
