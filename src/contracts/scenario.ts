/**
 * The `prorata simulate` scenario: one customer, its billable metrics, a plan, one subscription, the
 * events sent, the wallets and the instant to look from (`as_of`). Snake_case with Lago's names;
 * validated with zod and mapped once to billing's camelCase `SimulationInput`.
 *
 * Timestamps are ISO-8601 instants with an offset (`"2024-06-05T00:00:00Z"`) or Unix seconds
 * (number or numeric string, as Lago's events API takes them).
 */
import { z } from 'zod';
import {
  AGGREGATION_TYPES,
  BILLING_TIMES,
  CHARGE_MODEL_NAMES,
  INTERVALS,
  isDecimalString,
  isTimeZone,
  parseIsoInstant,
  parseUnixSeconds,
  topUpAmount,
  Dec,
  type ChargeModelName,
  type ChargeProperties,
  type Plan,
  type WalletFeeType,
  type SimulationInput,
} from '../billing';
import { tierRangeErrors, tierRangesOf } from './lago/charge-ranges';
import { CURRENCIES } from './lago/currency';

const TIMESTAMP_EXPECTED =
  'expected an ISO-8601 instant with an offset (2024-06-05T00:00:00Z) or Unix seconds';

const timestamp = z.union([z.string(), z.number()], { error: TIMESTAMP_EXPECTED }).transform((value, ctx) => {
  const at =
    typeof value === 'number' || /^\s*-?\d+(\.\d+)?\s*$/.test(value)
      ? parseUnixSeconds(value)
      : parseIsoInstant(value);
  if (at === null) {
    ctx.addIssue({ code: 'custom', message: TIMESTAMP_EXPECTED });
    return z.NEVER;
  }
  return at;
});

const text = z.string().trim().min(1, 'must not be empty');

const decimalString = (what: string) =>
  z.string().refine(isDecimalString, `${what} must be a decimal string such as "10" or "0.5"`);

const nonNegativeDecimal = (what: string) =>
  decimalString(what).refine((value) => !new Dec(value).isNegative(), `${what} must not be negative`);

const currency = z.enum(CURRENCIES, { error: 'expected an ISO 4217 currency code (USD, EUR, JPY...)' });

const FEE_TYPES = ['charge', 'subscription', 'commitment'] as const satisfies readonly WalletFeeType[];

const customer = z.strictObject({
  external_id: text,
  timezone: z
    .string()
    .refine(isTimeZone, 'expected an IANA time zone (Europe/Paris, America/New_York, UTC)')
    .nullable()
    .optional(),
  currency: currency.nullable().optional(),
  invoice_grace_period: z.number().int().min(0).max(365).nullable().optional(),
  sequential_id: z.number().int().min(1).optional(),
});

const billableMetric = z.strictObject({
  code: text,
  name: text.optional(),
  aggregation_type: z.enum(AGGREGATION_TYPES, {
    error: `expected one of ${AGGREGATION_TYPES.join(', ')} (other aggregations are not billed by prorata yet)`,
  }),
  field_name: text.nullable().optional(),
  recurring: z.boolean().optional(),
});

const charge = z.strictObject({
  code: text.optional(),
  billable_metric_code: text,
  charge_model: z.enum(CHARGE_MODEL_NAMES as [string, ...string[]], {
    error: `expected ${CHARGE_MODEL_NAMES.join(', ')} (other charge models are not billed by prorata yet)`,
  }),
  prorated: z.boolean().optional(),
  /** Billed per seat add (SPEC section 8): prorated standard charges only. */
  pay_in_advance: z.boolean().optional(),
  invoice_display_name: z.string().nullable().optional(),
  /** `amount` for standard, Lago's `graduated_ranges` / `volume_ranges` for tiered charges. */
  properties: z.strictObject({
    amount: nonNegativeDecimal('amount').optional(),
    graduated_ranges: z.array(z.unknown()).optional(),
    volume_ranges: z.array(z.unknown()).optional(),
  }),
});

const plan = z.strictObject({
  code: text,
  name: z.string().optional(),
  interval: z.enum(INTERVALS, { error: `expected one of ${INTERVALS.join(', ')}` }),
  amount_cents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  amount_currency: currency,
  pay_in_advance: z.boolean().optional(),
  /** Days without subscription fee from `subscription_at` (Lago's `trial_period`, whole days here). */
  trial_period: z.number().int('trial_period must be a whole number of days').min(0).max(36_500).optional(),
  charges: z.array(charge).optional(),
});

const planChange = z.strictObject({ at: timestamp, plan_code: text });

const subscription = z.strictObject({
  external_id: text,
  /** The plan it starts on: required with several `plans`, else the only plan. */
  plan_code: text.optional(),
  /** Lago's `POST /subscriptions` with this external id and another plan, at `at` (SPEC section 8). */
  plan_changes: z.array(planChange).optional(),
  billing_time: z.enum(BILLING_TIMES, { error: `expected one of ${BILLING_TIMES.join(', ')}` }).optional(),
  subscription_at: timestamp,
  terminated_at: timestamp.nullable().optional(),
});

const event = z.strictObject({
  transaction_id: text,
  external_subscription_id: z.string().optional(),
  code: text,
  timestamp,
  received_at: timestamp.optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

const wallet = z.strictObject({
  code: text,
  name: z.string().nullable().optional(),
  currency: currency.optional(),
  rate_amount: decimalString('rate_amount').refine(
    (value) => new Dec(value).gt(0),
    'rate_amount must be > 0',
  ),
  granted_credits: nonNegativeDecimal('granted_credits').nullable().optional(),
  priority: z.number().int().min(1).max(50).optional(),
  created_at: timestamp.optional(),
  expiration_at: timestamp.nullable().optional(),
  applies_to: z
    .strictObject({
      fee_types: z.array(z.enum(FEE_TYPES, { error: `expected one of ${FEE_TYPES.join(', ')}` })).optional(),
      billable_metric_codes: z.array(text).optional(),
    })
    .optional(),
});

export const scenarioSchema = z
  .strictObject({
    customer,
    billable_metrics: z.array(billableMetric),
    /** One plan, or `plans` (several, for plan changes); not both. */
    plan: plan.optional(),
    plans: z.array(plan).min(1).optional(),
    subscription,
    events: z.array(event).optional(),
    wallets: z.array(wallet).optional(),
    as_of: timestamp,
    invoice_number_prefix: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9-]{0,19}$/, 'expected upper-case letters, digits and dashes')
      .optional(),
  })
  .superRefine((scenario, ctx) => {
    const problem = (path: (string | number)[], message: string): void =>
      ctx.addIssue({ code: 'custom', path, message });

    const metricCodes = new Map<string, (typeof scenario.billable_metrics)[number]>();
    scenario.billable_metrics.forEach((metric, i) => {
      if (metricCodes.has(metric.code))
        problem(['billable_metrics', i, 'code'], `duplicate metric code ${metric.code}`);
      metricCodes.set(metric.code, metric);
      const fieldName = metric.field_name ?? null;
      if (metric.aggregation_type !== 'count_agg' && fieldName === null) {
        problem(['billable_metrics', i, 'field_name'], `${metric.aggregation_type} needs a field_name`);
      }
      if (metric.recurring && metric.aggregation_type !== 'unique_count_agg') {
        problem(
          ['billable_metrics', i, 'recurring'],
          'only unique_count_agg metrics can be recurring in prorata',
        );
      }
    });

    const plansWithPaths = scenarioPlans(scenario);
    if (plansWithPaths.length === 0) problem(['plan'], 'required: a plan, or plans');
    if (scenario.plan && scenario.plans) problem(['plans'], 'give plan or plans, not both');
    const planCodes = new Set<string>();
    for (const [item, path] of plansWithPaths) {
      if (planCodes.has(item.code)) problem([...path, 'code'], `duplicate plan code ${item.code}`);
      planCodes.add(item.code);
    }
    const { plan_code: startCode, plan_changes: changes } = scenario.subscription;
    if (startCode !== undefined && !planCodes.has(startCode))
      problem(['subscription', 'plan_code'], `unknown plan ${startCode}`);
    if (startCode === undefined && plansWithPaths.length > 1)
      problem(['subscription', 'plan_code'], 'required with several plans');
    (changes ?? []).forEach((change, i) => {
      const path = ['subscription', 'plan_changes', i];
      if (!planCodes.has(change.plan_code))
        problem([...path, 'plan_code'], `unknown plan ${change.plan_code}`);
      if (change.at < scenario.subscription.subscription_at)
        problem([...path, 'at'], 'a plan change before subscription_at');
      if (i > 0 && change.at < (changes?.[i - 1]?.at ?? change.at))
        problem([...path, 'at'], 'plan changes must be in time order');
    });

    for (const [item, planPath] of plansWithPaths) checkCharges(item, planPath);
    const planCurrency = (plansWithPaths[0]?.[0].amount_currency ?? 'USD') as string;
    plansWithPaths.slice(1).forEach(([item, path]) => {
      if (item.amount_currency !== planCurrency)
        problem([...path, 'amount_currency'], `all plans must be in ${planCurrency}`);
    });

    function checkCharges(planItem: ScenarioPlan, planPath: (string | number)[]): void {
      const chargeCodes = new Set<string>();
      (planItem.charges ?? []).forEach((item, i) => {
        const path = [...planPath, 'charges', i];
        const metric = metricCodes.get(item.billable_metric_code);
        if (!metric)
          problem([...path, 'billable_metric_code'], `unknown billable metric ${item.billable_metric_code}`);
        const code = item.code ?? item.billable_metric_code;
        if (chargeCodes.has(code)) problem([...path, 'code'], `duplicate charge code ${code}`);
        chargeCodes.add(code);
        if (
          item.prorated &&
          metric &&
          !(metric.aggregation_type === 'unique_count_agg' && metric.recurring)
        ) {
          problem(
            [...path, 'prorated'],
            'only charges on a recurring unique_count_agg metric can be prorated',
          );
        }
        const model = item.charge_model as ChargeModelName;
        if (item.pay_in_advance && !(item.prorated && model === 'standard')) {
          problem([...path, 'pay_in_advance'], 'pay-in-advance charges must be prorated standard charges');
        }
        const wanted = PROPERTY_OF_MODEL[model];
        for (const key of Object.keys(item.properties) as (keyof typeof item.properties)[]) {
          if (key !== wanted)
            problem([...path, 'properties', key], `a ${model} charge takes properties.${wanted} only`);
        }
        if (item.properties[wanted] === undefined)
          problem([...path, 'properties', wanted], `required for ${model}`);
        else if (model !== 'standard') {
          for (const [field, codes] of Object.entries(tierRangeErrors(model, item.properties))) {
            problem([...path, 'properties', wanted], `${field}: ${codes.join(', ')} (Lago's range rules)`);
          }
        }
      });
    }

    if (scenario.customer.currency && scenario.customer.currency !== planCurrency) {
      problem(
        ['customer', 'currency'],
        `the customer pays in ${scenario.customer.currency}, the plan in ${planCurrency}`,
      );
    }

    const { subscription_at: startAt, terminated_at: endAt } = scenario.subscription;
    if (endAt !== undefined && endAt !== null && endAt < startAt) {
      problem(['subscription', 'terminated_at'], 'terminated_at is before subscription_at');
    }

    (scenario.events ?? []).forEach((item, i) => {
      if (
        item.external_subscription_id !== undefined &&
        item.external_subscription_id !== scenario.subscription.external_id
      ) {
        problem(
          ['events', i, 'external_subscription_id'],
          `the scenario's subscription is ${scenario.subscription.external_id}`,
        );
      }
    });

    const walletCodes = new Set<string>();
    (scenario.wallets ?? []).forEach((item, i) => {
      const path = ['wallets', i];
      if (walletCodes.has(item.code)) problem([...path, 'code'], `duplicate wallet code ${item.code}`);
      walletCodes.add(item.code);
      const walletCurrency = item.currency ?? planCurrency;
      if (walletCurrency !== planCurrency)
        problem([...path, 'currency'], `wallets must be in the customer's currency ${planCurrency}`);
      if (item.created_at !== undefined && item.created_at > scenario.as_of) {
        problem([...path, 'created_at'], 'created_at is after as_of');
      }
      if (item.granted_credits) {
        const topUp = topUpAmount(item.granted_credits, item.rate_amount, walletCurrency);
        if (!topUp.ok && topUp.error === 'amount_rounds_to_zero' && !new Dec(item.granted_credits).isZero()) {
          problem(
            [...path, 'granted_credits'],
            'amount_rounds_to_zero: the credits are worth less than one minor unit',
          );
        }
      }
      for (const code of item.applies_to?.billable_metric_codes ?? []) {
        if (!metricCodes.has(code))
          problem([...path, 'applies_to', 'billable_metric_codes'], `unknown billable metric ${code}`);
      }
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;

type ScenarioPlan = z.output<typeof plan>;

/** The scenario's plans (`plan` or `plans`) with their JSON paths. */
function scenarioPlans(scenario: {
  plan?: ScenarioPlan;
  plans?: ScenarioPlan[];
}): [ScenarioPlan, (string | number)[]][] {
  if (scenario.plans) return scenario.plans.map((item, i) => [item, ['plans', i]]);
  return scenario.plan ? [[scenario.plan, ['plan']]] : [];
}

type ScenarioChargeProperties = ScenarioPlan['charges'] extends (infer C)[] | undefined
  ? C extends { properties: infer P }
    ? P
    : never
  : never;

/** The properties key each charge model reads. */
const PROPERTY_OF_MODEL: Record<ChargeModelName, keyof ScenarioChargeProperties> = {
  standard: 'amount',
  graduated: 'graduated_ranges',
  volume: 'volume_ranges',
};

/** Billing's properties of a validated scenario charge (Lago's ranges mapped once, to camelCase tiers). */
function chargePropertiesOf(model: ChargeModelName, properties: ScenarioChargeProperties): ChargeProperties {
  if (model === 'standard') return { amount: properties.amount as string };
  const ranges = tierRangesOf(model, properties) ?? [];
  return model === 'graduated' ? { graduatedRanges: ranges } : { volumeRanges: ranges };
}

export interface ScenarioProblem {
  /** JSON path, e.g. `$.events[3].timestamp`. */
  path: string;
  message: string;
}

export type ScenarioParseResult =
  { ok: true; scenario: Scenario; input: SimulationInput } | { ok: false; problems: ScenarioProblem[] };

function jsonPath(path: readonly PropertyKey[]): string {
  let result = '$';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) result += `.${segment}`;
    else result += `[${JSON.stringify(String(segment))}]`;
  }
  return result;
}

/** Validates a parsed JSON scenario and maps it to billing's input. */
export function parseScenario(value: unknown): ScenarioParseResult {
  const parsed = scenarioSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
    };
  }
  return { ok: true, scenario: parsed.data, input: simulationInputOf(parsed.data) };
}

/** The one mapping from the scenario's Lago names to billing's domain input. */
export function simulationInputOf(scenario: Scenario): SimulationInput {
  const allPlans = scenarioPlans(scenario).map(([item]) => item);
  const startCode = scenario.subscription.plan_code ?? (allPlans[0] as ScenarioPlan).code;
  const currencyCode = (allPlans[0] as ScenarioPlan).amount_currency;
  const planOf = (code: string): Plan => {
    const item = allPlans.find((candidate) => candidate.code === code) as ScenarioPlan;
    return {
      code: item.code,
      interval: item.interval,
      amountCents: item.amount_cents ?? 0,
      currency: item.amount_currency,
      payInAdvance: item.pay_in_advance ?? false,
      charges: (item.charges ?? []).map((charge) => ({
        code: charge.code ?? charge.billable_metric_code,
        lagoId: null,
        billableMetricCode: charge.billable_metric_code,
        chargeModel: charge.charge_model as ChargeModelName,
        prorated: charge.prorated ?? false,
        properties: chargePropertiesOf(charge.charge_model as ChargeModelName, charge.properties),
        invoiceDisplayName: charge.invoice_display_name ?? null,
        payInAdvance: charge.pay_in_advance ?? false,
      })),
      trialPeriodDays: item.trial_period ?? 0,
    };
  };
  const subscriptionAt = scenario.subscription.subscription_at;
  const prefix =
    scenario.invoice_number_prefix ??
    (scenario.customer.external_id
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 3)
      .toUpperCase() ||
      'INV');
  return {
    customer: {
      externalId: scenario.customer.external_id,
      timeZone: scenario.customer.timezone ?? 'UTC',
      graceDays: scenario.customer.invoice_grace_period ?? 0,
    },
    metrics: scenario.billable_metrics.map((metric) => ({
      code: metric.code,
      name: metric.name ?? metric.code,
      lagoId: null,
      aggregationType: metric.aggregation_type,
      fieldName: metric.field_name ?? null,
      recurring: metric.recurring ?? false,
    })),
    plan: planOf(startCode),
    planChanges: (scenario.subscription.plan_changes ?? []).map((change) => ({
      at: change.at,
      plan: planOf(change.plan_code),
    })),
    subscription: {
      externalId: scenario.subscription.external_id,
      billingTime: scenario.subscription.billing_time ?? 'calendar',
      subscriptionAt,
      terminatedAt: scenario.subscription.terminated_at ?? null,
    },
    events: (scenario.events ?? []).map((item) => ({
      transactionId: item.transaction_id,
      code: item.code,
      at: item.timestamp,
      receivedAt: item.received_at ?? null,
      properties: item.properties ?? {},
    })),
    wallets: (scenario.wallets ?? []).map((item) => ({
      code: item.code,
      name: item.name ?? null,
      currency: item.currency ?? currencyCode,
      rateAmount: item.rate_amount,
      grantedCredits: item.granted_credits ?? null,
      priority: item.priority ?? 50,
      createdAt: item.created_at ?? subscriptionAt,
      expirationAt: item.expiration_at ?? null,
      appliesTo: {
        feeTypes: item.applies_to?.fee_types ?? [],
        billableMetricCodes: item.applies_to?.billable_metric_codes ?? [],
      },
    })),
    asOf: scenario.as_of,
    invoiceNumberPrefix: prefix,
    customerSequentialId: scenario.customer.sequential_id ?? 1,
  };
}
