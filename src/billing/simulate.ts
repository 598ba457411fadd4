/**
 * Offline simulation of one subscription (the `prorata simulate` command): the billing cycle's
 * steps (billing-cycle.ts) run in time order up to `asOf`, exactly as the subscription workflow runs
 * them, plus the wallet side (grants, credits at finalization). Pure: the clock is the events'
 * timeline.
 *
 * Timeline rules:
 * - an event arrives at `receivedAt` (default: its own timestamp); events sent before the
 *   subscription starts count from the start (Lago reads all past events of a recurring metric);
 *   events arriving after `asOf` are not known yet;
 * - a duplicate `transaction_id` is refused (the first one stays), as the events API would;
 * - at one instant, in this order: wallets are created (and granted), the opening invoice is issued,
 *   drafts whose grace period ends are finalized (oldest first), the period ending then is closed,
 *   the subscription is terminated; events that have arrived by that instant are applied first;
 * - pay-in-advance seats (SPEC section 8) are billed when their event arrives, those known at the
 *   start when the subscription opens, those of a new period right after the close;
 * - credits are applied when an invoice is finalized (at once without grace, else `grace` days after
 *   the billing day); a draft still in grace at `asOf` stays a draft, without credits or number;
 * - at termination, open drafts are finalized first (oldest first), then the terminating invoice.
 */
import {
  meteredEventOf,
  type BillableMetric,
  type MeteringError,
  type ReceivedEvent,
} from './billable-metric';
import {
  closePeriod,
  currentUsage,
  finalizeDraft,
  issueOpeningInvoice,
  openCycle,
  recordEvent,
  refreshDraft,
  terminate,
  type BillingCycle,
  type BillingTerms,
  type ComputeOptions,
} from './billing-cycle';
import type { BillingTime } from './billing-period';
import { issueInAdvanceInvoices } from './in-advance-cycle';
import { allocateCredits, type CreditTake } from './credit-allocation';
import type { CurrentUsage } from './current-usage';
import { draftInvoiceNumber, finalizedWithCredits, invoiceNumber, type Invoice } from './invoice';
import { localDateOf } from './local-time';
import type { Plan } from './plan';
import { downgradeCycleAtPeriodEnd, planChangeKind, upgradeCycle } from './plan-change';
import type { MeteredEvent } from './seat-ledger';
import { creditWallet, expireWallet, newWallet, type Wallet, type WalletAppliesTo } from './wallet';
import { topUpAmount } from './wallet-topup';

export interface SimulationEvent {
  transactionId: string;
  code: string;
  /** Timestamp, epoch ms. */
  at: number;
  /** When prorata received it, epoch ms; null = at its timestamp. */
  receivedAt: number | null;
  properties: Record<string, unknown>;
}

export interface WalletSetup {
  code: string;
  name: string | null;
  currency: string;
  rateAmount: string;
  /** Granted at creation (settled at once); decimal string or null. */
  grantedCredits: string | null;
  priority: number;
  createdAt: number;
  expirationAt: number | null;
  appliesTo: WalletAppliesTo;
}

export interface SimulationInput {
  customer: { externalId: string; timeZone: string; graceDays: number };
  metrics: BillableMetric[];
  /** The plan the subscription starts on. */
  plan: Plan;
  /**
   * Plan changes asked (Lago's `POST /subscriptions` with the same external id), in time order:
   * an upgrade switches at `at`, a downgrade at the end of the period then (plan-change.ts).
   */
  planChanges?: SimulationPlanChange[];
  subscription: {
    externalId: string;
    billingTime: BillingTime;
    /** `subscription_at` = `started_at`, epoch ms. */
    subscriptionAt: number;
    terminatedAt: number | null;
  };
  events: SimulationEvent[];
  wallets: WalletSetup[];
  asOf: number;
  /** Invoice number prefix (Lago's billing entity prefix). */
  invoiceNumberPrefix: string;
  /** Customer sequential id used in invoice numbers. */
  customerSequentialId: number;
}

export interface SimulationPlanChange {
  at: number;
  plan: Plan;
}

export interface SimulatedInvoice {
  invoice: Invoice;
  /** The plan of the subscription it bills (each plan change makes a new subscription). */
  planCode: string;
  /** Which subscription of the external id: 0 for the first, then one more per plan change. */
  generation: number;
  /** `{PREFIX}-{customer:3}-{invoice:3}` once finalized, `{PREFIX}-DRAFT` before. */
  number: string;
  /** Credits applied at finalization, one per wallet. */
  credits: CreditTake[];
  finalizedAt: number | null;
}

export interface WalletTransaction {
  walletCode: string;
  transactionType: 'inbound' | 'outbound';
  transactionStatus: 'granted' | 'invoiced';
  amountCents: number;
  creditAmount: string;
  at: number;
  invoiceNumber: string | null;
}

export interface IgnoredEvent {
  transactionId: string;
  reason: MeteringError | 'duplicate_transaction_id' | 'not_received_yet';
}

export interface SimulationResult {
  status: 'pending' | 'active' | 'terminated';
  invoices: SimulatedInvoice[];
  currentUsage: CurrentUsage | null;
  wallets: Wallet[];
  walletTransactions: WalletTransaction[];
  ignoredEvents: IgnoredEvent[];
  /** The cycle at `asOf` (ledger, current period, drafts), or null while pending. */
  cycle: BillingCycle | null;
}

interface Arrival {
  arrivesAt: number;
  event: MeteredEvent;
}

export function termsOf(input: SimulationInput): BillingTerms {
  return {
    timeZone: input.customer.timeZone,
    graceDays: input.customer.graceDays,
    billingTime: input.subscription.billingTime,
    anchorLocalDate: localDateOf(input.subscription.subscriptionAt, input.customer.timeZone),
    plan: input.plan,
    metrics: input.metrics,
  };
}

export function simulate(input: SimulationInput, options: ComputeOptions = {}): SimulationResult {
  const { asOf } = input;
  const ignoredEvents: IgnoredEvent[] = [];
  const arrivals = meteredArrivals(input, ignoredEvents);
  let nextArrival = 0;

  const walletSetups = [...input.wallets].sort((a, b) => a.createdAt - b.createdAt);
  let nextWallet = 0;
  let wallets: Wallet[] = [];
  const walletTransactions: WalletTransaction[] = [];
  const invoices: SimulatedInvoice[] = [];
  let invoiceSequence = 0;

  const startedAt = input.subscription.subscriptionAt;
  const terminatedAt = input.subscription.terminatedAt;
  let cycle: BillingCycle | null = null;
  let terminated = false;
  const planChanges = [...(input.planChanges ?? [])].sort((a, b) => a.at - b.at);
  let nextPlanChange = 0;
  let generation = 0;
  let pendingDowngrade: Plan | null = null;

  // Events sent before the subscription exists wait in storage; the cycle loads them when it opens.
  // Once it is open, each arrival bills its pay-in-advance seats at once (in-advance-cycle.ts).
  const receiveUntil = (at: number, billEach = true): void => {
    if (!cycle) return;
    while (nextArrival < arrivals.length && (arrivals[nextArrival] as Arrival).arrivesAt <= at) {
      const arrival = arrivals[nextArrival] as Arrival;
      recordEvent(cycle, arrival.event);
      nextArrival += 1;
      if (billEach) billInAdvance(arrival.arrivesAt);
    }
  };
  const billInAdvance = (at: number): void => {
    if (cycle) for (const invoice of issueInAdvanceInvoices(cycle, at)) issued(invoice, at);
  };

  const createWallet = (setup: WalletSetup): void => {
    let wallet = newWallet({
      code: setup.code,
      name: setup.name,
      lagoId: null,
      currency: setup.currency,
      rateAmount: setup.rateAmount,
      priority: setup.priority,
      createdAt: setup.createdAt,
      expirationAt: setup.expirationAt,
      appliesTo: setup.appliesTo,
    });
    if (setup.grantedCredits !== null) {
      const topUp = topUpAmount(setup.grantedCredits, setup.rateAmount, setup.currency);
      if (topUp.ok) {
        wallet = creditWallet(wallet, topUp.credits, topUp.amountCents);
        walletTransactions.push({
          walletCode: wallet.code,
          transactionType: 'inbound',
          transactionStatus: 'granted',
          amountCents: topUp.amountCents,
          creditAmount: topUp.credits,
          at: setup.createdAt,
          invoiceNumber: null,
        });
      }
    }
    wallets.push(wallet);
  };

  /** Finalization: number, then credits (Lago applies prepaid credits when an invoice is finalized). */
  const finalize = (invoice: Invoice, at: number): void => {
    wallets = wallets.map((wallet) => expireWallet(wallet, at));
    const allocation = allocateCredits(invoice, wallets, at);
    wallets = allocation.wallets;
    invoiceSequence += 1;
    const number = invoiceNumber(input.invoiceNumberPrefix, input.customerSequentialId, invoiceSequence);
    for (const take of allocation.takes) {
      walletTransactions.push({
        walletCode: take.walletCode,
        transactionType: 'outbound',
        transactionStatus: 'invoiced',
        amountCents: take.amountCents,
        creditAmount: take.creditAmount,
        at,
        invoiceNumber: number,
      });
    }
    record({
      invoice: finalizedWithCredits(invoice, allocation.prepaidCreditAmountCents),
      ...ofSubscription(),
      number,
      credits: allocation.takes,
      finalizedAt: at,
    });
  };

  const ofSubscription = () => ({ planCode: (cycle as BillingCycle).terms.plan.code, generation });

  const record = (simulated: SimulatedInvoice): void => {
    const index = invoices.findIndex(
      (existing) =>
        existing.invoice.key === simulated.invoice.key && existing.generation === simulated.generation,
    );
    if (index === -1) invoices.push(simulated);
    else invoices[index] = simulated;
  };

  const issued = (invoice: Invoice, at: number): void => {
    if (invoice.status === 'finalized') finalize(invoice, at);
    else
      record({
        invoice,
        ...ofSubscription(),
        number: draftInvoiceNumber(input.invoiceNumberPrefix),
        credits: [],
        finalizedAt: null,
      });
  };

  /** A terminated subscription has no grace: its drafts are final now, oldest first. */
  const finalizeDrafts = (live: BillingCycle, at: number): void => {
    for (const scope of [...live.drafts]) {
      const invoice = finalizeDraft(live, scope.key, options);
      if (invoice) finalize(invoice, at);
    }
  };

  for (;;) {
    // The next instant something happens, and what happens first at that instant.
    const steps: { at: number; rank: number }[] = [];
    const setup = walletSetups[nextWallet];
    if (setup) steps.push({ at: setup.createdAt, rank: 0 });
    if (!cycle) steps.push({ at: startedAt, rank: 1 });
    if (cycle && cycle.drafts.length > 0) {
      steps.push({ at: Math.min(...cycle.drafts.map((scope) => scope.finalizesAt)), rank: 2 });
    }
    if (cycle && !terminated) {
      steps.push({ at: cycle.period.endAt, rank: 3 });
      if (terminatedAt !== null) steps.push({ at: terminatedAt, rank: 4 });
      const change = planChanges[nextPlanChange];
      if (change) steps.push({ at: Math.max(change.at, startedAt), rank: 5 });
    }
    steps.sort((a, b) => a.at - b.at || a.rank - b.rank);
    const step = steps[0];
    if (!step || step.at > asOf) break;
    receiveUntil(step.at);
    switch (step.rank) {
      case 0:
        createWallet(walletSetups[nextWallet] as WalletSetup);
        nextWallet += 1;
        break;
      case 1: {
        cycle = openCycle(termsOf(input), startedAt);
        receiveUntil(step.at, false);
        const opening = issueOpeningInvoice(cycle, options);
        if (opening) issued(opening, step.at);
        billInAdvance(step.at);
        break;
      }
      case 2: {
        const live = cycle as BillingCycle;
        const due = live.drafts.find((scope) => scope.finalizesAt === step.at);
        const invoice = due ? finalizeDraft(live, due.key, options) : null;
        if (invoice) finalize(invoice, step.at);
        break;
      }
      case 3:
        if (pendingDowngrade) {
          const switched = downgradeCycleAtPeriodEnd(
            cycle as BillingCycle,
            pendingDowngrade,
            input.metrics,
            options,
          );
          pendingDowngrade = null;
          issued(switched.invoice, step.at);
          finalizeDrafts(cycle as BillingCycle, step.at);
          cycle = switched.next;
          generation += 1;
        } else issued(closePeriod(cycle as BillingCycle, options), step.at);
        billInAdvance(step.at);
        break;
      case 4: {
        const live = cycle as BillingCycle;
        const result = terminate(live, step.at, options);
        terminated = true;
        if (!result.ok) break;
        finalizeDrafts(live, step.at);
        finalize(result.invoice, step.at);
        break;
      }
      case 5: {
        const live = cycle as BillingCycle;
        const { plan } = planChanges[nextPlanChange] as SimulationPlanChange;
        nextPlanChange += 1;
        if (planChangeKind(live.terms.plan, plan) === 'downgrade') {
          pendingDowngrade = plan;
          break;
        }
        // An upgrade replaces a pending downgrade (Lago keeps one next subscription).
        pendingDowngrade = null;
        const upgrade = upgradeCycle(live, step.at, plan, input.metrics, options);
        if (!upgrade.ok) break;
        finalizeDrafts(live, step.at);
        finalize(upgrade.invoice, step.at);
        cycle = upgrade.next;
        generation += 1;
        break;
      }
    }
  }
  receiveUntil(asOf);
  for (const arrival of arrivals) {
    if (arrival.arrivesAt > asOf) {
      ignoredEvents.push({
        transactionId: transactionIdOf(input, arrival.event.seq),
        reason: 'not_received_yet',
      });
    }
  }

  const live = cycle as BillingCycle | null;
  if (live) {
    // Drafts show what they would be if refreshed now (late events included).
    for (const scope of live.drafts) {
      const invoice = refreshDraft(live, scope.key, options);
      if (invoice)
        record({
          invoice,
          ...ofSubscription(),
          number: draftInvoiceNumber(input.invoiceNumberPrefix),
          credits: [],
          finalizedAt: null,
        });
    }
  }
  wallets = wallets.map((wallet) => expireWallet(wallet, asOf));
  return {
    status: !live ? 'pending' : live.terminatedAt !== null ? 'terminated' : 'active',
    invoices,
    currentUsage: live ? currentUsage(live, options) : null,
    wallets,
    walletTransactions,
    ignoredEvents,
    cycle: live,
  };
}

function transactionIdOf(input: SimulationInput, seq: number): string {
  return input.events[seq]?.transactionId ?? String(seq);
}

/** Metered events in arrival order; `seq` is the event's position in the scenario (ingestion order). */
function meteredArrivals(input: SimulationInput, ignored: IgnoredEvent[]): Arrival[] {
  const seen = new Set<string>();
  const arrivals: Arrival[] = [];
  input.events.forEach((event, seq) => {
    if (seen.has(event.transactionId)) {
      ignored.push({ transactionId: event.transactionId, reason: 'duplicate_transaction_id' });
      return;
    }
    seen.add(event.transactionId);
    const received: ReceivedEvent = { code: event.code, at: event.at, seq, properties: event.properties };
    const metered = meteredEventOf(input.metrics, received);
    if (!metered.ok) {
      ignored.push({ transactionId: event.transactionId, reason: metered.error });
      return;
    }
    arrivals.push({ arrivesAt: event.receivedAt ?? event.at, event: metered.event });
  });
  return arrivals.sort((a, b) => a.arrivesAt - b.arrivesAt || a.event.seq - b.event.seq);
}
