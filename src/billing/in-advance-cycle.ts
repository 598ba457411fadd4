/**
 * Pay-in-advance seat charges in the billing cycle (SPEC section 8): the steps the workflow and
 * `prorata simulate` run, over the pure rules of in-advance-seats.ts.
 *
 * - `issueInAdvanceInvoices` (after events are received): one `in_advance_charge` invoice per seat
 *   whose first effective add of the current period is not billed yet, with one fee, final at once
 *   (a seat billed in advance is never re-billed nor refunded, so a grace period has nothing to
 *   change). Invoice key `in_advance_charge:{period start}:{charge}:{seat}`: one per seat and period.
 * - `inAdvanceRenewalFees` (on the periodic invoice that closes a period): the seats active when
 *   the next period starts, in full.
 * - `startInAdvancePeriod` (at the close): the next period's billed set starts with those seats.
 * - `withInAdvanceUsage` (current usage): such a charge shows what was billed in the period, so it
 *   never drops after a removal.
 *
 * The billed set lives in the cycle (`cycle.inAdvance`, plain JSON carried through continue-as-new).
 * First period: there was no renewal, so seats active at `started_at` are billed as adds then (for
 * the whole period when it starts at the period start). A late event stamped before an add already
 * billed changes nothing (at most once per period wins, as in Lago).
 */
import type { BillingCycle } from './billing-cycle';
import {
  chargeWindow,
  nextPeriod,
  periodDayTable,
  type BillingPeriod,
  type BillingSchedule,
} from './billing-period';
import type { ChargeFee } from './charge-fee';
import type { CurrentUsage } from './current-usage';
import { inAdvanceRenewal, inAdvanceSeatFees, type InAdvanceRenewal } from './in-advance-seats';
import { buildInvoice, type Invoice } from './invoice';
import { localDateOf } from './local-time';
import { Dec, formatQuantity, minorToAmount } from './money';
import type { Charge, Plan } from './plan';
import { metricLedgerOf, type SeatLedger } from './seat-ledger';

/** What was billed in advance for one charge in the current period. */
export interface InAdvanceChargeBilled {
  /** Seat keys billed (renewal and adds), in billing order. */
  seats: string[];
  /** Σ prorated units billed (a renewed seat counts 1), decimal string. */
  proratedUnits: string;
  amountCents: number;
}

/** The cycle's billed set: for the period starting at `periodStartAt` only. */
export interface InAdvanceBilled {
  periodStartAt: number;
  /** True when the period was opened by a renewal (every period but the first). */
  renewed: boolean;
  charges: Record<string, InAdvanceChargeBilled>;
}

export function inAdvanceCharges(plan: Plan): Charge[] {
  return plan.charges.filter((charge) => charge.payInAdvance === true);
}

export function hasInAdvanceCharges(plan: Plan): boolean {
  return plan.charges.some((charge) => charge.payInAdvance === true);
}

function priceOf(charge: Charge): string {
  const amount = (charge.properties as { amount?: string }).amount;
  if (charge.chargeModel !== 'standard' || typeof amount !== 'string')
    throw new Error(`pay-in-advance charge ${charge.code} must be a standard charge`);
  return amount;
}

function baseFee(charge: Charge, period: BillingPeriod, currency: string) {
  return {
    feeType: 'charge' as const,
    chargeCode: charge.code,
    chargeLagoId: charge.lagoId,
    chargeModel: charge.chargeModel,
    invoiceDisplayName: charge.invoiceDisplayName,
    billableMetricCode: charge.billableMetricCode,
    toAt: period.endAt - 1,
    durationDays: period.durationDays,
    currency,
    seats: null,
    payInAdvance: true,
  };
}

interface ChargeRenewal {
  charge: Charge;
  renewal: InAdvanceRenewal;
}

/** Each pay-in-advance charge's renewal of `period` (seats active at its start, in full). */
function renewalsOf(
  plan: Plan,
  ledger: SeatLedger,
  period: BillingPeriod,
  timeZone: string,
): ChargeRenewal[] {
  const table = periodDayTable(period, timeZone);
  const window = chargeWindow(period, period.startAt);
  return inAdvanceCharges(plan).map((charge) => ({
    charge,
    renewal: inAdvanceRenewal(
      metricLedgerOf(ledger, charge.billableMetricCode),
      window,
      table,
      priceOf(charge),
      plan.currency,
    ),
  }));
}

/**
 * The renewal fees of the period after `period`, for the periodic invoice closing `period`. Charges
 * with no seat then give no fee.
 */
export function inAdvanceRenewalFees(
  plan: Plan,
  ledger: SeatLedger,
  schedule: BillingSchedule,
  period: BillingPeriod,
): ChargeFee[] {
  const following = nextPeriod(schedule, period);
  return renewalsOf(plan, ledger, following, schedule.timeZone)
    .filter(({ renewal }) => renewal.seatKeys.length > 0)
    .map(({ charge, renewal }) => ({
      ...baseFee(charge, following, plan.currency),
      fromAt: following.startAt,
      units: renewal.units,
      proratedUnits: null,
      seatDays: null,
      seatsEverActive: renewal.seatKeys.length,
      eventsCount: 0,
      preciseAmount: renewal.preciseAmount,
      amountCents: renewal.amountCents,
    }));
}

/** At a period close, once `cycle.period` moved on: the new period's billed set is its renewal. */
export function startInAdvancePeriod(cycle: BillingCycle): void {
  const { plan, timeZone } = cycle.terms;
  if (!hasInAdvanceCharges(plan)) return;
  const charges: Record<string, InAdvanceChargeBilled> = {};
  for (const { charge, renewal } of renewalsOf(plan, cycle.ledger, cycle.period, timeZone)) {
    charges[charge.code] = {
      seats: renewal.seatKeys,
      proratedUnits: renewal.units,
      amountCents: renewal.amountCents,
    };
  }
  cycle.inAdvance = { periodStartAt: cycle.period.startAt, renewed: true, charges };
}

function billedOf(cycle: BillingCycle): InAdvanceBilled {
  if (!cycle.inAdvance || cycle.inAdvance.periodStartAt !== cycle.period.startAt) {
    cycle.inAdvance = { periodStartAt: cycle.period.startAt, renewed: false, charges: {} };
  }
  return cycle.inAdvance;
}

/**
 * The adds still to bill in the current period (mutates the billed set): one finalized
 * `in_advance_charge` invoice each, issued at `at`. Empty once terminated or without such charges.
 */
export function issueInAdvanceInvoices(cycle: BillingCycle, at: number): Invoice[] {
  const { terms, period } = cycle;
  const { plan } = terms;
  if (cycle.terminatedAt !== null || !hasInAdvanceCharges(plan)) return [];
  const billed = billedOf(cycle);
  const window = chargeWindow(period, cycle.startedAt);
  const table = periodDayTable(period, terms.timeZone);
  const invoices: Invoice[] = [];
  for (const charge of inAdvanceCharges(plan)) {
    const price = priceOf(charge);
    const metric = metricLedgerOf(cycle.ledger, charge.billableMetricCode);
    const state = (billed.charges[charge.code] ??= { seats: [], proratedUnits: '0', amountCents: 0 });
    const already = new Set(state.seats);
    const fees = inAdvanceSeatFees(metric, window, table, price, plan.currency, already, billed.renewed);
    for (const fee of fees) {
      state.seats.push(fee.seatKey);
      state.proratedUnits = formatQuantity(new Dec(state.proratedUnits).plus(fee.proratedUnits));
      state.amountCents += fee.amountCents;
      const chargeFee: ChargeFee = {
        ...baseFee(charge, period, plan.currency),
        fromAt: fee.addAt,
        units: '1.0',
        proratedUnits: fee.proratedUnits,
        seatDays: fee.days,
        seatsEverActive: 1,
        eventsCount: 1,
        preciseAmount: fee.preciseAmount,
        amountCents: fee.amountCents,
      };
      invoices.push(
        buildInvoice({
          key: `in_advance_charge:${period.startLocalDate}:${charge.code}:${fee.seatKey}`,
          invoicingReason: 'in_advance_charge',
          status: 'finalized',
          currency: plan.currency,
          periodStartAt: period.startAt,
          periodEndAt: period.endAt,
          fromAt: fee.addAt,
          toAt: window.toAt,
          issuingLocalDate: localDateOf(at, terms.timeZone),
          finalizesAt: at,
          fees: [chargeFee],
        }),
      );
    }
  }
  return invoices;
}

/**
 * Current usage with each pay-in-advance charge showing what was billed in the period: `units` =
 * seats billed, `prorated_units` = their prorated units, the amount billed (never drops after a
 * removal). Totals follow.
 */
export function withInAdvanceUsage(usage: CurrentUsage, cycle: BillingCycle): CurrentUsage {
  if (!hasInAdvanceCharges(cycle.terms.plan)) return usage;
  const billed =
    cycle.inAdvance && cycle.inAdvance.periodStartAt === cycle.period.startAt ? cycle.inAdvance.charges : {};
  const charges = usage.charges.map((fee): ChargeFee => {
    const charge = cycle.terms.plan.charges.find((c) => c.code === fee.chargeCode);
    if (!charge?.payInAdvance) return fee;
    const state = billed[fee.chargeCode];
    return {
      ...fee,
      units: formatQuantity(new Dec(state?.seats.length ?? 0)),
      proratedUnits:
        state?.proratedUnits === undefined ? '0.0' : formatQuantity(new Dec(state.proratedUnits)),
      preciseAmount: minorToAmount(state?.amountCents ?? 0, usage.currency).toFixed(),
      seatDays: null, // billed per add, not by the seat-days of the period (stints stay, for --explain)
      amountCents: state?.amountCents ?? 0,
      payInAdvance: true,
    };
  });
  const amountCents = charges.reduce((sum, fee) => sum + fee.amountCents, 0);
  return { ...usage, charges, amountCents, totalAmountCents: amountCents + usage.taxesAmountCents };
}
