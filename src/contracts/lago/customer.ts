import { z } from 'zod';
import { countrySchema } from './country';
import { currencySchema } from './currency';
import { nonNegativeInteger, nullableFlag, nullableText, requiredText, text } from './fields';

/** Ruby's URI::MailTo::EMAIL_REGEXP, which Lago's email validator applies to each address. */
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Lago accepts a comma-separated list of addresses in `email`. */
export function isEmailList(value: string): boolean {
  return value.split(',').every((part) => EMAIL.test(part.trim()));
}

/**
 * A time zone the billing code can compute with: whatever `Intl` knows (IANA names). Offsets and
 * Rails-only aliases such as `GMT+12` are refused.
 */
export function isTimeZone(value: string): boolean {
  if (value.trim() === '') return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const ACCOUNT_TYPES = ['customer', 'partner'] as const;
export const CUSTOMER_TYPES = ['company', 'individual'] as const;
export const FINALIZE_ZERO_AMOUNT_INVOICE = ['inherit', 'skip', 'finalize'] as const;
export const PAYMENT_PROVIDERS = [
  'stripe',
  'adyen',
  'cashfree',
  'flutterwave',
  'gocardless',
  'moneyhash',
] as const;
export const ISSUING_DATE_ANCHORS = ['current_period_end', 'next_period_start'] as const;
export const ISSUING_DATE_ADJUSTMENTS = ['align_with_finalization_date', 'keep_anchor'] as const;

/** Lago `Metadata::CustomerMetadata`: at most 5 per customer, key up to 20 characters, value up to 100. */
export const CUSTOMER_METADATA_LIMIT = 5;

export const customerMetadataInput = z.object({
  /** The lago_id of an existing metadata entry to update in place. */
  id: nullableText(),
  // Metadata is stored as JSON text, so any character is safe in keys and values.
  key: z
    .string()
    .refine((key) => key.trim() !== '', 'value_is_mandatory')
    .refine((key) => key.length <= 20, 'value_is_too_long'),
  value: z
    .string()
    .refine((value) => value.trim() !== '', 'value_is_mandatory')
    .refine((value) => value.length <= 100, 'value_is_too_long'),
  display_in_invoice: nullableFlag(),
});
export type CustomerMetadataInput = z.infer<typeof customerMetadataInput>;

export const customerBillingConfigurationInput = z.object({
  /** Days an invoice stays draft after the period ends (prorata bounds it to a year). */
  invoice_grace_period: nonNegativeInteger().max(365, 'value_is_out_of_range').nullable().optional(),
  payment_provider: z.enum(PAYMENT_PROVIDERS, { error: 'value_is_invalid' }).nullable().optional(),
  payment_provider_code: nullableText(),
  provider_customer_id: nullableText(),
  sync: nullableFlag(),
  sync_with_provider: nullableFlag(),
  document_locale: nullableText(),
  subscription_invoice_issuing_date_anchor: z
    .enum(ISSUING_DATE_ANCHORS, { error: 'value_is_invalid' })
    .nullable()
    .optional(),
  subscription_invoice_issuing_date_adjustment: z
    .enum(ISSUING_DATE_ADJUSTMENTS, { error: 'value_is_invalid' })
    .nullable()
    .optional(),
});

export const shippingAddressInput = z.object({
  address_line1: nullableText(),
  address_line2: nullableText(),
  city: nullableText(),
  zipcode: nullableText(),
  state: nullableText(),
  country: countrySchema.nullable().optional(),
});

/**
 * `POST /customers` body under `customer`: create, or update the keys present when `external_id`
 * already exists. Integration, tax and invoice-section fields are accepted; prorata has no taxes,
 * integrations or custom sections, so non-empty `tax_codes` are refused as Lago refuses unknown ones.
 */
export const customerInput = z.object({
  external_id: requiredText(),
  billing_entity_code: nullableText(),
  name: nullableText(),
  firstname: nullableText(),
  lastname: nullableText(),
  email: text().refine(isEmailList, 'invalid_email_format').nullable().optional(),
  currency: currencySchema.nullable().optional(),
  timezone: text().refine(isTimeZone, 'invalid_timezone').nullable().optional(),
  country: countrySchema.nullable().optional(),
  address_line1: nullableText(),
  address_line2: nullableText(),
  city: nullableText(),
  state: nullableText(),
  zipcode: nullableText(),
  phone: nullableText(),
  url: nullableText(),
  logo_url: nullableText(),
  legal_name: nullableText(),
  legal_number: nullableText(),
  tax_identification_number: nullableText(),
  net_payment_term: nonNegativeInteger().nullable().optional(),
  account_type: z.enum(ACCOUNT_TYPES, { error: 'value_is_invalid' }).optional(),
  customer_type: z.enum(CUSTOMER_TYPES, { error: 'value_is_invalid' }).nullable().optional(),
  external_salesforce_id: nullableText(),
  finalize_zero_amount_invoice: z
    .enum(FINALIZE_ZERO_AMOUNT_INVOICE, { error: 'invalid_value' })
    .nullable()
    .optional(),
  billing_configuration: customerBillingConfigurationInput.nullable().optional(),
  shipping_address: shippingAddressInput.nullable().optional(),
  metadata: z
    .array(customerMetadataInput)
    .max(CUSTOMER_METADATA_LIMIT, 'invalid_count')
    .refine((items) => new Set(items.map((m) => m.key)).size === items.length, 'value_already_exist')
    .nullable()
    .optional(),
  skip_invoice_custom_sections: nullableFlag(),
  tax_codes: z.array(text()).nullable().optional(),
  integration_customers: z.array(z.unknown()).nullable().optional(),
  invoice_custom_section_codes: z.array(text()).nullable().optional(),
});
export type CustomerInput = z.infer<typeof customerInput>;

/** The containers whose issues Lago reports under the inner attribute name. */
export const CUSTOMER_FLATTENED_FIELDS = ['billing_configuration'] as const;
