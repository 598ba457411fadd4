import { z } from 'zod';
import { text } from './fields';

const statusValues = ['draft', 'finalized', 'voided', 'failed', 'pending'] as const;
const paymentStatusValues = ['pending', 'succeeded', 'failed'] as const;
const oneOrMany = <T extends readonly [string, ...string[]]>(values: T) =>
  z.union([z.enum(values, 'value_is_invalid'), z.array(z.enum(values, 'value_is_invalid'))]).optional();
const isoDate = () =>
  text().refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)), 'invalid_date');

export const invoiceListQuery = z.object({
  external_customer_id: text().optional(),
  customer_external_id: text().optional(),
  invoice_type: z
    .enum(
      ['subscription', 'credit', 'add_on', 'one_off', 'advance_charges', 'progressive_billing'],
      'value_is_invalid',
    )
    .optional(),
  status: z.enum(statusValues, 'value_is_invalid').optional(),
  'statuses[]': oneOrMany(statusValues),
  'payment_statuses[]': oneOrMany(paymentStatusValues),
  payment_status: z.enum(paymentStatusValues, 'value_is_invalid').optional(),
  issuing_date_from: isoDate().optional(),
  issuing_date_to: isoDate().optional(),
  currency: text().optional(),
});

export const invoiceUpdateInput = z.object({
  payment_status: z.enum(paymentStatusValues, 'value_is_invalid').optional(),
});

export const currentUsageQuery = z.object({
  external_subscription_id: text().refine((v) => v.trim() !== '', 'value_is_mandatory'),
  apply_taxes: text().optional(),
});
