import { centsToCredits, Dec, formatQuantity, minorToAmount } from '../../../billing';
import type { WalletDoc, WalletOngoingDoc, WalletTransactionDoc } from '../../../store/wallets';
import { isoSeconds } from './iso';

const at = (date: Date | null) => (date ? isoSeconds(date) : null);
const credits = (cents: number, wallet: Pick<WalletDoc, 'rate_amount' | 'currency'>) =>
  formatQuantity(centsToCredits(cents, wallet.rate_amount, wallet.currency));

/**
 * Lago's wallet object (lago-api.md section 4.8). `ongoing_balance_cents = balance_cents - usage not
 * yet invoiced` (a terminated wallet counts no usage).
 */
export function serializeWallet(wallet: WalletDoc, ongoing: WalletOngoingDoc | null | undefined) {
  const usage = wallet.status === 'active' ? (ongoing?.ongoing_usage_balance_cents ?? 0) : 0;
  const ongoingBalance = wallet.balance_cents - usage;
  return {
    lago_id: wallet._id,
    lago_customer_id: wallet.customer_id,
    external_customer_id: wallet.external_customer_id,
    billing_entity_code: 'default',
    status: wallet.status,
    currency: wallet.currency,
    name: wallet.name,
    code: wallet.code,
    purchase_order_number: null,
    rate_amount: formatQuantity(new Dec(wallet.rate_amount)),
    credits_balance: formatQuantity(new Dec(wallet.credits_balance)),
    credits_ongoing_balance: credits(ongoingBalance, wallet),
    credits_ongoing_usage_balance: credits(usage, wallet),
    balance_cents: wallet.balance_cents,
    ongoing_balance_cents: ongoingBalance,
    ongoing_usage_balance_cents: usage,
    consumed_credits: formatQuantity(new Dec(wallet.consumed_credits)),
    created_at: isoSeconds(wallet.created_at),
    expiration_at: at(wallet.expiration_at),
    last_balance_sync_at: at(wallet.last_balance_sync_at),
    last_consumed_credit_at: at(wallet.last_consumed_credit_at),
    terminated_at: at(wallet.terminated_at),
    invoice_requires_successful_payment: wallet.invoice_requires_successful_payment,
    paid_top_up_min_amount_cents: wallet.paid_top_up_min_amount_cents,
    paid_top_up_max_amount_cents: wallet.paid_top_up_max_amount_cents,
    priority: wallet.priority,
    recurring_transaction_rules: [],
    applies_to: {
      fee_types: [...wallet.applies_to.fee_types],
      billable_metric_codes: [...wallet.applies_to.billable_metric_codes],
    },
    applied_invoice_custom_sections: [],
    metadata: null,
    payment_method: { payment_method_id: null, payment_method_type: 'provider' },
  };
}

/** Lago's wallet transaction object. */
export function serializeWalletTransaction(
  tx: WalletTransactionDoc,
  wallet: Pick<WalletDoc, 'currency' | 'priority'>,
) {
  const remaining = tx.transaction_type === 'inbound' && tx.status === 'settled';
  return {
    lago_id: tx._id,
    lago_wallet_id: tx.wallet_id,
    lago_invoice_id: tx.invoice_lago_id,
    lago_credit_note_id: null,
    lago_voided_invoice_id: null,
    billing_entity_code: 'default',
    status: tx.status,
    source: tx.source,
    transaction_status: tx.transaction_status,
    transaction_type: tx.transaction_type,
    amount: formatQuantity(minorToAmount(tx.amount_cents, wallet.currency)),
    credit_amount: formatQuantity(new Dec(tx.credit_amount)),
    remaining_amount_cents: remaining ? tx.amount_cents : null,
    remaining_credit_amount: remaining ? formatQuantity(new Dec(tx.credit_amount)) : null,
    priority: wallet.priority,
    purchase_order_number: null,
    settled_at: tx.settled_at === null ? null : isoSeconds(new Date(tx.settled_at)),
    failed_at: tx.failed_at === null ? null : isoSeconds(new Date(tx.failed_at)),
    created_at: isoSeconds(new Date(tx.created_at)),
    invoice_requires_successful_payment: tx.invoice_requires_successful_payment,
    metadata: tx.metadata,
    name: tx.name,
    payment_method: { payment_method_id: null, payment_method_type: 'provider' },
  };
}
