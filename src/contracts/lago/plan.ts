import { z } from 'zod';
import type { AggregationType } from './billable-metric';
import { tierRangeErrors } from './charge-ranges';
import { currencySchema } from './currency';
import { addDetail, type LagoErrorDetails } from './error-details';
import {
  isNonNegativeDecimalString,
  jsonObject,
  nonNegativeInteger,
  nullableFlag,
  nullableText,
  requiredText,
  text,
} from './fields';

/** lago-api.md section 4.2. */
export const PLAN_INTERVALS = ['weekly', 'monthly', 'quarterly', 'semiannual', 'yearly'] as const;
export type PlanInterval = (typeof PLAN_INTERVALS)[number];

/** Every Lago charge model is accepted and stored; only `standard` is billed by prorata today. */
export const CHARGE_MODELS = [
  'standard',
  'graduated',
  'volume',
  'package',
  'percentage',
  'graduated_percentage',
  'dynamic',
] as const;
export type ChargeModel = (typeof CHARGE_MODELS)[number];

export const chargeFilterInput = z.object({
  invoice_display_name: nullableText(),
  properties: jsonObject().nullable().optional(),
  values: z.record(z.string(), z.array(text())),
});

export const chargeInput = z.object({
  /** On update: the lago_id of an existing charge of the plan, which then keeps its lago_id. */
  id: nullableText(),
  /** The metric's lago_id (not its code). */
  billable_metric_id: text(),
  charge_model: z.enum(CHARGE_MODELS, { error: 'value_is_invalid' }),
  /** Unique within the plan; defaults to the metric code. */
  code: nullableText(),
  invoice_display_name: nullableText(),
  pay_in_advance: nullableFlag(),
  invoiceable: nullableFlag(),
  regroup_paid_fees: z.enum(['invoice'], { error: 'value_is_invalid' }).nullable().optional(),
  prorated: nullableFlag(),
  min_amount_cents: nonNegativeInteger().nullable().optional(),
  properties: jsonObject().nullable().optional(),
  filters: z.array(chargeFilterInput).nullable().optional(),
  tax_codes: z.array(text()).nullable().optional(),
  accepts_target_wallet: nullableFlag(),
});
export type ChargeInput = z.infer<typeof chargeInput>;

const planFields = {
  name: requiredText(),
  code: requiredText(),
  interval: z.enum(PLAN_INTERVALS, { error: 'value_is_invalid' }),
  description: nullableText(),
  invoice_display_name: nullableText(),
  amount_cents: nonNegativeInteger(),
  amount_currency: currencySchema,
  pay_in_advance: z.boolean(),
  trial_period: z
    .number()
    .min(0, 'value_is_out_of_range')
    .max(36_500, 'value_is_out_of_range')
    .nullable()
    .optional(),
  bill_charges_monthly: nullableFlag(),
  bill_fixed_charges_monthly: nullableFlag(),
  tax_codes: z.array(text()).nullable().optional(),
  metadata: jsonObject().nullable().optional(),
  charges: z.array(chargeInput).nullable().optional(),
};

/**
 * `POST /plans` body under `plan`. Premium-only Lago fields (`minimum_commitment`,
 * `usage_thresholds`) and fields prorata does not bill (`fixed_charges`) are ignored, as an
 * unlicensed Lago ignores the premium ones.
 */
export const planCreateInput = z.object(planFields);
/** `PUT /plans/{code}`: any subset; `charges` (when present) replaces the whole list. */
export const planUpdateInput = z.object({ ...planFields, cascade_updates: nullableFlag() }).partial();

export type PlanCreateInput = z.infer<typeof planCreateInput>;
export type PlanUpdateInput = z.infer<typeof planUpdateInput>;

/** Lago `Charges::BuildDefaultPropertiesService`: the properties a charge gets when none are sent. */
export function defaultChargeProperties(model: ChargeModel): Record<string, unknown> {
  const range = { from_value: 0, to_value: null, flat_amount: '0' };
  switch (model) {
    case 'standard':
      return { amount: '0' };
    case 'graduated':
      return { graduated_ranges: [{ ...range, per_unit_amount: '0' }] };
    case 'volume':
      return { volume_ranges: [{ ...range, per_unit_amount: '0' }] };
    case 'package':
      return { amount: '0', package_size: 1, free_units: 0 };
    case 'percentage':
      return { rate: '0' };
    case 'graduated_percentage':
      return { graduated_percentage_ranges: [{ ...range, rate: '0' }] };
    case 'dynamic':
      return {};
  }
}

/**
 * Lago keeps only the keys the charge model reads (`ChargeModels::FilterProperties`): a standard
 * charge its amount, a tiered one its ranges (plus the grouping keys every model keeps).
 */
const KEPT_PROPERTY_KEYS: Partial<Record<ChargeModel, readonly string[]>> = {
  standard: ['amount', 'grouped_by', 'pricing_group_keys'],
  graduated: ['graduated_ranges', 'grouped_by', 'pricing_group_keys'],
  volume: ['volume_ranges', 'grouped_by', 'pricing_group_keys'],
};

export function chargeProperties(
  model: ChargeModel,
  properties: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  if (!properties || Object.keys(properties).length === 0) return defaultChargeProperties(model);
  const kept = KEPT_PROPERTY_KEYS[model];
  if (!kept) return properties;
  return Object.fromEntries(kept.filter((k) => k in properties).map((k) => [k, properties[k]]));
}

/** Aggregations a pay-in-advance charge may use (Lago `AGGREGATION_TYPES_PAYABLE_IN_ADVANCE`). */
const PAYABLE_IN_ADVANCE: ReadonlySet<AggregationType> = new Set([
  'count_agg',
  'sum_agg',
  'unique_count_agg',
]);

export interface ChargeRuleInput {
  charge_model: ChargeModel;
  pay_in_advance: boolean;
  prorated: boolean;
  min_amount_cents: number;
  properties: Record<string, unknown>;
}

export interface ChargeRuleMetric {
  aggregation_type: AggregationType;
  recurring: boolean;
}

/**
 * Lago's charge model rules (`Charge` validations), keyed as Lago keys them (by charge attribute):
 *
 * - `prorated: true` only for a recurring metric, and then only in arrears with standard, volume or
 *   graduated, or in advance with standard; never for a weighted sum;
 * - pay in advance neither with volume nor with a metric that cannot be paid in advance;
 * - no minimum amount on a pay-in-advance charge;
 * - a standard charge's `properties.amount` is a non-negative decimal string;
 * - a graduated or volume charge's ranges follow Lago's range rules (charge-ranges.ts), keyed
 *   `graduated_ranges` / `volume_ranges`, `per_unit_amount`, `flat_amount` as Lago keys them.
 */
export function chargeRuleErrors(charge: ChargeRuleInput, metric: ChargeRuleMetric): LagoErrorDetails {
  const details: LagoErrorDetails = {};
  if (charge.prorated && !canProrate(charge, metric)) {
    addDetail(details, 'prorated', 'invalid_billable_metric_or_charge_model');
  }
  if (
    charge.pay_in_advance &&
    (charge.charge_model === 'volume' || !PAYABLE_IN_ADVANCE.has(metric.aggregation_type))
  ) {
    addDetail(details, 'pay_in_advance', 'invalid_aggregation_type_or_charge_model');
  }
  if (charge.pay_in_advance && charge.min_amount_cents > 0) {
    addDetail(details, 'min_amount_cents', 'not_compatible_with_pay_in_advance');
  }
  if (charge.charge_model === 'standard' && !isNonNegativeDecimalString(charge.properties.amount)) {
    addDetail(details, 'properties', 'invalid_amount');
  }
  if (charge.charge_model === 'graduated' || charge.charge_model === 'volume') {
    for (const [field, codes] of Object.entries(tierRangeErrors(charge.charge_model, charge.properties))) {
      for (const code of codes) addDetail(details, field, code);
    }
  }
  return details;
}

function canProrate(charge: ChargeRuleInput, metric: ChargeRuleMetric): boolean {
  if (!metric.recurring || metric.aggregation_type === 'weighted_sum_agg') return false;
  if (charge.pay_in_advance) return charge.charge_model === 'standard';
  return ['standard', 'volume', 'graduated'].includes(charge.charge_model);
}
