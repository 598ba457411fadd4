/**
 * The subscription workflow's state and rules (the workflow function only orchestrates): a billing
 * cycle from src/billing, the exactly-once window of transaction ids, and what must still be written
 * by activities. Deterministic; its JSON form (`toInput`) is the continue-as-new input.
 */
import {
  closePeriod,
  currentUsage,
  draftsAffectedBy,
  draftsDue,
  finalizeDraft,
  openCycle,
  recordEvent,
  refreshDraft,
  terminate,
  usePlan,
  type BillingCycle,
  type BillingTerms,
} from '../src/billing/billing-cycle';
import { meteredEventOf } from '../src/billing/billable-metric';
import { hasInAdvanceCharges, issueInAdvanceInvoices } from '../src/billing/in-advance-cycle';
import { trialEndOf } from '../src/billing/trial';
import { isoSeconds } from '../src/billing/instant';
import type { Invoice } from '../src/billing/invoice';
import type { CreditableFee } from '../src/billing/credit-allocation';
import { lagoCustomerUsage, lagoInvoiceAmounts } from '../src/billing/lago-shapes';
import type {
  ComputedInvoice,
  CurrentUsageView,
  SeatEventMessage,
  SeatLedgerView,
  SubscriptionView,
} from '../src/contracts/subscription-workflow';
import type { PlanWithMetricsSnapshot } from '../src/contracts/subscription-input';
import type { PlanChangeRequest } from '../src/contracts/subscription-workflow';
import { downgradeCycleAtPeriodEnd, upgradeCycle } from '../src/billing/plan-change';

/** Transaction ids remembered across continue-as-new (re-deliveries come within minutes). */
export const SEEN_WINDOW = 5_000;

export interface SubscriptionIdentity {
  organizationId: string;
  /** lago_id */
  id: string;
  externalId: string;
  customerId: string;
  externalCustomerId: string;
  planCode: string;
  /** Lago's `started_at` when the cycle starts earlier (an upgrade bills from the switch's local midnight). */
  startedAt?: number;
}

/** A subscription of this external id that the workflow billed before the current one (Web UI memo). */
export interface PlanChainEntry {
  lago_id: string;
  plan_code: string;
  started_at: string;
  terminated_at: string;
}

/** A downgrade waiting for the end of the current period. */
export interface PendingPlanChange {
  subscription: SubscriptionIdentity;
  plan: PlanWithMetricsSnapshot;
  endingAt: number | null;
}

export interface SubscriptionWorkflowInput {
  subscription: SubscriptionIdentity;
  status: 'pending' | 'active';
  /** `ending_at`, epoch ms, or null. */
  endingAt: number | null;
  /** Terms at creation; the cycle is opened from them at `startedAt`. */
  terms: BillingTerms;
  startedAt: number;
  /** Present after continue-as-new. */
  cycle?: BillingCycle;
  seenTransactionIds?: string[];
  nextSeq?: number;
  bootstrapped?: boolean;
  /** Events signalled by product services, still to be recorded in MongoDB. */
  unrecorded?: SeatEventMessage[];
  planChanged?: boolean;
  eventsApplied?: number;
  /** True once the trial's end was handled (`trial_ended_at` projected, webhook sent). */
  trialEnded?: boolean;
  /** A pending downgrade (docs/plan-changes.md). */
  pendingPlanChange?: PendingPlanChange;
  /** The subscriptions of this external id billed before the current one, oldest first. */
  planChain?: PlanChainEntry[];
  /** The run before reported this state's usage (its period close did, through settleInvoice). */
  usageReported?: boolean;
}

export class SubscriptionState {
  private readonly seen: Set<string>;
  private readonly seenOrder: string[];
  private readonly dirtyDrafts = new Set<string>();
  /** Events arrived since pay-in-advance seats were last billed (each run checks once at start). */
  private inAdvanceStale: boolean;
  pendingPlanChange: PendingPlanChange | null = null;
  planChain: PlanChainEntry[] = [];
  /**
   * The last current usage computed without pending events, and what it was computed from (a
   * query is answered from it while none of those changed: 10,000 seats cost milliseconds to
   * price). Never part of the state (`toInput`), never read by the workflow's decisions.
   */
  private usageMemo: { terms: BillingTerms; key: string; view: CurrentUsageView | null } | null = null;

  private constructor(
    readonly subscription: SubscriptionIdentity,
    public status: 'pending' | 'active' | 'terminated' | 'canceled',
    private endingAtMs: number | null,
    readonly cycle: BillingCycle,
    seen: string[],
    private nextSeq: number,
    public bootstrapped: boolean,
    private unrecorded: SeatEventMessage[],
    private planChanged: boolean,
    private eventsApplied: number,
    private trialEnded: boolean,
  ) {
    this.seenOrder = [...seen];
    this.seen = new Set(seen);
    this.inAdvanceStale = hasInAdvanceCharges(cycle.terms.plan);
  }

  static fromInput(input: SubscriptionWorkflowInput): SubscriptionState {
    const state = new SubscriptionState(
      input.subscription,
      input.status,
      input.endingAt,
      input.cycle ?? openCycle(input.terms, input.startedAt),
      input.seenTransactionIds ?? [],
      input.nextSeq ?? 1,
      input.bootstrapped ?? false,
      input.unrecorded ?? [],
      input.planChanged ?? false,
      input.eventsApplied ?? 0,
      input.trialEnded ?? false,
    );
    state.pendingPlanChange = input.pendingPlanChange ?? null;
    state.planChain = input.planChain ?? [];
    return state;
  }

  toInput(): SubscriptionWorkflowInput {
    return {
      subscription: this.subscription,
      status: this.status === 'pending' ? 'pending' : 'active',
      endingAt: this.endingAtMs,
      terms: this.cycle.terms,
      startedAt: this.cycle.startedAt,
      cycle: this.cycle,
      seenTransactionIds: this.seenOrder.slice(-SEEN_WINDOW),
      nextSeq: this.nextSeq,
      bootstrapped: this.bootstrapped,
      unrecorded: this.unrecorded,
      planChanged: this.planChanged,
      eventsApplied: this.eventsApplied,
      trialEnded: this.trialEnded,
      ...(this.pendingPlanChange ? { pendingPlanChange: this.pendingPlanChange } : {}),
      ...(this.planChain.length > 0 ? { planChain: this.planChain } : {}),
    };
  }

  // --- events -------------------------------------------------------------------------------

  /** Applies a batch exactly once per transaction id, in any order (signal handler: synchronous). */
  receive(batch: SeatEventMessage[]): void {
    for (const message of batch) {
      if (this.seen.has(message.transaction_id)) continue;
      this.seen.add(message.transaction_id);
      this.seenOrder.push(message.transaction_id);
      if (this.seenOrder.length > 2 * SEEN_WINDOW) {
        for (const old of this.seenOrder.splice(0, this.seenOrder.length - SEEN_WINDOW))
          this.seen.delete(old);
      }
      if (!message.recorded) this.unrecorded.push(message);
      const metered = meteredEventOf(this.cycle.terms.metrics, {
        code: message.code,
        at: message.timestamp,
        seq: this.nextSeq++,
        properties: message.properties,
      });
      if (!metered.ok) continue; // unknown metric or missing field: stored, never billed
      recordEvent(this.cycle, metered.event);
      this.eventsApplied++;
      this.inAdvanceStale = hasInAdvanceCharges(this.cycle.terms.plan);
      for (const key of draftsAffectedBy(this.cycle, message.timestamp)) this.dirtyDrafts.add(key);
    }
  }

  hasUnrecordedEvents(): boolean {
    return this.unrecorded.length > 0;
  }

  /** The oldest unrecorded events, at most `max` (one activity's input stays far below 2 MiB). */
  takeUnrecordedEvents(max = Infinity): {
    organizationId: string;
    externalSubscriptionId: string;
    events: SeatEventMessage[];
  } {
    const events = this.unrecorded.slice(0, max);
    this.unrecorded = this.unrecorded.slice(events.length);
    return {
      organizationId: this.subscription.organizationId,
      externalSubscriptionId: this.subscription.externalId,
      events,
    };
  }

  eventSource(): { organizationId: string; externalSubscriptionId: string; fieldNames: string[] } {
    const fieldNames = this.cycle.terms.metrics
      .map((m) => m.fieldName)
      .filter((f): f is string => f !== null);
    return {
      organizationId: this.subscription.organizationId,
      externalSubscriptionId: this.subscription.externalId,
      fieldNames,
    };
  }

  markBootstrapped(): void {
    this.bootstrapped = true;
  }

  // --- plan ---------------------------------------------------------------------------------

  markPlanChanged(): void {
    this.planChanged = true;
  }

  planReloadDue(): boolean {
    return this.planChanged;
  }

  planSource(): { organizationId: string; planCode: string } {
    return { organizationId: this.subscription.organizationId, planCode: this.subscription.planCode };
  }

  /** The reloaded plan prices the next period on (call right before closing the current one). */
  usePlanFromNextPeriod(snapshot: PlanWithMetricsSnapshot | null): void {
    this.planChanged = false;
    if (snapshot) this.pendingPlan = snapshot;
  }
  private pendingPlan: PlanWithMetricsSnapshot | null = null;

  // --- invoices -----------------------------------------------------------------------------

  private computed(invoice: Invoice): ComputedInvoice {
    const s = this.subscription;
    return {
      id: `${s.id}:${invoice.key}`,
      organization_id: s.organizationId,
      customer_id: s.customerId,
      external_customer_id: s.externalCustomerId,
      subscription_id: s.id,
      external_subscription_id: s.externalId,
      ...lagoInvoiceAmounts(invoice, this.cycle.terms.metrics),
    };
  }

  private keyOf(invoiceId: string): string | null {
    const prefix = `${this.subscription.id}:`;
    return invoiceId.startsWith(prefix) ? invoiceId.slice(prefix.length) : null;
  }

  hasDraft(invoiceId: string): boolean {
    const key = this.keyOf(invoiceId);
    return key !== null && this.cycle.drafts.some((d) => d.key === key);
  }

  draftIds(): string[] {
    return this.cycle.drafts.map((d) => `${this.subscription.id}:${d.key}`);
  }

  hasDirtyDrafts(): boolean {
    return this.dirtyDrafts.size > 0;
  }

  /** Drafts changed by late events, recomputed (the caller stores them). */
  takeDirtyDrafts(): ComputedInvoice[] {
    const out: ComputedInvoice[] = [];
    for (const key of this.dirtyDrafts) {
      const invoice = refreshDraft(this.cycle, key);
      if (invoice) out.push(this.computed(invoice));
    }
    this.dirtyDrafts.clear();
    return out;
  }

  draftsDue(now: number): string[] {
    return draftsDue(this.cycle, now).map((key) => `${this.subscription.id}:${key}`);
  }

  finalizeDraft(invoiceId: string): ComputedInvoice | null {
    const key = this.keyOf(invoiceId);
    const invoice = key === null ? null : finalizeDraft(this.cycle, key);
    if (key !== null) this.dirtyDrafts.delete(key);
    return invoice ? this.computed(invoice) : null;
  }

  // --- periods and lifecycle ----------------------------------------------------------------

  startsAt(): number {
    return this.cycle.startedAt;
  }

  activate(): void {
    this.status = 'active';
    this.inAdvanceStale = hasInAdvanceCharges(this.cycle.terms.plan);
  }

  // --- pay in advance and trials (SPEC section 8) ------------------------------------------

  /** Seats may be due an `in_advance_charge` invoice (events arrived, or a new run or period). */
  inAdvanceDue(): boolean {
    return this.inAdvanceStale && this.status === 'active';
  }

  /** The `in_advance_charge` invoices of seats added and not yet billed in the period, issued at `now`. */
  takeInAdvanceInvoices(now: number): ComputedInvoice[] {
    this.inAdvanceStale = false;
    return issueInAdvanceInvoices(this.cycle, now).map((invoice) => this.computed(invoice));
  }

  /** Lago's `trial_end_datetime`, or null without trial. */
  private trialEndAt(): number | null {
    return trialEndOf(this.cycle.terms.plan, this.cycle.startedAt, this.cycle.terms.timeZone);
  }

  /** True when the trial has ended at `now` and that was not handled yet. */
  trialEndDue(now: number): boolean {
    const end = this.trialEndAt();
    return this.status === 'active' && !this.trialEnded && end !== null && now >= end;
  }

  markTrialEnded(): void {
    this.trialEnded = true;
  }

  periodEndAt(): number {
    return this.cycle.period.endAt;
  }

  endingAt(): number | null {
    return this.endingAtMs;
  }

  setEndingAt(at: number | null): void {
    this.endingAtMs = at;
  }

  /** Closes the current period: its invoice, then the next period (with a reloaded plan, if any). */
  closePeriod(): ComputedInvoice {
    const invoice = this.computed(closePeriod(this.cycle));
    if (this.pendingPlan) {
      usePlan(this.cycle, this.pendingPlan.plan, this.pendingPlan.metrics);
      this.subscription.planCode = this.pendingPlan.plan.code;
      this.pendingPlan = null;
    }
    return invoice;
  }

  /** Throws (in an update validator) when a termination instant cannot be billed. */
  validateTermination(at: number): void {
    if (!Number.isSafeInteger(at)) throw new Error('terminated_at is not an instant');
    if (at < this.cycle.startedAt && this.status !== 'pending')
      throw new Error('terminated_at is before the subscription started');
    if (at < this.cycle.period.startAt && this.status === 'active')
      throw new Error('terminated_at is before the current billing period');
  }

  /**
   * Terminates at `at` (closing any period that ended before it first, with `onClosed` for each
   * invoice): the final invoice, or null for a pending subscription (canceled, nothing to bill).
   */
  terminate(at: number, onClosed: (invoice: ComputedInvoice) => void): ComputedInvoice | null {
    if (this.status === 'pending' && at < this.cycle.startedAt) {
      this.status = 'canceled';
      return null;
    }
    while (at >= this.cycle.period.endAt) onClosed(this.closePeriod());
    const result = terminate(this.cycle, Math.max(at, this.cycle.period.startAt, this.cycle.startedAt));
    this.status = 'terminated';
    return result.ok ? this.computed(result.invoice) : null;
  }

  terminatedAt(): number | null {
    return this.cycle.terminatedAt;
  }

  /** The next instant the workflow must wake up at without a message. */
  nextDeadline(): number {
    const candidates = [this.status === 'pending' ? this.cycle.startedAt : this.cycle.period.endAt];
    for (const d of this.cycle.drafts) candidates.push(d.finalizesAt);
    if (this.endingAtMs !== null) candidates.push(this.endingAtMs);
    const trialEnd = this.trialEnded ? null : this.trialEndAt();
    if (trialEnd !== null && this.status === 'active') candidates.push(trialEnd);
    return Math.min(...candidates);
  }

  // --- plan changes (docs/plan-changes.md) -------------------------------------------------

  /** Throws (in an update validator) when this plan change cannot be made now. */
  validatePlanChange(request: PlanChangeRequest): void {
    if (this.status !== 'active') throw new Error(`the subscription is ${this.status}`);
    if (request.subscription_id === this.subscription.id) throw new Error('the same subscription');
    if (request.at !== undefined) this.validateTermination(request.at);
  }

  /** The subscription that follows this one (same external id, customer, events, exactly-once window). */
  private successor(change: PendingPlanChange, cycle: BillingCycle, startedAt: number): SubscriptionState {
    const next = new SubscriptionState(
      change.subscription,
      'active',
      change.endingAt,
      cycle,
      this.seenOrder,
      this.nextSeq,
      this.bootstrapped,
      this.unrecorded,
      false,
      this.eventsApplied,
      this.trialEnded, // a plan change does not start a trial again
    );
    this.unrecorded = [];
    next.planChain = [
      ...this.planChain,
      {
        lago_id: this.subscription.id,
        plan_code: this.subscription.planCode,
        started_at: isoSeconds(this.subscription.startedAt ?? this.cycle.startedAt),
        terminated_at: isoSeconds(startedAt),
      },
    ];
    if (cycle.startedAt !== startedAt) next.subscription.startedAt = startedAt;
    return next;
  }

  /** What a plan change request becomes once it is the pending (or immediate) change. */
  static pendingChangeOf(state: SubscriptionState, request: PlanChangeRequest): PendingPlanChange {
    return {
      subscription: {
        ...state.subscription,
        id: request.subscription_id,
        planCode: request.plan.plan.code,
        startedAt: undefined,
      },
      plan: request.plan,
      endingAt: request.ending_at,
    };
  }

  /**
   * An upgrade at `at`: periods that ended before it are closed first (`onClosed`), then this
   * subscription is terminated with its final invoice (days before the switch's local day) and the
   * returned state bills the new plan from that day. Open drafts are the caller's to finalize now.
   */
  upgrade(
    at: number,
    change: PendingPlanChange,
    onClosed: (invoice: ComputedInvoice) => void,
  ): { final: ComputedInvoice | null; next: SubscriptionState } {
    while (at >= this.cycle.period.endAt) onClosed(this.closePeriod());
    const result = upgradeCycle(this.cycle, at, change.plan.plan, change.plan.metrics);
    if (!result.ok) throw new Error(`upgrade refused: ${result.error}`);
    this.status = 'terminated';
    this.pendingPlanChange = null;
    return { final: this.computed(result.invoice), next: this.successor(change, result.next, at) };
  }

  /**
   * The pending downgrade at the end of the current period: this subscription's last period is
   * closed (its whole-period invoice; a draft to finalize now, a terminated subscription has no
   * grace) and the returned state bills the new plan from the period end.
   */
  switchToPendingPlan(): { invoice: ComputedInvoice; next: SubscriptionState } {
    const change = this.pendingPlanChange as PendingPlanChange;
    const switched = downgradeCycleAtPeriodEnd(this.cycle, change.plan.plan, change.plan.metrics);
    this.status = 'terminated';
    this.pendingPlanChange = null;
    const invoice = this.computed(switched.invoice);
    return { invoice, next: this.successor(change, switched.next, switched.next.startedAt) };
  }

  /** A termination cancels the downgrade waiting for the period end: its subscription's projection. */
  cancelPendingPlanChange(asOf: number) {
    const pending = this.pendingPlanChange;
    if (!pending) return null;
    this.pendingPlanChange = null;
    return {
      subscriptionId: pending.subscription.id,
      status: 'canceled' as const,
      startedAt: null,
      terminatedAt: null,
      canceledAt: asOf,
      periodStartAt: null,
      periodEndAt: null,
      activeUnits: {},
      asOf,
    };
  }

  // --- wallets ------------------------------------------------------------------------------

  /**
   * Usage not yet invoiced, for the customer's ongoing wallet balances (SPEC section 6): the current
   * period's charges plus the drafts still in their grace period (Lago counts both). Empty once the
   * subscription has ended.
   */
  ongoingUsageReport(asOf: number) {
    const s = this.subscription;
    const fees: CreditableFee[] = [];
    if (this.status === 'active') {
      for (const fee of currentUsage(this.cycle)?.charges ?? []) {
        if (fee.payInAdvance) continue; // already invoiced when each seat was added
        fees.push({
          feeType: 'charge',
          amountCents: fee.amountCents,
          billableMetricCode: fee.billableMetricCode,
        });
      }
    }
    for (const draft of this.cycle.drafts) {
      for (const fee of refreshDraft(this.cycle, draft.key)?.fees ?? []) {
        fees.push({
          feeType: fee.feeType,
          amountCents: fee.amountCents,
          billableMetricCode: fee.feeType === 'charge' ? fee.billableMetricCode : null,
        });
      }
    }
    return {
      subscription_id: s.id,
      organization_id: s.organizationId,
      customer_id: s.customerId,
      currency: this.cycle.terms.plan.currency,
      fees: fees.filter((fee) => fee.amountCents !== 0),
      as_of: asOf,
    };
  }

  // --- views (queries: synchronous, no mutation) --------------------------------------------

  /**
   * Current usage; with `pending` (events accepted by the API whose delivery is still in flight),
   * as if those not yet received had been: applied to a copy of the ledger, this state untouched.
   */
  currentUsage(pending: readonly SeatEventMessage[] = []): CurrentUsageView | null {
    if (this.status !== 'active') return null;
    if (pending.length === 0) {
      // Everything the usage depends on that changes: events applied (each moves nextSeq), the
      // period, the plan (replaced, never edited), drafts, termination, and the seats billed in
      // advance (issued after the event that added them was applied).
      const c = this.cycle;
      const billed = c.inAdvance ? JSON.stringify(c.inAdvance) : '';
      const key = `${this.nextSeq}:${this.eventsApplied}:${c.period.startAt}:${c.period.endAt}:${c.drafts.length}:${c.terminatedAt}:${c.startedAt}:${billed}`;
      if (this.usageMemo?.key === key && this.usageMemo.terms === c.terms) return this.usageMemo.view;
      const usage = currentUsage(c);
      const view = usage ? lagoCustomerUsage(usage, c.terms.metrics) : null;
      this.usageMemo = { terms: c.terms, key, view };
      return view;
    }
    const taken = new Set<string>();
    const unseen = pending.filter((m) => {
      if (this.seen.has(m.transaction_id) || taken.has(m.transaction_id)) return false;
      taken.add(m.transaction_id);
      return true;
    });
    let cycle = this.cycle;
    if (unseen.length > 0) {
      cycle = {
        ...this.cycle,
        ledger: JSON.parse(JSON.stringify(this.cycle.ledger)) as BillingCycle['ledger'],
      };
      let seq = this.nextSeq;
      for (const message of unseen) {
        const metered = meteredEventOf(cycle.terms.metrics, {
          code: message.code,
          at: message.timestamp,
          seq: seq++,
          properties: message.properties,
        });
        if (metered.ok) recordEvent(cycle, metered.event);
      }
    }
    const usage = currentUsage(cycle);
    return usage ? lagoCustomerUsage(usage, cycle.terms.metrics) : null;
  }

  ledgerView(): SeatLedgerView {
    const usage = currentUsage(this.cycle, { explain: true });
    const period = this.cycle.period;
    return {
      from_datetime: isoSeconds(usage?.fromAt ?? Math.max(period.startAt, this.cycle.startedAt)),
      to_datetime: isoSeconds(usage?.toAt ?? period.endAt - 1),
      charges_duration: period.durationDays,
      metrics: (usage?.charges ?? []).map((fee) => ({
        code: fee.billableMetricCode,
        seats: (fee.seats ?? []).map((s) => ({
          key: s.seatKey,
          active_at_end: s.activeAtEnd,
          days: s.days,
          stints: s.stints.map((st) => ({ from: st.fromLocalDate, to: st.toLocalDate, days: st.days })),
        })),
      })),
    };
  }

  view(): SubscriptionView {
    const period = this.cycle.period;
    return {
      external_id: this.subscription.externalId,
      status: this.status,
      current_billing_period_started_at: isoSeconds(Math.max(period.startAt, this.cycle.startedAt)),
      current_billing_period_ending_at: isoSeconds(period.endAt - 1),
      draft_invoice_ids: this.draftIds(),
      events_applied: this.eventsApplied,
    };
  }

  /** Active units per metric code now (seats active at the end of the period). */
  activeUnits(): Record<string, string> {
    const out: Record<string, string> = {};
    const usage = this.status === 'active' ? currentUsage(this.cycle) : null;
    for (const fee of usage?.charges ?? []) out[fee.billableMetricCode] = fee.units;
    return out;
  }

  projection(asOf: number) {
    const period = this.cycle.period;
    return {
      subscriptionId: this.subscription.id,
      status: this.status,
      startedAt: this.status === 'pending' ? null : (this.subscription.startedAt ?? this.cycle.startedAt),
      terminatedAt: this.status === 'terminated' ? this.cycle.terminatedAt : null,
      canceledAt: this.status === 'canceled' ? asOf : null,
      periodStartAt: this.status === 'active' ? Math.max(period.startAt, this.cycle.startedAt) : null,
      periodEndAt: this.status === 'active' ? period.endAt : null,
      trialEndedAt: this.trialEnded ? this.trialEndAt() : null,
      activeUnits: this.activeUnits(),
      asOf,
    };
  }

  /** Markdown for the Temporal Web UI. */
  details(): string {
    const usage = this.currentUsage();
    const lines = [
      `**${this.subscription.externalId}** (customer ${this.subscription.externalCustomerId}, plan ${this.cycle.terms.plan.code}): ${this.status}`,
      `Period ${this.cycle.period.startLocalDate} → ${this.cycle.period.endLocalDate} (${this.cycle.terms.timeZone})`,
    ];
    for (const c of usage?.charges_usage ?? []) {
      lines.push(
        `- ${c.charge.code}: ${c.units} active, prorated ${c.prorated_units ?? '-'}, ${c.amount_cents} ${c.amount_currency} cents so far`,
      );
    }
    if (this.cycle.drafts.length > 0) lines.push(`Draft invoices: ${this.draftIds().join(', ')}`);
    const pending = this.pendingPlanChange;
    if (pending)
      lines.push(
        `Downgrade to ${pending.subscription.planCode} (${pending.subscription.id}) at ${isoSeconds(this.cycle.period.endAt)}`,
      );
    for (const before of this.planChain)
      lines.push(
        `Before: ${before.plan_code} (${before.lago_id}) ${before.started_at} → ${before.terminated_at}`,
      );
    return lines.join('\n');
  }
}
