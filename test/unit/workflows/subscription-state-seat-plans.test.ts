/**
 * The subscription workflow's state (workflows/subscription-state.ts, deterministic, no Temporal)
 * with pay-in-advance seats and a trial: what it issues, what continue-as-new carries, what the
 * wallets' ongoing usage counts.
 */
import { SubscriptionState, type SubscriptionWorkflowInput } from '../../../workflows/subscription-state';
import type { Plan } from '../../../src/billing';
import type { SeatEventMessage } from '../../../src/contracts/subscription-workflow';
import { at, seatPlan, seatsMetric } from '../billing/billing-stories';

const advanceAndArrears: Plan = {
  ...seatPlan(),
  charges: [
    { ...seatPlan().charges[0]!, payInAdvance: true },
    { ...seatPlan({ price: '5' }).charges[0]!, code: 'admin_fee' },
  ],
};

function input(plan: Plan, startedAt = at('2024-03-01T00:00:00Z')): SubscriptionWorkflowInput {
  return {
    subscription: {
      organizationId: 'org',
      id: 'sub',
      externalId: 'ext',
      customerId: 'cus',
      externalCustomerId: 'ext-cus',
      planCode: plan.code,
    },
    status: 'active',
    endingAt: null,
    startedAt,
    terms: {
      timeZone: 'UTC',
      graceDays: 0,
      billingTime: 'calendar',
      anchorLocalDate: '2024-03-01',
      plan,
      metrics: [seatsMetric],
    },
  };
}

function seat(id: string, user: string, iso: string, op = 'add'): SeatEventMessage {
  return {
    transaction_id: id,
    code: 'seats',
    timestamp: at(iso),
    properties: { user_id: user, operation_type: op },
    recorded: true,
  };
}

describe('SubscriptionState with pay-in-advance seats (March 2024, D = 31, $10 in advance + $5 in arrears)', () => {
  it('issues one invoice per seat added, none again after a re-add or a continue-as-new', () => {
    const state = SubscriptionState.fromInput(input(advanceAndArrears));
    state.receive([seat('a', 'u1', '2024-03-01T00:00:00Z'), seat('b', 'u2', '2024-03-10T09:00:00Z')]);
    expect(state.inAdvanceDue()).toBe(true);
    // u1 at the period's first instant: 31/31 → 1000; u2 from 03-10: 22/31 → 0.70968 → 710.
    const first = state.takeInAdvanceInvoices(at('2024-03-10T09:00:05Z'));
    expect(first.map((i) => [i.id, i.invoicing_reason, i.issuing_date, i.total_amount_cents])).toEqual([
      ['sub:in_advance_charge:2024-03-01:seat_fee:u1', 'in_advance_charge', '2024-03-10', 1000],
      ['sub:in_advance_charge:2024-03-01:seat_fee:u2', 'in_advance_charge', '2024-03-10', 710],
    ]);
    expect(first[1]?.fees.map((f) => [f.charge_code, f.pay_in_advance, f.prorated_units])).toEqual([
      ['seat_fee', true, '0.70968'],
    ]);
    expect(state.inAdvanceDue()).toBe(false);

    // Removed and re-added: nothing more; a redelivered event changes nothing either.
    state.receive([
      seat('c', 'u2', '2024-03-15T09:00:00Z', 'remove'),
      seat('d', 'u2', '2024-03-20T09:00:00Z'),
    ]);
    state.receive([seat('b', 'u2', '2024-03-10T09:00:00Z')]);
    expect(state.takeInAdvanceInvoices(at('2024-03-20T09:00:05Z'))).toEqual([]);

    // Continue-as-new carries the billed set: the next run bills nothing again.
    const next = SubscriptionState.fromInput(
      JSON.parse(JSON.stringify(state.toInput())) as SubscriptionWorkflowInput,
    );
    expect(next.inAdvanceDue()).toBe(true);
    expect(next.takeInAdvanceInvoices(at('2024-03-21T00:00:00Z'))).toEqual([]);
    next.receive([seat('e', 'u3', '2024-03-25T09:00:00Z')]);
    expect(next.takeInAdvanceInvoices(at('2024-03-25T09:00:05Z')).map((i) => i.total_amount_cents)).toEqual([
      226,
    ]);
  });

  it('current usage shows what was billed in advance; the wallets count only the arrears charge as not yet invoiced', () => {
    const state = SubscriptionState.fromInput(input(advanceAndArrears));
    state.receive([seat('a', 'u1', '2024-03-01T00:00:00Z'), seat('b', 'u2', '2024-03-10T09:00:00Z')]);
    state.takeInAdvanceInvoices(at('2024-03-10T09:00:05Z'));
    state.receive([seat('c', 'u2', '2024-03-15T09:00:00Z', 'remove')]);
    const usage = state.currentUsage();
    expect(usage?.charges_usage.map((c) => [c.charge.code, c.units, c.amount_cents])).toEqual([
      // Arrears: u1 31 + u2 6 (03-10..03-15) = 37/31 → 1.19355 × $5 → 597. In advance: 1000 + 710.
      ['admin_fee', '1.0', 597],
      ['seat_fee', '2.0', 1710],
    ]);
    expect(state.ongoingUsageReport(at('2024-03-16T00:00:00Z')).fees).toEqual([
      { feeType: 'charge', amountCents: 597, billableMetricCode: 'seats' },
    ]);
  });
});

describe('SubscriptionState with a 10-day trial (started 2024-03-05T10:00Z)', () => {
  const trialPlan: Plan = { ...seatPlan({ amountCents: 3000 }), trialPeriodDays: 10 };
  const startedAt = at('2024-03-05T10:00:00Z');
  const trialEnd = at('2024-03-15T10:00:00Z');

  it('wakes at the trial end, handles it once, and projects trial_ended_at from then on', () => {
    const state = SubscriptionState.fromInput(input(trialPlan, startedAt));
    expect(state.nextDeadline()).toBe(trialEnd);
    expect(state.trialEndDue(trialEnd - 1)).toBe(false);
    expect(state.projection(trialEnd - 1).trialEndedAt).toBeNull();
    expect(state.trialEndDue(trialEnd)).toBe(true);
    state.markTrialEnded();
    expect(state.trialEndDue(trialEnd + 1)).toBe(false);
    expect(state.projection(trialEnd).trialEndedAt).toBe(trialEnd);
    expect(state.nextDeadline()).toBe(at('2024-04-01T00:00:00Z'));
    const next = SubscriptionState.fromInput(state.toInput());
    expect(next.trialEndDue(trialEnd + 1)).toBe(false);
  });
});
