import {
  allocateCredits,
  closePeriod,
  currentUsage,
  draftInvoiceNumber,
  draftsAffectedBy,
  draftsDue,
  finalizeDraft,
  finalizedWithCredits,
  invoiceNumber,
  isoSeconds,
  issueOpeningInvoice,
  lagoCustomerUsage,
  lagoInvoiceAmounts,
  newWallet,
  creditWallet,
  recordEvent,
  refreshDraft,
  terminate,
  type Invoice,
  type BillingCycle,
} from '../../../src/billing';
import { at, seatCycle, seatEvents, seatPlan, seatsMetric, type SeatStory } from './billing-stories';

function receive(cycle: BillingCycle, story: SeatStory[], firstSeq = 0): void {
  for (const event of seatEvents(story, 'seats', firstSeq)) recordEvent(cycle, event);
}

function closeUntil(cycle: BillingCycle, localDate: string): Invoice[] {
  const invoices: Invoice[] = [];
  while (cycle.period.startLocalDate < localDate) invoices.push(closePeriod(cycle));
  return invoices;
}

describe('lago-semantics §1.10: the per-seat use case end to end', () => {
  const events: SeatStory[] = [
    ['u1', 'add', '2024-03-01T09:00:00Z'],
    ['u2', 'add', '2024-03-10T15:00:00Z'],
    ['u1', 'remove', '2024-03-20T08:00:00Z'],
  ];

  it('shows 1355 cents and units "1.0" in current usage after 03-20, and projects u2 to the period end', () => {
    const cycle = seatCycle('2024-01-01T00:00:00Z');
    closeUntil(cycle, '2024-03-01');
    receive(cycle, events);
    const usage = currentUsage(cycle, { explain: true });
    expect(usage?.charges[0]?.seats?.map((seat) => [seat.seatKey, seat.days])).toEqual([
      ['u1', 20],
      ['u2', 22],
    ]);
    expect(lagoCustomerUsage(usage!, [seatsMetric])).toEqual({
      from_datetime: '2024-03-01T00:00:00Z',
      to_datetime: '2024-03-31T23:59:59Z',
      issuing_date: '2024-03-31',
      currency: 'USD',
      amount_cents: 1355,
      total_amount_cents: 1355,
      taxes_amount_cents: 0,
      lago_invoice_id: null,
      charges_usage: [
        {
          units: '1.0',
          total_aggregated_units: '1.0',
          events_count: 3,
          amount_cents: 1355,
          amount_currency: 'USD',
          pricing_unit_details: null,
          charge: { lago_id: null, code: 'seat_fee', charge_model: 'standard', invoice_display_name: null },
          billable_metric: {
            lago_id: null,
            name: 'Seats',
            code: 'seats',
            aggregation_type: 'unique_count_agg',
          },
          filters: [],
          grouped_usage: [],
          presentation_breakdowns: [],
          prorated_units: '1.35484',
        },
      ],
    });
  });

  it('invoices March on 2024-04-01 (1355 cents, a 10-credit wallet pays 1000, 355 due) and April at 1000', () => {
    const cycle = seatCycle('2024-01-01T00:00:00Z');
    closeUntil(cycle, '2024-03-01');
    receive(cycle, events);
    const march = closePeriod(cycle);
    expect(lagoInvoiceAmounts(march, [seatsMetric])).toEqual({
      invoicing_reason: 'subscription_periodic',
      status: 'finalized',
      payment_status: 'pending',
      issuing_date: '2024-04-01',
      from_datetime: '2024-03-01T00:00:00Z',
      to_datetime: '2024-03-31T23:59:59Z',
      currency: 'USD',
      fees_amount_cents: 1355,
      taxes_amount_cents: 0,
      sub_total_excluding_taxes_amount_cents: 1355,
      sub_total_including_taxes_amount_cents: 1355,
      prepaid_credit_amount_cents: 0,
      total_amount_cents: 1355,
      fees: [
        {
          fee_type: 'subscription',
          charge_code: null,
          lago_charge_id: null,
          billable_metric_code: null,
          lago_billable_metric_id: null,
          invoice_display_name: null,
          from_datetime: '2024-03-01T00:00:00Z',
          to_datetime: '2024-03-31T23:59:59Z',
          charges_duration: null,
          units: '1.0',
          prorated_units: null,
          events_count: 0,
          amount_cents: 0,
          amount_currency: 'USD',
          precise_amount: '0',
          pay_in_advance: false,
        },
        {
          fee_type: 'charge',
          charge_code: 'seat_fee',
          lago_charge_id: null,
          billable_metric_code: 'seats',
          lago_billable_metric_id: null,
          invoice_display_name: null,
          from_datetime: '2024-03-01T00:00:00Z',
          to_datetime: '2024-03-31T23:59:59Z',
          charges_duration: 31,
          units: '1.0',
          prorated_units: '1.35484',
          events_count: 3,
          amount_cents: 1355,
          amount_currency: 'USD',
          precise_amount: '13.5484',
          pay_in_advance: false,
        },
      ],
    });

    const wallet = creditWallet(
      newWallet({
        code: 'prepaid',
        name: null,
        lagoId: null,
        currency: 'USD',
        rateAmount: '1',
        priority: 50,
        createdAt: at('2024-01-01T00:00:00Z'),
        expirationAt: null,
        appliesTo: { feeTypes: [], billableMetricCodes: [] },
      }),
      '10',
      1000,
    );
    const allocation = allocateCredits(march, [wallet], at('2024-04-01T00:00:00Z'));
    const paid = finalizedWithCredits(march, allocation.prepaidCreditAmountCents);
    expect([paid.prepaidCreditAmountCents, paid.totalAmountCents, paid.paymentStatus]).toEqual([
      1000,
      355,
      'pending',
    ]);
    expect([allocation.wallets[0]?.balanceCents, allocation.wallets[0]?.creditsBalance]).toEqual([0, '0']);

    const april = closePeriod(cycle);
    expect(april.fees.map((fee) => [fee.feeType, fee.units, fee.amountCents])).toEqual([
      ['subscription', '1.0', 0],
      ['charge', '1.0', 1000],
    ]);
  });
});

describe('lago-api §4.6: the November current usage example', () => {
  it('bills u1 from the 3rd (28), u2 from the 5th to the 15th (11), u3 from the 10th (21): 60/30 → 2000 cents, units "2.0"', () => {
    const cycle = seatCycle('2026-10-01T00:00:00Z', { anchor: '2026-10-01' });
    closeUntil(cycle, '2026-11-01');
    receive(cycle, [
      ['u1', 'add', '2026-11-03T08:31:59Z'],
      ['u2', 'add', '2026-11-05T10:00:00Z'],
      ['u3', 'add', '2026-11-10T10:00:00Z'],
      ['u2', 'remove', '2026-11-15T18:00:00Z'],
    ]);
    const usage = lagoCustomerUsage(currentUsage(cycle)!, [seatsMetric]);
    expect([usage.from_datetime, usage.to_datetime, usage.amount_cents]).toEqual([
      '2026-11-01T00:00:00Z',
      '2026-11-30T23:59:59Z',
      2000,
    ]);
    expect(usage.charges_usage[0]).toMatchObject({
      units: '2.0',
      prorated_units: '2.0',
      events_count: 4,
      amount_cents: 2000,
    });
  });
});

describe('SPEC §2 and §5: subscription fee, invoices and statuses', () => {
  it('prorates the plan fee for a first partial period: $31 from Jul 10 is 22/31 → 2200 cents', () => {
    const cycle = seatCycle('2024-07-10T15:00:00Z', { plan: seatPlan({ amountCents: 3100 }) });
    const july = closePeriod(cycle);
    expect(july.fees.map((fee) => [fee.feeType, fee.amountCents])).toEqual([['subscription', 2200]]);
    expect(isoSeconds(july.fromAt)).toBe('2024-07-10T15:00:00Z');
    expect(isoSeconds(july.fees[0]!.fromAt)).toBe('2024-07-10T00:00:00Z');
    expect(closePeriod(cycle).feesAmountCents).toBe(3100);
  });

  it('prorates the plan fee at termination, the termination day included: 32/91 of $91 a quarter = 3200 cents', () => {
    const cycle = seatCycle('2024-01-01T00:00:00Z', {
      plan: seatPlan({ amountCents: 9100, interval: 'quarterly' }),
    });
    closePeriod(cycle); // Q1
    const result = terminate(cycle, at('2024-05-02T10:00:00Z')); // Apr 1 .. May 2 = 32 days of 91
    expect(result.ok && result.invoice.fees[0]?.amountCents).toBe(3200);
    expect(
      result.ok && [result.invoice.invoicingReason, result.invoice.status, result.invoice.issuingLocalDate],
    ).toEqual(['subscription_terminating', 'finalized', '2024-05-02']);
    expect(terminate(cycle, at('2024-05-03T10:00:00Z'))).toEqual({ ok: false, error: 'already_terminated' });
    expect(currentUsage(cycle)).toBeNull();
  });

  it('refuses a termination outside the current period', () => {
    const cycle = seatCycle('2024-03-10T00:00:00Z');
    expect(terminate(cycle, at('2024-03-09T00:00:00Z'))).toEqual({ ok: false, error: 'before_start' });
    expect(terminate(cycle, at('2024-04-01T00:00:00Z'))).toEqual({
      ok: false,
      error: 'after_current_period',
    });
    closePeriod(cycle);
    expect(terminate(cycle, at('2024-03-20T00:00:00Z'))).toEqual({
      ok: false,
      error: 'before_current_period',
    });
  });

  it('terminates a seat subscription on the first day: [F, terminated_at] is one day of 31', () => {
    const cycle = seatCycle('2024-06-01T00:00:00Z');
    receive(cycle, [['u1', 'add', '2024-06-01T10:00:00Z']]);
    closePeriod(cycle);
    const result = terminate(cycle, at('2024-07-01T10:00:00Z'));
    expect(result.ok && result.invoice.fees.map((fee) => fee.amountCents)).toEqual([0, 32]);
    expect(result.ok && isoSeconds(result.invoice.toAt)).toBe('2024-07-01T10:00:00Z');
  });

  it('leaves out charge fees with zero units, amount and events, but always has the subscription fee', () => {
    const cycle = seatCycle('2024-01-01T00:00:00Z');
    receive(cycle, [
      ['u1', 'add', '2024-01-05T10:00:00Z'],
      ['u1', 'remove', '2024-01-25T10:00:00Z'],
    ]);
    expect(closePeriod(cycle).fees.map((fee) => fee.feeType)).toEqual(['subscription', 'charge']);
    const february = closePeriod(cycle);
    expect(february.fees.map((fee) => fee.feeType)).toEqual(['subscription']);
    expect([february.totalAmountCents, february.paymentStatus]).toEqual([0, 'succeeded']);
  });

  it('keeps an invoice as a draft during the grace period; late events update it; it is final after', () => {
    const cycle = seatCycle('2024-03-01T00:00:00Z', { graceDays: 3 });
    receive(cycle, [['u1', 'add', '2024-03-01T09:00:00Z']]);
    const draft = closePeriod(cycle);
    expect([
      draft.status,
      draft.issuingLocalDate,
      isoSeconds(draft.finalizesAt),
      draft.totalAmountCents,
    ]).toEqual(['draft', '2024-04-04', '2024-04-04T00:00:00Z', 1000]);
    // A late March seat arrives on April 2nd: it updates the draft and carries into April.
    receive(cycle, [['u2', 'add', '2024-03-16T09:00:00Z']], 1);
    expect(draftsAffectedBy(cycle, at('2024-03-16T09:00:00Z'))).toEqual([draft.key]);
    expect(refreshDraft(cycle, draft.key)?.feesAmountCents).toBe(1516); // 31 + 16 = 47/31 → 1.51613 → 1516
    expect(draftsDue(cycle, at('2024-04-03T23:59:59Z'))).toEqual([]);
    expect(draftsDue(cycle, at('2024-04-04T00:00:00Z'))).toEqual([draft.key]);
    const final = finalizeDraft(cycle, draft.key)!;
    expect([final.status, final.feesAmountCents, cycle.drafts.length]).toEqual(['finalized', 1516, 0]);
    expect(cycle.ledger.compactedBefore).toBe(at('2024-04-01T00:00:00Z'));
    expect(closePeriod(cycle).fees[1]?.amountCents).toBe(2000);
  });

  it('bills a pay-in-advance plan fee when the period starts', () => {
    const plan = { ...seatPlan({ amountCents: 3000 }), payInAdvance: true };
    const cycle = seatCycle('2024-06-11T10:00:00Z', { plan });
    const opening = issueOpeningInvoice(cycle)!;
    expect([opening.invoicingReason, opening.issuingLocalDate, opening.feesAmountCents]).toEqual([
      'subscription_starting',
      '2024-06-11',
      2000, // Jun 11..30 = 20/30 of 3000
    ]);
    receive(cycle, [['u1', 'add', '2024-06-11T10:00:00Z']]);
    const june = closePeriod(cycle);
    expect(june.fees.map((fee) => [fee.feeType, fee.amountCents, isoSeconds(fee.fromAt)])).toEqual([
      ['charge', 667, '2024-06-11T10:00:00Z'],
      ['subscription', 3000, '2024-07-01T00:00:00Z'],
    ]);
    const end = terminate(cycle, at('2024-07-10T00:00:00Z'));
    expect(end.ok && end.invoice.fees.map((fee) => fee.feeType)).toEqual(['charge']);
  });

  it('keys each invoice by reason and period, so a subscription has one invoice per period', () => {
    const cycle = seatCycle('2024-01-10T00:00:00Z');
    const keys = [closePeriod(cycle), closePeriod(cycle)].map((invoice) => invoice.key);
    const end = terminate(cycle, at('2024-03-05T00:00:00Z'));
    expect([...keys, end.ok && end.invoice.key]).toEqual([
      'subscription_periodic:2024-01-01',
      'subscription_periodic:2024-02-01',
      'subscription_terminating:2024-03-01',
    ]);
  });

  it('numbers invoices per customer at finalization, drafts carry PREFIX-DRAFT', () => {
    expect(invoiceNumber('ACM-9C2F', 1, 3)).toBe('ACM-9C2F-001-003');
    expect(invoiceNumber('ACM', 12, 1234)).toBe('ACM-012-1234');
    expect(draftInvoiceNumber('ACM-9C2F')).toBe('ACM-9C2F-DRAFT');
  });
});
