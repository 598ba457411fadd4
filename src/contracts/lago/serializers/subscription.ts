import type { SubscriptionDoc } from '../../../store/subscriptions';
import type { PlanDoc } from '../../../store/plans';
import { isoSeconds } from './iso';
import type { PlanJson } from './plan';

const iso = (d: Date | null) => (d ? isoSeconds(d) : null);

/** Lago's subscription object (lago-api.md section 4.4); `plan` only where Lago includes it. */
export function serializeSubscription(
  s: SubscriptionDoc,
  plan: Pick<PlanDoc, 'amount_cents' | 'amount_currency'> | null,
  planJson?: PlanJson,
) {
  return {
    lago_id: s._id,
    external_id: s.external_id,
    lago_customer_id: s.customer_id,
    external_customer_id: s.external_customer_id,
    billing_entity_code: 'default',
    name: s.name,
    plan_code: s.plan_code,
    plan_amount_cents: plan?.amount_cents ?? null,
    plan_amount_currency: plan?.amount_currency ?? null,
    status: s.status,
    billing_time: s.billing_time,
    subscription_at: isoSeconds(s.subscription_at),
    started_at: s.started_at ? s.started_at.toISOString() : null,
    trial_ended_at: iso(s.trial_ended_at ?? null),
    ending_at: iso(s.ending_at),
    terminated_at: iso(s.terminated_at),
    canceled_at: iso(s.canceled_at),
    created_at: isoSeconds(s.created_at),
    previous_plan_code: s.previous_plan_code ?? null,
    next_plan_code: s.next_plan_code ?? null,
    downgrade_plan_date: s.downgrade_plan_date ?? null,
    current_billing_period_started_at: iso(s.current_billing_period_started_at),
    current_billing_period_ending_at: s.current_billing_period_ending_at
      ? isoSeconds(new Date(s.current_billing_period_ending_at.getTime() - 1000))
      : null,
    on_termination_credit_note: null,
    on_termination_invoice: 'generate',
    progressive_billing_disabled: false,
    consolidate_invoice: true,
    purchase_order_number: null,
    cancellation_reason: null,
    activated_at: null,
    payment_method: { payment_method_id: null, payment_method_type: 'provider' },
    ...(planJson ? { plan: planJson } : {}),
    entitlements: [],
    applicable_usage_thresholds: [],
    applied_invoice_custom_sections: [],
    activation_rules: [],
  };
}
