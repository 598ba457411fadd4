/**
 * The seed's per-seat plan as billing types and as Lago documents: $10 per user per month, prorated by
 * the day, on a recurring unique count of `user_id`.
 */
import type { Db } from 'mongodb';
import type { BillableMetric } from '../../src/billing/billable-metric';
import type { Plan } from '../../src/billing/plan';
import { localDateOf } from '../../src/billing/local-time';
import {
  simulate,
  type SimulationEvent,
  type SimulationPlanChange,
  type WalletSetup,
} from '../../src/billing/simulate';
import { upsertCustomer } from '../../src/store/customers';
import { createOrganization } from '../../src/store/organizations';
import type { SubscriptionWorkflowInput } from '../../workflows/subscription-state';
import type { DirectSeatEvent } from '../../src/temporal/seat-events';

export const seatsMetric: BillableMetric = {
  code: 'seats',
  name: 'Seats',
  lagoId: 'metric-seats',
  aggregationType: 'unique_count_agg',
  fieldName: 'user_id',
  recurring: true,
};

export const teamPlan: Plan = {
  code: 'team',
  interval: 'monthly',
  amountCents: 0,
  currency: 'USD',
  payInAdvance: false,
  charges: [
    {
      code: 'seat_fee',
      lagoId: 'charge-seat-fee',
      billableMetricCode: 'seats',
      chargeModel: 'standard',
      prorated: true,
      properties: { amount: '10' },
      invoiceDisplayName: null,
    },
  ],
};

export interface SubscriptionFixture {
  organizationId: string;
  input: SubscriptionWorkflowInput;
}

/** An organization and customer in MongoDB, and the first workflow input of a subscription. */
export async function seedSubscription(
  db: Db,
  options: {
    externalId: string;
    subscriptionAt: number;
    timeZone?: string;
    graceDays?: number;
    endingAt?: number | null;
    /** Default: the seed's team plan. */
    plan?: Plan;
  },
): Promise<SubscriptionFixture> {
  const timeZone = options.timeZone ?? 'UTC';
  const graceDays = options.graceDays ?? 0;
  const { organization } = await createOrganization(db, 'Acme Billing');
  const { customer } = await upsertCustomer(db, organization._id, {
    external_id: `${options.externalId}-customer`,
    timezone: timeZone,
    billing_configuration: { invoice_grace_period: graceDays },
  });
  return {
    organizationId: organization._id,
    input: {
      subscription: {
        organizationId: organization._id,
        id: `sub-${options.externalId}`,
        externalId: options.externalId,
        customerId: customer._id,
        externalCustomerId: customer.external_id,
        planCode: (options.plan ?? teamPlan).code,
      },
      status: 'active',
      endingAt: options.endingAt ?? null,
      startedAt: options.subscriptionAt,
      terms: {
        timeZone,
        graceDays,
        billingTime: 'calendar',
        anchorLocalDate: localDateOf(options.subscriptionAt, timeZone),
        plan: options.plan ?? teamPlan,
        metrics: [seatsMetric],
      },
    },
  };
}

export function seat(transactionId: string, user: string, op: 'add' | 'remove', at: number): DirectSeatEvent {
  return {
    transaction_id: transactionId,
    code: 'seats',
    timestamp: at,
    properties: { user_id: user, operation_type: op },
  };
}

/** `prorata simulate` of the same subscription and events, as of `asOf`. */
export function simulateFixture(
  fixture: SubscriptionFixture,
  events: DirectSeatEvent[],
  asOf: number,
  terminatedAt: number | null = null,
  wallets: WalletSetup[] = [],
  planChanges: SimulationPlanChange[] = [],
) {
  const { input } = fixture;
  const simEvents: SimulationEvent[] = events.map((e) => ({
    transactionId: e.transaction_id,
    code: e.code,
    at: e.timestamp,
    receivedAt: null,
    properties: e.properties,
  }));
  return simulate({
    customer: {
      externalId: input.subscription.externalCustomerId,
      timeZone: input.terms.timeZone,
      graceDays: input.terms.graceDays,
    },
    metrics: input.terms.metrics,
    plan: input.terms.plan,
    planChanges,
    subscription: {
      externalId: input.subscription.externalId,
      billingTime: input.terms.billingTime,
      subscriptionAt: input.startedAt,
      terminatedAt,
    },
    events: simEvents,
    wallets,
    asOf,
    invoiceNumberPrefix: 'ACM',
    customerSequentialId: 1,
  });
}
