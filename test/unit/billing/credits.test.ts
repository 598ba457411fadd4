import {
  allocateCredits,
  allocateOngoingUsage,
  creditableInvoice,
  lagoAmountsWithCredits,
  lagoInvoiceAmounts,
  buildInvoice,
  centsToCredits,
  creditWallet,
  creditsToCents,
  debitWallet,
  expireWallet,
  newWallet,
  topUpAmount,
  type Fee,
  type Invoice,
  type Wallet,
  type WalletAppliesTo,
} from '../../../src/billing';
import { at } from './billing-stories';

const finalizedAt = at('2024-04-01T00:00:00Z');

function wallet(
  code: string,
  credits: string,
  options: {
    rate?: string;
    priority?: number;
    createdAt?: string;
    currency?: string;
    appliesTo?: Partial<WalletAppliesTo>;
    expirationAt?: string;
  } = {},
): Wallet {
  const rate = options.rate ?? '1';
  const currency = options.currency ?? 'USD';
  const empty = newWallet({
    code,
    name: null,
    lagoId: null,
    currency,
    rateAmount: rate,
    priority: options.priority ?? 50,
    createdAt: at(options.createdAt ?? '2024-01-01T00:00:00Z'),
    expirationAt: options.expirationAt ? at(options.expirationAt) : null,
    appliesTo: { feeTypes: [], billableMetricCodes: [], ...options.appliesTo },
  });
  const topUp = topUpAmount(credits, rate, currency);
  if (!topUp.ok) throw new Error(topUp.error);
  return creditWallet(empty, topUp.credits, topUp.amountCents);
}

function fee(feeType: 'subscription' | 'charge', amountCents: number, metric = 'seats'): Fee {
  const base = {
    fromAt: 0,
    toAt: 0,
    units: '1.0',
    eventsCount: 0,
    preciseAmount: '0',
    amountCents,
    currency: 'USD',
  };
  return feeType === 'subscription'
    ? { ...base, feeType, planCode: 'team', usedDays: 31, durationDays: 31, inAdvance: false }
    : {
        ...base,
        feeType,
        chargeCode: `${metric}_fee`,
        chargeLagoId: null,
        chargeModel: 'standard',
        invoiceDisplayName: null,
        billableMetricCode: metric,
        durationDays: 31,
        proratedUnits: null,
        seatDays: null,
        seatsEverActive: null,
        seats: null,
      };
}

function invoice(fees: Fee[], currency = 'USD'): Invoice {
  return buildInvoice({
    key: 'subscription_periodic:2024-03-01',
    invoicingReason: 'subscription_periodic',
    status: 'finalized',
    currency,
    periodStartAt: 0,
    periodEndAt: 0,
    fromAt: 0,
    toAt: 0,
    issuingLocalDate: '2024-04-01',
    finalizesAt: finalizedAt,
    fees,
  });
}

describe('SPEC §6: prepaid credits applied at finalization', () => {
  it('spends wallets by priority, then creation time, one transaction per wallet, splitting the invoice', () => {
    const wallets = [
      wallet('late-low', '100', { priority: 10, createdAt: '2024-02-01T00:00:00Z' }),
      wallet('early-low', '5', { priority: 10, createdAt: '2024-01-15T00:00:00Z' }),
      wallet('high', '100', { priority: 1, createdAt: '2024-03-01T00:00:00Z' }),
    ];
    const result = allocateCredits(
      invoice([fee('charge', 12_000), fee('subscription', 500)]),
      wallets,
      finalizedAt,
    );
    expect(result.takes).toEqual([
      { walletCode: 'high', amountCents: 10_000, creditAmount: '100' },
      { walletCode: 'early-low', amountCents: 500, creditAmount: '5' },
      { walletCode: 'late-low', amountCents: 2000, creditAmount: '20' },
    ]);
    expect(result.prepaidCreditAmountCents).toBe(12_500);
    expect(result.wallets.map((w) => [w.code, w.balanceCents, w.creditsBalance, w.consumedCredits])).toEqual([
      ['late-low', 8000, '80', '20'],
      ['early-low', 0, '0', '5'],
      ['high', 0, '0', '100'],
    ]);
  });

  it('covers what it can and leaves the rest due: 1355 with 1000 of credits leaves 355', () => {
    const result = allocateCredits(invoice([fee('charge', 1355)]), [wallet('prepaid', '10')], finalizedAt);
    expect([result.prepaidCreditAmountCents, result.wallets[0]?.balanceCents]).toEqual([1000, 0]);
  });

  it('never takes more than the invoice amount', () => {
    const result = allocateCredits(invoice([fee('charge', 667)]), [wallet('prepaid', '50')], finalizedAt);
    expect(result.takes).toEqual([{ walletCode: 'prepaid', amountCents: 667, creditAmount: '6.67' }]);
    expect([result.wallets[0]?.balanceCents, result.wallets[0]?.creditsBalance]).toEqual([4333, '43.33']);
  });

  it('respects applies_to: a seats-only wallet pays nothing toward the subscription fee or another metric', () => {
    const seatsOnly = wallet('seats-only', '100', { appliesTo: { billableMetricCodes: ['seats'] } });
    const subscriptionOnly = wallet('subscription-only', '100', {
      appliesTo: { feeTypes: ['subscription'] },
    });
    const commitmentOnly = wallet('commitment-only', '100', {
      appliesTo: { feeTypes: ['commitment'] },
      priority: 1,
    });
    const result = allocateCredits(
      invoice([fee('subscription', 3000), fee('charge', 1200, 'seats'), fee('charge', 800, 'storage')]),
      [seatsOnly, subscriptionOnly, commitmentOnly],
      finalizedAt,
    );
    expect(result.takes.map((take) => [take.walletCode, take.amountCents])).toEqual([
      ['seats-only', 1200],
      ['subscription-only', 3000],
    ]);
    expect(result.prepaidCreditAmountCents).toBe(4200); // the storage fee (800) stays due
  });

  it('skips wallets of another currency, expired or terminated wallets, wallets created later and empty ones', () => {
    const wallets = [
      wallet('euros', '100', { currency: 'EUR' }),
      wallet('expired', '100', { expirationAt: '2024-03-31T12:00:00Z' }),
      expireWallet(wallet('terminated', '100', { expirationAt: '2024-03-15T00:00:00Z' }), finalizedAt),
      wallet('future', '100', { createdAt: '2024-04-02T00:00:00Z' }),
      debitWallet(wallet('empty', '1'), 100).wallet,
    ];
    expect(wallets[2]?.status).toBe('terminated');
    expect(allocateCredits(invoice([fee('charge', 1000)]), wallets, finalizedAt).takes).toEqual([]);
  });

  it('converts credits at the wallet rate: 1000 cents at $0.7 per credit is 14.28571 credits', () => {
    expect(centsToCredits(1000, '0.7', 'USD').toFixed()).toBe('14.28571');
    expect(creditsToCents('14.28571', '0.7', 'USD')).toBe(1000); // 9.999997 → 10.00
    expect(creditsToCents('3', '0.333', 'USD')).toBe(100); // 0.999 → 1.00
  });

  it('never lets the credit balance go negative through rounding: 3 credits at $0.333 spent in full', () => {
    const w = wallet('odd-rate', '3', { rate: '0.333' });
    expect([w.creditsBalance, w.balanceCents]).toEqual(['3', 100]);
    const spent = debitWallet(w, 100);
    expect([spent.creditAmount, spent.wallet.creditsBalance, spent.wallet.balanceCents]).toEqual([
      '3',
      '0',
      0,
    ]);
  });
});

describe('SPEC §6: top-ups', () => {
  it('floors credits to 5 decimals, then rounds the money half up: 17.969999… credits → 17.96999 → 1797 cents', () => {
    expect(topUpAmount('17.9699999999', '1', 'USD')).toEqual({
      ok: true,
      credits: '17.96999',
      amountCents: 1797,
    });
  });

  it('refuses a top-up whose money rounds to zero', () => {
    expect(topUpAmount('0.004', '1', 'USD')).toEqual({ ok: false, error: 'amount_rounds_to_zero' });
    expect(topUpAmount('0.005', '1', 'USD')).toEqual({ ok: true, credits: '0.005', amountCents: 1 });
    expect(topUpAmount('0.4', '1', 'JPY')).toEqual({ ok: false, error: 'amount_rounds_to_zero' });
  });

  it('refuses an amount too large to be an exact integer of cents', () => {
    expect(topUpAmount('99999999999999999999', '1000', 'USD')).toEqual({
      ok: false,
      error: 'value_is_out_of_range',
    });
    expect(topUpAmount('90071992547409.91', '1', 'USD')).toEqual({
      ok: true,
      credits: '90071992547409.91',
      amountCents: 9007199254740991,
    });
  });

  it('refuses bad credits and rates', () => {
    expect(topUpAmount('-1', '1', 'USD')).toEqual({ ok: false, error: 'invalid_credits' });
    expect(topUpAmount('ten', '1', 'USD')).toEqual({ ok: false, error: 'invalid_credits' });
    expect(topUpAmount('10', '0', 'USD')).toEqual({ ok: false, error: 'invalid_rate_amount' });
  });

  it('converts at the rate: 20 credits at $1.5 is 3000 cents; 20 credits at ¥150 is ¥3000', () => {
    expect(topUpAmount('20', '1.5', 'USD')).toEqual({ ok: true, credits: '20', amountCents: 3000 });
    expect(topUpAmount('20', '150', 'JPY')).toEqual({ ok: true, credits: '20', amountCents: 3000 });
  });
});

describe('SPEC §6: ongoing balance (usage not yet invoiced)', () => {
  const usage = (cents: number, metric = 'seats') => ({
    currency: 'USD',
    fees: [{ feeType: 'charge' as const, amountCents: cents, billableMetricCode: metric }],
  });

  it('charges usage to wallets in priority order, each up to its balance', () => {
    const first = wallet('first', '10', { priority: 1 });
    const second = wallet('second', '10', { priority: 2 });
    expect(allocateOngoingUsage(usage(1500), [second, first], finalizedAt)).toEqual([
      { walletCode: 'second', ongoingUsageBalanceCents: 500 },
      { walletCode: 'first', ongoingUsageBalanceCents: 1000 },
    ]);
  });

  it('charges what no balance covers to the last wallet, whose ongoing balance goes negative', () => {
    const first = wallet('first', '10', { priority: 1 });
    const second = wallet('second', '5', { priority: 2 });
    const shares = allocateOngoingUsage(usage(2000), [first, second], finalizedAt);
    expect(shares).toEqual([
      { walletCode: 'first', ongoingUsageBalanceCents: 1000 },
      { walletCode: 'second', ongoingUsageBalanceCents: 1000 },
    ]);
    expect(second.balanceCents - (shares[1]?.ongoingUsageBalanceCents ?? 0)).toBe(-500);
  });

  it('ignores terminated, expired and other-currency wallets, and honours applies_to', () => {
    const expired = wallet('expired', '10', { priority: 1, expirationAt: '2024-03-15T00:00:00Z' });
    const euros = wallet('euros', '10', { priority: 1, currency: 'EUR' });
    const subscriptionOnly = wallet('subs', '10', { priority: 2, appliesTo: { feeTypes: ['subscription'] } });
    const any = wallet('any', '1', { priority: 3 });
    expect(allocateOngoingUsage(usage(300), [expired, euros, subscriptionOnly, any], finalizedAt)).toEqual([
      { walletCode: 'expired', ongoingUsageBalanceCents: 0 },
      { walletCode: 'euros', ongoingUsageBalanceCents: 0 },
      { walletCode: 'subs', ongoingUsageBalanceCents: 0 },
      { walletCode: 'any', ongoingUsageBalanceCents: 300 },
    ]);
  });
});

describe('SPEC §6: credits on a stored (Lago-shaped) invoice', () => {
  it('allocates the same as on the billing invoice, and reduces the total', () => {
    const inv = invoice([fee('charge', 2581)]);
    const amounts = lagoInvoiceAmounts(inv, []);
    const wallets = [wallet('a', '10', { priority: 1 }), wallet('b', '100', { priority: 2 })];
    const direct = allocateCredits(inv, wallets, finalizedAt);
    const viaShape = allocateCredits(creditableInvoice(amounts), wallets, finalizedAt);
    expect(viaShape).toEqual(direct);
    expect(lagoAmountsWithCredits(amounts, direct.prepaidCreditAmountCents)).toMatchObject({
      prepaid_credit_amount_cents: 2581,
      total_amount_cents: 0,
      payment_status: 'succeeded',
    });
    expect(lagoAmountsWithCredits(amounts, 1000)).toMatchObject({
      total_amount_cents: 1581,
      payment_status: 'pending',
    });
    expect(() => lagoAmountsWithCredits(amounts, 2582)).toThrow(RangeError);
  });
});
