/**
 * The billing cycle of one subscription: the durable, plain-JSON state the subscription workflow
 * keeps (and carries through continue-as-new), and the steps of its story, period by period:
 *
 *   openCycle → (issueOpeningInvoice) → recordEvent* → closePeriod → [refreshDraft* → finalizeDraft]
 *   → recordEvent* → closePeriod → … → terminate
 *
 * `simulate` runs exactly these steps, so a simulation and the workflow produce the same invoices by
 * construction. Every step MUTATES the cycle it is given (a working copy owned by one caller) and
 * returns what happened; nothing here does I/O or reads a clock: instants are arguments.
 *
 * Ledger compaction follows the invoices: the ledger is rolled to the start of the oldest period
 * that may still be computed (the current one, or a draft still in its grace period), keeping one
 * more period of tombstones for late events (see seat-ledger.ts).
 */
import type { BillableMetric } from './billable-metric';
import {
  chargeWindow,
  nextPeriod,
  periodContaining,
  periodDayTable,
  periodicIssuingDate,
  previousPeriod,
  type BillingPeriod,
  type BillingSchedule,
  type BillingTime,
  type ChargeWindow,
} from './billing-period';
import { computeChargeFee, isPersistableFee } from './charge-fee';
import { computeCurrentUsage, metricFor, type CurrentUsage } from './current-usage';
import {
  buildInvoice,
  invoiceStatusFor,
  type Fee,
  type Invoice,
  type InvoiceStatus,
  type InvoicingReason,
} from './invoice';
import { addDays, localDateOf, startOfLocalDay, type LocalDate } from './local-time';
import type { Plan } from './plan';
import {
  applySeatEvent,
  emptyLedger,
  rollLedger,
  type LedgerApplyOutcome,
  type MeteredEvent,
  type SeatLedger,
} from './seat-ledger';
import {
  inAdvanceRenewalFees,
  startInAdvancePeriod,
  withInAdvanceUsage,
  type InAdvanceBilled,
} from './in-advance-cycle';
import { planSubscriptionFee } from './trial';

/** Everything that prices a subscription, as of a period. */
export interface BillingTerms {
  /** Customer's IANA zone (default UTC). */
  timeZone: string;
  /** Customer's `invoice_grace_period`, days. */
  graceDays: number;
  billingTime: BillingTime;
  /** Local date of `subscription_at`: the anniversary anchor. */
  anchorLocalDate: LocalDate;
  plan: Plan;
  /** Billable metrics the plan's charges use. */
  metrics: BillableMetric[];
}

/** What one invoice covers; a draft keeps it to recompute the invoice when late events arrive. */
export interface InvoiceScope {
  /** Stable identity of the invoice within the subscription: `{reason}:{period start local date}`. */
  key: string;
  invoicingReason: InvoicingReason;
  period: BillingPeriod;
  /** Charge window, epoch ms, both inclusive. */
  fromAt: number;
  toAt: number;
  issuingLocalDate: LocalDate;
  /** When the invoice is final: at issue without grace, else the start of the issuing date. */
  finalizesAt: number;
  /** The terms in force for that period. */
  terms: BillingTerms;
  /** Pay-in-advance plans: the period whose subscription fee this invoice bills in advance. */
  advancePeriod: BillingPeriod | null;
}

export interface BillingCycle {
  version: 1;
  terms: BillingTerms;
  /** `started_at`, epoch ms. */
  startedAt: number;
  /** The current billing period (the one containing "now" once due periods are closed). */
  period: BillingPeriod;
  ledger: SeatLedger;
  /** Invoices still in their grace period, oldest first. */
  drafts: InvoiceScope[];
  terminatedAt: number | null;
  /** Seats billed in advance in the current period (in-advance-cycle.ts); absent without such charges. */
  inAdvance?: InAdvanceBilled;
}

export interface ComputeOptions {
  /** Keep per-seat stints and days on charge fees (for `--explain`). */
  explain?: boolean;
}

export function scheduleOf(terms: BillingTerms): BillingSchedule {
  return {
    interval: terms.plan.interval,
    billingTime: terms.billingTime,
    timeZone: terms.timeZone,
    anchorLocalDate: terms.anchorLocalDate,
  };
}

/** The cycle of a subscription starting at `startedAt` (events may be recorded before or after). */
export function openCycle(
  terms: BillingTerms,
  startedAt: number,
  ledger: SeatLedger = emptyLedger(),
): BillingCycle {
  return {
    version: 1,
    terms,
    startedAt,
    period: periodContaining(scheduleOf(terms), startedAt),
    ledger,
    drafts: [],
    terminatedAt: null,
  };
}

/** Records one event (any timestamp, any arrival order). */
export function recordEvent(cycle: BillingCycle, event: MeteredEvent): LedgerApplyOutcome {
  return applySeatEvent(cycle.ledger, event);
}

/** Keys of the drafts an event at `at` may change (recurring seats carry over, so any draft ending after it). */
export function draftsAffectedBy(cycle: BillingCycle, at: number): string[] {
  return cycle.drafts
    .filter((scope) => scope.invoicingReason !== 'subscription_starting' && at <= scope.toAt)
    .map((scope) => scope.key);
}

/** Replaces the plan and metrics; they price the current period and the following ones. */
export function usePlan(cycle: BillingCycle, plan: Plan, metrics: BillableMetric[]): void {
  cycle.terms = { ...cycle.terms, plan, metrics };
}

function scopeKey(reason: InvoicingReason, period: BillingPeriod): string {
  return `${reason}:${period.startLocalDate}`;
}

/** Computes the invoice of a scope from the ledger (pure). */
export function computeInvoice(
  scope: InvoiceScope,
  ledger: SeatLedger,
  status: InvoiceStatus,
  options: ComputeOptions = {},
): Invoice {
  const { terms } = scope;
  const { plan } = terms;
  const window: ChargeWindow = { period: scope.period, fromAt: scope.fromAt, toAt: scope.toAt };
  const fees: Fee[] = [];
  if (scope.toAt < scope.fromAt) {
    // No day to bill: a subscription replaced on the first day of its window (plan-change.ts).
  } else if (scope.invoicingReason === 'subscription_starting') {
    fees.push(planSubscriptionFee(plan, window, terms.timeZone, terms.anchorLocalDate, true));
  } else {
    if (!plan.payInAdvance)
      fees.push(planSubscriptionFee(plan, window, terms.timeZone, terms.anchorLocalDate));
    const table = periodDayTable(scope.period, terms.timeZone);
    for (const charge of plan.charges) {
      if (charge.payInAdvance) continue; // billed per add (in-advance-cycle.ts), renewed below
      const metric = metricFor(terms.metrics, charge.billableMetricCode);
      const fee = computeChargeFee(
        charge,
        metric,
        ledger,
        window,
        table,
        plan.currency,
        options.explain ?? false,
      );
      if (isPersistableFee(fee)) fees.push(fee);
    }
    if (scope.invoicingReason === 'subscription_periodic')
      fees.push(...inAdvanceRenewalFees(plan, ledger, scheduleOf(terms), scope.period));
    if (scope.advancePeriod) {
      fees.push(
        planSubscriptionFee(
          plan,
          chargeWindow(scope.advancePeriod, scope.advancePeriod.startAt),
          terms.timeZone,
          terms.anchorLocalDate,
          true,
        ),
      );
    }
  }
  return buildInvoice({
    key: scope.key,
    invoicingReason: scope.invoicingReason,
    currency: plan.currency,
    periodStartAt: scope.period.startAt,
    periodEndAt: scope.period.endAt,
    fromAt: scope.fromAt,
    toAt: scope.toAt,
    issuingLocalDate: scope.issuingLocalDate,
    finalizesAt: scope.finalizesAt,
    status,
    fees,
  });
}

/**
 * Pay-in-advance plans: the invoice of the first period's subscription fee, issued at `started_at`
 * (`subscription_starting`). Null for plans in arrears. Call once, right after `openCycle`.
 */
export function issueOpeningInvoice(cycle: BillingCycle, options: ComputeOptions = {}): Invoice | null {
  const { terms } = cycle;
  if (!terms.plan.payInAdvance) return null;
  const window = chargeWindow(cycle.period, cycle.startedAt);
  const issuingLocalDate = addDays(localDateOf(cycle.startedAt, terms.timeZone), terms.graceDays);
  const scope: InvoiceScope = {
    key: scopeKey('subscription_starting', cycle.period),
    invoicingReason: 'subscription_starting',
    period: cycle.period,
    fromAt: window.fromAt,
    toAt: window.toAt,
    issuingLocalDate,
    finalizesAt: terms.graceDays > 0 ? startOfLocalDay(issuingLocalDate, terms.timeZone) : cycle.startedAt,
    terms,
    advancePeriod: null,
  };
  return issue(cycle, scope, options);
}

function issue(cycle: BillingCycle, scope: InvoiceScope, options: ComputeOptions): Invoice {
  const status = invoiceStatusFor(scope.terms.graceDays);
  const invoice = computeInvoice(scope, cycle.ledger, status, options);
  if (status === 'draft') cycle.drafts.push(scope);
  return invoice;
}

/**
 * Closes the current period (call at or after `cycle.period.endAt`): returns its
 * `subscription_periodic` invoice (a draft while the customer has a grace period) and moves the
 * cycle to the next period.
 */
export function closePeriod(cycle: BillingCycle, options: ComputeOptions = {}): Invoice {
  if (cycle.terminatedAt !== null) throw new Error('closePeriod: the subscription is terminated');
  const { terms, period } = cycle;
  const schedule = scheduleOf(terms);
  const following = nextPeriod(schedule, period);
  const window = chargeWindow(period, cycle.startedAt);
  const issuingLocalDate = periodicIssuingDate(period, terms.graceDays);
  const scope: InvoiceScope = {
    key: scopeKey('subscription_periodic', period),
    invoicingReason: 'subscription_periodic',
    period,
    fromAt: window.fromAt,
    toAt: window.toAt,
    issuingLocalDate,
    finalizesAt: terms.graceDays > 0 ? startOfLocalDay(issuingLocalDate, terms.timeZone) : period.endAt,
    terms,
    advancePeriod: terms.plan.payInAdvance ? following : null,
  };
  const invoice = issue(cycle, scope, options);
  cycle.period = following;
  startInAdvancePeriod(cycle);
  compact(cycle);
  return invoice;
}

/** Recomputes a draft (late events), or null if there is no such draft. */
export function refreshDraft(cycle: BillingCycle, key: string, options: ComputeOptions = {}): Invoice | null {
  const scope = cycle.drafts.find((draft) => draft.key === key);
  return scope ? computeInvoice(scope, cycle.ledger, 'draft', options) : null;
}

/**
 * Finalizes a draft (at `scope.finalizesAt`, on request, or at termination): returns the final
 * invoice, before credits (see credit-allocation.ts), and forgets the draft. Null if there is no
 * such draft.
 */
export function finalizeDraft(
  cycle: BillingCycle,
  key: string,
  options: ComputeOptions = {},
): Invoice | null {
  const index = cycle.drafts.findIndex((draft) => draft.key === key);
  if (index === -1) return null;
  const scope = cycle.drafts[index] as InvoiceScope;
  const invoice = computeInvoice(scope, cycle.ledger, 'finalized', options);
  cycle.drafts.splice(index, 1);
  compact(cycle);
  return invoice;
}

/** Drafts whose grace period is over at `at`, oldest first. */
export function draftsDue(cycle: BillingCycle, at: number): string[] {
  return cycle.drafts.filter((scope) => scope.finalizesAt <= at).map((scope) => scope.key);
}

export type TerminationError =
  'already_terminated' | 'before_start' | 'before_current_period' | 'after_current_period';

/**
 * Terminates the subscription at `terminatedAt`, inside the current period (close due periods
 * first): returns the `subscription_terminating` invoice for `[F, terminated_at]` (the termination
 * day counts, D unchanged), final at once. Drafts still open should be finalized by the caller
 * now, oldest first, before this invoice (a terminated subscription has no grace). `billedUntil`
 * ends the charge window earlier (an upgrade bills the old plan up to the day before the switch).
 */
export function terminate(
  cycle: BillingCycle,
  terminatedAt: number,
  options: ComputeOptions = {},
  billedUntil: number = terminatedAt,
): { ok: true; invoice: Invoice } | { ok: false; error: TerminationError } {
  if (cycle.terminatedAt !== null) return { ok: false, error: 'already_terminated' };
  if (terminatedAt < cycle.startedAt) return { ok: false, error: 'before_start' };
  if (terminatedAt < cycle.period.startAt) return { ok: false, error: 'before_current_period' };
  if (terminatedAt >= cycle.period.endAt) return { ok: false, error: 'after_current_period' };
  const { terms, period } = cycle;
  const window = chargeWindow(period, cycle.startedAt, Math.min(terminatedAt, billedUntil));
  const scope: InvoiceScope = {
    key: scopeKey('subscription_terminating', period),
    invoicingReason: 'subscription_terminating',
    period,
    fromAt: window.fromAt,
    toAt: window.toAt,
    issuingLocalDate: localDateOf(terminatedAt, terms.timeZone),
    finalizesAt: terminatedAt,
    terms,
    advancePeriod: null,
  };
  const invoice = computeInvoice(scope, cycle.ledger, 'finalized', options);
  cycle.terminatedAt = terminatedAt;
  return { ok: true, invoice };
}

/** Current usage of the current period, or null once terminated. */
export function currentUsage(cycle: BillingCycle, options: ComputeOptions = {}): CurrentUsage | null {
  if (cycle.terminatedAt !== null) return null;
  const { terms } = cycle;
  const usage = computeCurrentUsage(
    terms.plan,
    terms.metrics,
    cycle.ledger,
    cycle.period,
    cycle.startedAt,
    terms.timeZone,
    options.explain ?? false,
  );
  return withInAdvanceUsage(usage, cycle);
}

/** Rolls the ledger to the start of the oldest period that may still be computed. */
function compact(cycle: BillingCycle): void {
  let oldest = cycle.period;
  for (const scope of cycle.drafts) {
    if (scope.invoicingReason !== 'subscription_starting' && scope.period.startAt < oldest.startAt) {
      oldest = scope.period;
    }
  }
  const horizon = oldest.startAt;
  if (cycle.ledger.compactedBefore !== null && horizon <= cycle.ledger.compactedBefore) return;
  const forgetBefore = previousPeriod(scheduleOf(cycle.terms), oldest).startAt;
  rollLedger(cycle.ledger, horizon, forgetBefore);
}
