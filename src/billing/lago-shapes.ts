/**
 * The output edge: domain values rendered in Lago's snake_case JSON shapes (lago-api.md sections
 * 4.6 to 4.8). Instants become ISO-8601 UTC without fraction, local dates stay `YYYY-MM-DD`, money
 * stays integer minor units, quantities are decimal strings. Nothing is computed here.
 */
import type { BillableMetric } from './billable-metric';
import type { ChargeFee } from './charge-fee';
import type { CreditTake, CreditableInvoice } from './credit-allocation';
import type { CurrentUsage } from './current-usage';
import { isoSeconds } from './instant';
import { totalAfterCredits, type Fee, type Invoice } from './invoice';
import { Dec, formatQuantity, minorToAmount } from './money';
import type { SimulatedInvoice, SimulationResult, WalletTransaction } from './simulate';
import type { Wallet } from './wallet';

/** A fee as stored and served (the workflow's `ComputedFee`). */
export interface LagoFee {
  fee_type: 'subscription' | 'charge';
  charge_code: string | null;
  lago_charge_id: string | null;
  billable_metric_code: string | null;
  lago_billable_metric_id: string | null;
  invoice_display_name: string | null;
  from_datetime: string;
  to_datetime: string;
  charges_duration: number | null;
  units: string;
  prorated_units: string | null;
  events_count: number;
  amount_cents: number;
  amount_currency: string;
  precise_amount: string | null;
  /** Lago's fee flag: a subscription fee billed ahead of its period, or a pay-in-advance charge's fee. */
  pay_in_advance: boolean;
}

export function lagoFee(fee: Fee, metrics: readonly BillableMetric[]): LagoFee {
  if (fee.feeType === 'subscription') {
    return {
      fee_type: 'subscription',
      charge_code: null,
      lago_charge_id: null,
      billable_metric_code: null,
      lago_billable_metric_id: null,
      invoice_display_name: null,
      from_datetime: isoSeconds(fee.fromAt),
      to_datetime: isoSeconds(fee.toAt),
      charges_duration: null,
      units: fee.units,
      prorated_units: null,
      events_count: fee.eventsCount,
      amount_cents: fee.amountCents,
      amount_currency: fee.currency,
      precise_amount: fee.preciseAmount,
      pay_in_advance: fee.inAdvance,
    };
  }
  return {
    fee_type: 'charge',
    charge_code: fee.chargeCode,
    lago_charge_id: fee.chargeLagoId,
    billable_metric_code: fee.billableMetricCode,
    lago_billable_metric_id: metrics.find((m) => m.code === fee.billableMetricCode)?.lagoId ?? null,
    invoice_display_name: fee.invoiceDisplayName,
    from_datetime: isoSeconds(fee.fromAt),
    to_datetime: isoSeconds(fee.toAt),
    charges_duration: fee.durationDays,
    units: fee.units,
    prorated_units: fee.proratedUnits,
    events_count: fee.eventsCount,
    amount_cents: fee.amountCents,
    amount_currency: fee.currency,
    precise_amount: fee.preciseAmount,
    pay_in_advance: fee.payInAdvance === true,
  };
}

/** The invoice fields billing owns (amounts, dates, fees), in Lago's names. */
export interface LagoInvoiceAmounts {
  invoicing_reason: Invoice['invoicingReason'];
  status: Invoice['status'];
  payment_status: Invoice['paymentStatus'];
  issuing_date: string;
  from_datetime: string;
  to_datetime: string;
  currency: string;
  fees_amount_cents: number;
  taxes_amount_cents: number;
  sub_total_excluding_taxes_amount_cents: number;
  sub_total_including_taxes_amount_cents: number;
  prepaid_credit_amount_cents: number;
  total_amount_cents: number;
  fees: LagoFee[];
}

export function lagoInvoiceAmounts(invoice: Invoice, metrics: readonly BillableMetric[]): LagoInvoiceAmounts {
  return {
    invoicing_reason: invoice.invoicingReason,
    status: invoice.status,
    payment_status: invoice.paymentStatus,
    issuing_date: invoice.issuingLocalDate,
    from_datetime: isoSeconds(invoice.fromAt),
    to_datetime: isoSeconds(invoice.toAt),
    currency: invoice.currency,
    fees_amount_cents: invoice.feesAmountCents,
    taxes_amount_cents: invoice.taxesAmountCents,
    sub_total_excluding_taxes_amount_cents: invoice.subTotalExcludingTaxesAmountCents,
    sub_total_including_taxes_amount_cents: invoice.subTotalIncludingTaxesAmountCents,
    prepaid_credit_amount_cents: invoice.prepaidCreditAmountCents,
    total_amount_cents: invoice.totalAmountCents,
    fees: invoice.fees.map((fee) => lagoFee(fee, metrics)),
  };
}

export interface LagoChargeUsage {
  units: string;
  total_aggregated_units: string;
  events_count: number;
  amount_cents: number;
  amount_currency: string;
  pricing_unit_details: null;
  charge: { lago_id: string | null; code: string; charge_model: string; invoice_display_name: string | null };
  billable_metric: { lago_id: string | null; name: string; code: string; aggregation_type: string };
  filters: [];
  grouped_usage: [];
  presentation_breakdowns: [];
  /** prorata's addition: `ceil(Σ days / D, 5 dp)` for prorated charges, else null. */
  prorated_units: string | null;
}

/** Lago's `customer_usage` object (without its `customer_usage` root key). */
export interface LagoCustomerUsage {
  from_datetime: string;
  to_datetime: string;
  issuing_date: string;
  currency: string;
  amount_cents: number;
  total_amount_cents: number;
  taxes_amount_cents: number;
  lago_invoice_id: null;
  charges_usage: LagoChargeUsage[];
}

function chargeUsage(fee: ChargeFee, metric: BillableMetric | undefined): LagoChargeUsage {
  return {
    units: fee.units,
    total_aggregated_units: fee.units,
    events_count: fee.eventsCount,
    amount_cents: fee.amountCents,
    amount_currency: fee.currency,
    pricing_unit_details: null,
    charge: {
      lago_id: fee.chargeLagoId,
      code: fee.chargeCode,
      charge_model: fee.chargeModel,
      invoice_display_name: fee.invoiceDisplayName,
    },
    billable_metric: {
      lago_id: metric?.lagoId ?? null,
      name: metric?.name ?? fee.billableMetricCode,
      code: fee.billableMetricCode,
      aggregation_type: metric?.aggregationType ?? 'unique_count_agg',
    },
    filters: [],
    grouped_usage: [],
    presentation_breakdowns: [],
    prorated_units: fee.proratedUnits,
  };
}

/** Charges are sorted by billable metric name, case-insensitively (Lago), then charge code. */
export function lagoCustomerUsage(
  usage: CurrentUsage,
  metrics: readonly BillableMetric[],
): LagoCustomerUsage {
  const rows = usage.charges.map((fee) => {
    const metric = metrics.find((m) => m.code === fee.billableMetricCode);
    return { fee, metric, name: (metric?.name ?? fee.billableMetricCode).toLowerCase() };
  });
  rows.sort((a, b) =>
    a.name !== b.name
      ? a.name < b.name
        ? -1
        : 1
      : a.fee.chargeCode < b.fee.chargeCode
        ? -1
        : a.fee.chargeCode > b.fee.chargeCode
          ? 1
          : 0,
  );
  return {
    from_datetime: isoSeconds(usage.fromAt),
    to_datetime: isoSeconds(usage.toAt),
    issuing_date: usage.issuingLocalDate,
    currency: usage.currency,
    amount_cents: usage.amountCents,
    total_amount_cents: usage.totalAmountCents,
    taxes_amount_cents: usage.taxesAmountCents,
    lago_invoice_id: null,
    charges_usage: rows.map((row) => chargeUsage(row.fee, row.metric)),
  };
}

export interface LagoWalletTransaction {
  transaction_type: 'inbound' | 'outbound';
  transaction_status: 'granted' | 'invoiced';
  status: 'settled';
  amount: string;
  credit_amount: string;
  created_at: string;
  invoice_number: string | null;
}

export interface LagoWalletBalance {
  code: string;
  name: string | null;
  status: Wallet['status'];
  currency: string;
  rate_amount: string;
  priority: number;
  credits_balance: string;
  balance_cents: number;
  consumed_credits: string;
  created_at: string;
  expiration_at: string | null;
  terminated_at: string | null;
  applies_to: { fee_types: string[]; billable_metric_codes: string[] };
  wallet_transactions: LagoWalletTransaction[];
}

export function lagoWalletBalance(
  wallet: Wallet,
  transactions: readonly WalletTransaction[],
): LagoWalletBalance {
  return {
    code: wallet.code,
    name: wallet.name,
    status: wallet.status,
    currency: wallet.currency,
    rate_amount: formatQuantity(new Dec(wallet.rateAmount)),
    priority: wallet.priority,
    credits_balance: formatQuantity(new Dec(wallet.creditsBalance)),
    balance_cents: wallet.balanceCents,
    consumed_credits: formatQuantity(new Dec(wallet.consumedCredits)),
    created_at: isoSeconds(wallet.createdAt),
    expiration_at: wallet.expirationAt === null ? null : isoSeconds(wallet.expirationAt),
    terminated_at: wallet.terminatedAt === null ? null : isoSeconds(wallet.terminatedAt),
    applies_to: {
      fee_types: [...wallet.appliesTo.feeTypes],
      billable_metric_codes: [...wallet.appliesTo.billableMetricCodes],
    },
    wallet_transactions: transactions
      .filter((transaction) => transaction.walletCode === wallet.code)
      .map((transaction) => ({
        transaction_type: transaction.transactionType,
        transaction_status: transaction.transactionStatus,
        status: 'settled' as const,
        amount: formatQuantity(minorToAmount(transaction.amountCents, wallet.currency)),
        credit_amount: formatQuantity(new Dec(transaction.creditAmount)),
        created_at: isoSeconds(transaction.at),
        invoice_number: transaction.invoiceNumber,
      })),
  };
}

export interface LagoCreditApplied {
  wallet_code: string;
  amount_cents: number;
  credit_amount: string;
}

/**
 * A simulated invoice: the stored invoice's amounts plus, as SPEC section 8 asks of the simulation,
 * the plan it bills and whether each fee pays in advance.
 */
export type LagoSimulatedInvoice = { number: string; plan_code: string } & Omit<
  LagoInvoiceAmounts,
  'fees'
> & {
    fees: LagoFee[];
    applied_credits: LagoCreditApplied[];
  };

function creditApplied(take: CreditTake): LagoCreditApplied {
  return {
    wallet_code: take.walletCode,
    amount_cents: take.amountCents,
    credit_amount: formatQuantity(new Dec(take.creditAmount)),
  };
}

export function lagoSimulatedInvoice(
  simulated: SimulatedInvoice,
  metrics: readonly BillableMetric[],
): LagoSimulatedInvoice {
  const amounts = lagoInvoiceAmounts(simulated.invoice, metrics);
  return {
    number: simulated.number,
    plan_code: simulated.planCode,
    ...amounts,
    applied_credits: simulated.credits.map(creditApplied),
  };
}

/** `prorata simulate` JSON output. */
export interface SimulationOutput {
  invoices: LagoSimulatedInvoice[];
  current_usage: LagoCustomerUsage | null;
  wallets: LagoWalletBalance[];
}

export function simulationOutput(
  result: SimulationResult,
  metrics: readonly BillableMetric[],
): SimulationOutput {
  return {
    invoices: result.invoices.map((simulated) => lagoSimulatedInvoice(simulated, metrics)),
    current_usage: result.currentUsage ? lagoCustomerUsage(result.currentUsage, metrics) : null,
    wallets: result.wallets.map((wallet) => lagoWalletBalance(wallet, result.walletTransactions)),
  };
}

/** A stored (Lago-shaped) invoice as credit allocation reads it. */
export function creditableInvoice(
  invoice: Pick<LagoInvoiceAmounts, 'currency' | 'sub_total_including_taxes_amount_cents' | 'fees'>,
): CreditableInvoice {
  return {
    currency: invoice.currency,
    subTotalIncludingTaxesAmountCents: invoice.sub_total_including_taxes_amount_cents,
    fees: invoice.fees.map((fee) => ({
      feeType: fee.fee_type,
      amountCents: fee.amount_cents,
      billableMetricCode: fee.billable_metric_code,
    })),
  };
}

/** Current usage (Lago's `customer_usage`) as ongoing-balance allocation reads it: its charge fees. */
export function creditableUsage(usage: Pick<LagoCustomerUsage, 'currency' | 'charges_usage'>): {
  currency: string;
  fees: CreditableInvoice['fees'];
} {
  return {
    currency: usage.currency,
    fees: usage.charges_usage.map((charge) => ({
      feeType: 'charge' as const,
      amountCents: charge.amount_cents,
      billableMetricCode: charge.billable_metric.code,
    })),
  };
}

/**
 * A finalized invoice's amounts once wallet credits are applied (SPEC section 6):
 * `total = sub_total_including_taxes - credits`, paid when nothing is left due.
 */
export function lagoAmountsWithCredits<T extends LagoInvoiceAmounts>(
  amounts: T,
  prepaidCreditAmountCents: number,
): T {
  const { totalAmountCents, paymentStatus } = totalAfterCredits(
    amounts.sub_total_including_taxes_amount_cents,
    prepaidCreditAmountCents,
  );
  return {
    ...amounts,
    prepaid_credit_amount_cents: prepaidCreditAmountCents,
    total_amount_cents: totalAmountCents,
    payment_status: paymentStatus,
  };
}
