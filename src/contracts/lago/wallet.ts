import { z } from 'zod';
import { nullableFlag, nullableText, requiredText, text, isoDateTime } from './fields';
import { currencySchema } from './currency';

/** Lago: at most 6 active wallets per customer (`customer: ["wallet_limit_reached"]`). */
export const ACTIVE_WALLET_LIMIT = 6;

/** Credits and rates are decimal strings (numbers are accepted as Lago's Rails params do). */
const decimal = (code: string) =>
  z
    .union([text(), z.number().finite()], {
      error: (issue) => (issue.input === undefined ? 'value_is_mandatory' : code),
    })
    .transform((v) => String(v).trim())
    .refine((v) => /^-?\d{1,20}(\.\d{1,20})?$/.test(v), code);

const priority = () =>
  z
    .number({ error: 'value_is_invalid' })
    .int('value_is_invalid')
    .min(1, 'value_is_out_of_range')
    .max(50, 'value_is_out_of_range');

const metadata = () =>
  z
    .array(z.object({ key: requiredText(), value: text() }), { error: 'invalid_type' })
    .max(50, 'invalid_count');

const appliesTo = () =>
  z.object({
    fee_types: z
      .array(z.enum(['charge', 'subscription', 'commitment'], { error: 'invalid_fee_types' }))
      .nullable()
      .optional(),
    billable_metric_codes: z.array(text()).nullable().optional(),
  });

export const walletCreateInput = z.object({
  external_customer_id: requiredText(),
  rate_amount: decimal('invalid_rate_amount'),
  currency: currencySchema,
  name: nullableText(),
  code: nullableText(),
  priority: priority().nullable().optional(),
  paid_credits: decimal('invalid_paid_credits').nullable().optional(),
  granted_credits: decimal('invalid_granted_credits').nullable().optional(),
  expiration_at: isoDateTime().nullable().optional(),
  invoice_requires_successful_payment: nullableFlag(),
  transaction_name: nullableText(),
  transaction_metadata: metadata().nullable().optional(),
  paid_top_up_min_amount_cents: z.number().int().min(0, 'value_is_out_of_range').nullable().optional(),
  paid_top_up_max_amount_cents: z.number().int().min(0, 'value_is_out_of_range').nullable().optional(),
  ignore_paid_top_up_limits_on_creation: nullableFlag(),
  applies_to: appliesTo().nullable().optional(),
  recurring_transaction_rules: z
    .array(z.unknown())
    .max(0, 'recurring_rules_not_supported')
    .nullable()
    .optional(),
  purchase_order_number: nullableText(),
  billing_entity_code: nullableText(),
  metadata: z.unknown().optional(),
  payment_method: z.unknown().optional(),
  invoice_custom_section: z.unknown().optional(),
});
export type WalletCreateInput = z.infer<typeof walletCreateInput>;

export const walletUpdateInput = z.object({
  name: nullableText(),
  code: nullableText(),
  priority: priority().nullable().optional(),
  expiration_at: isoDateTime().nullable().optional(),
  invoice_requires_successful_payment: nullableFlag(),
  paid_top_up_min_amount_cents: z.number().int().min(0, 'value_is_out_of_range').nullable().optional(),
  paid_top_up_max_amount_cents: z.number().int().min(0, 'value_is_out_of_range').nullable().optional(),
  applies_to: z.unknown().optional(),
  recurring_transaction_rules: z
    .array(z.unknown())
    .max(0, 'recurring_rules_not_supported')
    .nullable()
    .optional(),
  metadata: z.unknown().optional(),
  payment_method: z.unknown().optional(),
  invoice_custom_section: z.unknown().optional(),
});

export const walletTransactionCreateInput = z.object({
  wallet_id: requiredText(),
  paid_credits: decimal('invalid_paid_credits').nullable().optional(),
  granted_credits: decimal('invalid_granted_credits').nullable().optional(),
  voided_credits: decimal('invalid_voided_credits').nullable().optional(),
  name: nullableText(),
  metadata: metadata().nullable().optional(),
  invoice_requires_successful_payment: nullableFlag(),
  ignore_paid_top_up_limits: nullableFlag(),
  purchase_order_number: nullableText(),
  payment_method: z.unknown().optional(),
  priority: priority().nullable().optional(),
  invoice_custom_section: z.unknown().optional(),
});

export const walletListQuery = z.object({
  external_customer_id: text().optional(),
});

export const walletTransactionListQuery = z.object({
  status: z.enum(['pending', 'settled', 'failed'], { error: 'value_is_invalid' }).optional(),
  transaction_status: z
    .enum(['purchased', 'granted', 'voided', 'invoiced'], { error: 'value_is_invalid' })
    .optional(),
  transaction_type: z.enum(['inbound', 'outbound'], { error: 'value_is_invalid' }).optional(),
});
