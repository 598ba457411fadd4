import { z } from 'zod';
import { nullableText, requiredText, text, isoDateTime } from './fields';

export const subscriptionCreateInput = z.object({
  external_customer_id: requiredText().pipe(z.string().max(255, 'value_is_invalid')),
  plan_code: requiredText(),
  external_id: requiredText().pipe(z.string().max(255, 'value_is_invalid')),
  name: nullableText(),
  billing_time: z.enum(['calendar', 'anniversary'], 'value_is_invalid').nullable().optional(),
  subscription_at: isoDateTime().nullable().optional(),
  ending_at: isoDateTime().nullable().optional(),
});
export type SubscriptionCreateInput = z.infer<typeof subscriptionCreateInput>;

export const subscriptionUpdateInput = z.object({
  name: nullableText(),
  ending_at: isoDateTime().nullable().optional(),
});
export type SubscriptionUpdateInput = z.infer<typeof subscriptionUpdateInput>;

export const subscriptionStatusValues = ['pending', 'active', 'terminated', 'canceled'] as const;

export const subscriptionListQuery = z.object({
  external_customer_id: text().optional(),
  plan_code: text().optional(),
  'status[]': z
    .union([
      z.enum(subscriptionStatusValues, 'value_is_invalid'),
      z.array(z.enum(subscriptionStatusValues, 'value_is_invalid')),
    ])
    .optional(),
  status: z
    .union([
      z.enum(subscriptionStatusValues, 'value_is_invalid'),
      z.array(z.enum(subscriptionStatusValues, 'value_is_invalid')),
    ])
    .optional(),
});

export const subscriptionStatusQuery = z.object({
  status: z.enum(subscriptionStatusValues, 'value_is_invalid').optional(),
});
