import type { InvoiceDoc } from '../../../store/invoices';
import type { CustomerDoc } from '../../../store/customers';
import { isoSeconds } from './iso';
import { serializeCustomer } from './customer';

/** Lago's invoice object (lago-api.md section 4.7); `fees` only on GET by id, as Lago. */
export function serializeInvoice(
  inv: InvoiceDoc,
  customer: CustomerDoc | null,
  options: { withFees?: boolean; fileUrl?: string | null } = {},
) {
  return {
    lago_id: inv.lago_id,
    billing_entity_code: 'default',
    sequential_id: inv.sequential_id,
    number: inv.number,
    purchase_order_number: null,
    issuing_date: inv.issuing_date,
    payment_due_date: inv.payment_due_date,
    net_payment_term: inv.net_payment_term,
    invoice_type: inv.invoice_type,
    status: inv.status,
    payment_status: inv.payment_status,
    payment_dispute_lost_at: null,
    payment_overdue: false,
    currency: inv.currency,
    fees_amount_cents: inv.fees_amount_cents,
    taxes_amount_cents: inv.taxes_amount_cents,
    progressive_billing_credit_amount_cents: 0,
    coupons_amount_cents: 0,
    credit_notes_amount_cents: 0,
    sub_total_excluding_taxes_amount_cents: inv.sub_total_excluding_taxes_amount_cents,
    sub_total_including_taxes_amount_cents: inv.sub_total_including_taxes_amount_cents,
    total_amount_cents: inv.total_amount_cents,
    total_due_amount_cents: inv.payment_status === 'succeeded' ? 0 : inv.total_amount_cents,
    total_paid_amount_cents: inv.payment_status === 'succeeded' ? inv.total_amount_cents : 0,
    total_offsetted_credit_note_amount_cents: 0,
    prepaid_credit_amount_cents: inv.prepaid_credit_amount_cents,
    prepaid_granted_credit_amount_cents: 0,
    prepaid_purchased_credit_amount_cents: 0,
    file_url: options.fileUrl ?? null,
    xml_url: null,
    web_url: null,
    version_number: inv.version_number,
    self_billed: false,
    created_at: isoSeconds(inv.created_at),
    updated_at: isoSeconds(inv.updated_at),
    voided_at: null,
    customer: customer ? serializeCustomer(customer) : null,
    metadata: [],
    applied_taxes: [],
    ...(options.withFees
      ? {
          billing_periods: inv.from_datetime
            ? [
                {
                  lago_subscription_id: inv.subscription_id,
                  external_subscription_id: inv.external_subscription_id,
                  subscription_from_datetime: inv.from_datetime,
                  subscription_to_datetime: inv.to_datetime,
                  charges_from_datetime: inv.from_datetime,
                  charges_to_datetime: inv.to_datetime,
                  invoicing_reason: inv.invoicing_reason,
                },
              ]
            : [],
          subscriptions: [],
          fees: inv.fees.map((f) => ({
            lago_id: f.lago_id,
            lago_charge_id: f.lago_charge_id,
            lago_invoice_id: inv.lago_id,
            lago_subscription_id: inv.subscription_id,
            external_subscription_id: inv.external_subscription_id,
            amount_cents: f.amount_cents,
            precise_amount: f.precise_amount,
            taxes_amount_cents: 0,
            total_amount_cents: f.amount_cents,
            amount_currency: f.amount_currency,
            units: f.units,
            prorated_units: f.prorated_units,
            events_count: f.events_count,
            from_date: f.from_datetime,
            to_date: f.to_datetime,
            charges_duration: f.charges_duration,
            // Stored before pay-in-advance charges existed: absent, in arrears.
            pay_in_advance: f.fee_type !== 'credit' && f.pay_in_advance === true,
            item:
              f.fee_type === 'credit'
                ? {
                    type: 'credit',
                    code: 'credit',
                    name: f.invoice_display_name ?? 'credit',
                    invoice_display_name: f.invoice_display_name,
                    lago_item_id: f.wallet_transaction_id,
                    item_type: 'WalletTransaction',
                    billable_metric_code: null,
                  }
                : {
                    type: f.fee_type,
                    code: f.fee_type === 'subscription' ? null : f.charge_code,
                    name: f.invoice_display_name ?? f.charge_code ?? 'Subscription',
                    invoice_display_name: f.invoice_display_name,
                    lago_item_id: f.lago_charge_id,
                    item_type: f.fee_type === 'subscription' ? 'Subscription' : 'BillableMetric',
                    billable_metric_code: f.billable_metric_code,
                  },
          })),
          credits: [],
          error_details: [],
          applied_invoice_custom_sections: [],
        }
      : {}),
  };
}
