import { applicableTimezone, customerMetadataOf, type CustomerDoc } from '../../../store/customers';
import { isoSeconds } from './iso';

/** Lago's customer object (lago-api.md section 4.3), as GET, POST and DELETE return it. */
export function serializeCustomer(customer: CustomerDoc) {
  const billing = customer.billing_configuration;
  return {
    lago_id: customer._id,
    billing_entity_code: customer.billing_entity_code,
    external_id: customer.external_id,
    account_type: customer.account_type,
    name: customer.name,
    firstname: customer.firstname,
    lastname: customer.lastname,
    customer_type: customer.customer_type,
    sequential_id: customer.sequential_id,
    slug: customer.slug,
    created_at: isoSeconds(customer.created_at),
    updated_at: isoSeconds(customer.updated_at),
    country: customer.country,
    address_line1: customer.address_line1,
    address_line2: customer.address_line2,
    state: customer.state,
    zipcode: customer.zipcode,
    email: customer.email,
    city: customer.city,
    url: customer.url,
    phone: customer.phone,
    logo_url: customer.logo_url,
    legal_name: customer.legal_name,
    legal_number: customer.legal_number,
    currency: customer.currency,
    tax_identification_number: customer.tax_identification_number,
    timezone: customer.timezone,
    applicable_timezone: applicableTimezone(customer),
    net_payment_term: customer.net_payment_term,
    external_salesforce_id: customer.external_salesforce_id,
    finalize_zero_amount_invoice: customer.finalize_zero_amount_invoice,
    billing_configuration: {
      invoice_grace_period: billing.invoice_grace_period,
      payment_provider: billing.payment_provider,
      payment_provider_code: billing.payment_provider_code,
      ...(billing.provider_customer_id !== null
        ? { provider_customer_id: billing.provider_customer_id }
        : {}),
      document_locale: billing.document_locale,
      subscription_invoice_issuing_date_anchor: billing.subscription_invoice_issuing_date_anchor,
      subscription_invoice_issuing_date_adjustment: billing.subscription_invoice_issuing_date_adjustment,
    },
    shipping_address: { ...customer.shipping_address },
    skip_invoice_custom_sections: customer.skip_invoice_custom_sections,
    metadata: customerMetadataOf(customer).map((m) => ({
      lago_id: m.lago_id,
      key: m.key,
      value: m.value,
      display_in_invoice: m.display_in_invoice,
      created_at: isoSeconds(new Date(m.created_at)),
    })),
    taxes: [],
    integration_customers: [],
    applicable_invoice_custom_sections: [],
    error_details: [],
  };
}

export type CustomerJson = ReturnType<typeof serializeCustomer>;
