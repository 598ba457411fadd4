/**
 * One long-lived workflow per subscription: the story of a billing period. Seat events arrive by
 * signal and go into the ledger (exactly once, any order); at the period end the invoice is computed
 * by src/billing and stored by an activity under a deterministic id; then continue-as-new carries the
 * next period's small JSON state. All billing rules live in src/billing, reached through
 * SubscriptionState (workflows/subscription-state.ts).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { billingActivityOptions, webhookActivityOptions } from './activity-options';
import {
  currentUsageQuery,
  endingAtSignal,
  finalizeInvoiceUpdate,
  planChangedSignal,
  planChangeUpdate,
  seatEventsSignal,
  seatLedgerQuery,
  subscriptionQuery,
  terminateUpdate,
} from '../src/temporal/messages';
import { planCodeKey, subscriptionStatusKey } from '../src/temporal/search-attributes';
import type {
  ComputedInvoice,
  PlanChangeRequest,
  PlanChangeResult,
  SeatEventMessage,
  TerminateResult,
} from '../src/contracts/subscription-workflow';
import { SubscriptionState, type SubscriptionWorkflowInput } from './subscription-state';
import { allocateCredits } from '../src/billing/credit-allocation';
import type { Wallet } from '../src/billing';
import { creditableInvoice, lagoAmountsWithCredits } from '../src/billing/lago-shapes';

/** The customer's ongoing wallet balances are refreshed at most this often per subscription. */
const USAGE_REPORT_INTERVAL_MS = 10_000;
/** Directly signalled events recorded per activity call (about 190 KB of input at 1,000). */
const RECORD_EVENTS_PER_ACTIVITY = 1_000;

const activities = proxyActivities<Activities>(billingActivityOptions);

const webhooks = proxyActivities<Activities>(webhookActivityOptions);

/** Sends a webhook unless this run began before webhooks existed (replays of older histories). */
async function notify(send: () => Promise<unknown>): Promise<void> {
  if (!patched('lago-webhooks')) return;
  try {
    await send();
  } catch {
    // Delivery failed after its attempts: the webhooks collection records the failure.
  }
}

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<TerminateResult> {
  // One workflow per external id: a plan change hands `state` over to the next subscription.
  let state = SubscriptionState.fromInput(input);
  // Runs started before wallets existed never report usage (their saved histories replay unchanged).
  const reportsUsage = patched('wallet-ongoing-usage');
  // A run continued after a settled period close starts with its usage already reported.
  let usageChanged = reportsUsage && input.usageReported !== true;
  let usageReportAt = 0;
  let terminateAt: number | null = null;
  let result: TerminateResult | null = null;
  const finalizeAsked: string[] = [];
  let planChangeAsked: PlanChangeRequest | null = null;
  const planChangeResults = new Map<string, PlanChangeResult>();
  /** The subscription's projection is owed (deferred at the first start: see below). */
  let projectionDue = false;
  /** This run closed its period through settleInvoice (its usage report included). */
  let settled = false;
  if (state.planChain.length > 0) upsertMemo({ plan_changes: state.planChain });

  setHandler(seatEventsSignal, (batch) => {
    state.receive(batch);
    usageChanged = reportsUsage;
  });
  setHandler(planChangedSignal, () => state.markPlanChanged());
  setHandler(endingAtSignal, ({ ending_at }) => state.setEndingAt(ending_at));
  setHandler(currentUsageQuery, (pending?: SeatEventMessage[]) => state.currentUsage(pending ?? []));
  setHandler(seatLedgerQuery, () => state.ledgerView());
  setHandler(subscriptionQuery, () => state.view());
  setHandler(
    terminateUpdate,
    async (request) => {
      terminateAt ??= request.terminated_at ?? Date.now();
      await condition(() => result !== null);
      return result!;
    },
    {
      validator: (request) => {
        if (state.status === 'terminated' || state.status === 'canceled') {
          throw ApplicationFailure.nonRetryable(
            'the subscription is already terminated',
            'subscription_terminated',
          );
        }
        if (request.terminated_at !== undefined) state.validateTermination(request.terminated_at);
      },
    },
  );
  setHandler(
    planChangeUpdate,
    async (request) => {
      planChangeAsked = request;
      await condition(() => planChangeResults.has(request.subscription_id));
      return planChangeResults.get(request.subscription_id)!;
    },
    {
      validator: (request) => {
        if (planChangeAsked !== null || terminateAt !== null)
          throw ApplicationFailure.nonRetryable('another change is in progress', 'change_in_progress');
        state.validatePlanChange(request);
      },
    },
  );
  setHandler(
    finalizeInvoiceUpdate,
    async ({ invoice_id }) => {
      finalizeAsked.push(invoice_id);
      await condition(() => !state.hasDraft(invoice_id));
      return { invoice_id, status: 'finalized' as const };
    },
    {
      validator: ({ invoice_id }) => {
        if (!state.hasDraft(invoice_id))
          throw ApplicationFailure.nonRetryable('no such draft invoice', 'invoice_not_found');
      },
    },
  );

  async function issue(invoice: ComputedInvoice): Promise<void> {
    if (invoice.status === 'draft') {
      await activities.saveInvoice(invoice);
      await notify(() => webhooks.notifyInvoice({ invoiceId: invoice.id, webhookType: 'invoice.drafted' }));
    } else {
      await finalize(invoice);
    }
  }

  async function finalize(invoice: ComputedInvoice): Promise<void> {
    const credits = patched('wallet-credits') ? await applyCredits(invoice) : 0;
    await activities.finalizeInvoice(lagoAmountsWithCredits(invoice, credits));
    usageChanged = reportsUsage;
    await notify(() => webhooks.notifyInvoice({ invoiceId: invoice.id, webhookType: 'invoice.created' }));
  }

  /**
   * Prepaid credits for an invoice being finalized (SPEC section 6): the allocation is computed here
   * from the wallets as their workflows hold them, so it is recorded in this history and a replay or
   * a retried activity follows the same plan; each wallet gives at most its balance, once per
   * invoice (`{invoice}:{wallet}`). Returns the credits actually given.
   */
  async function applyCredits(invoice: ComputedInvoice): Promise<number> {
    if (invoice.sub_total_including_taxes_amount_cents <= 0) return 0;
    const found = await activities.loadCustomerWallets({
      organization_id: input.subscription.organizationId,
      customer_id: input.subscription.customerId,
      currency: invoice.currency,
    });
    return takeCredits(invoice, found);
  }

  /** Credits from the wallets found, allocated here (recorded in this history) and taken. */
  async function takeCredits(
    invoice: ComputedInvoice,
    found: { wallet: Wallet; workflow_id: string }[],
  ): Promise<number> {
    if (found.length === 0) return 0;
    const allocation = allocateCredits(
      creditableInvoice(invoice),
      found.map((f) => f.wallet),
      Date.now(),
    );
    let given = 0;
    for (const take of allocation.takes) {
      const holder = found.find((f) => f.wallet.code === take.walletCode);
      if (!holder) continue;
      const result = await activities.consumeWalletCredits({
        workflow_id: holder.workflow_id,
        wallet_id: take.walletCode,
        invoice_id: invoice.id,
        amount_cents: take.amountCents,
      });
      given += result.amount_cents;
    }
    return given;
  }

  /**
   * A closed period's invoice, final (not a draft), in one activity (issue #14): settleInvoice
   * finalizes it, projects the next period and reports its usage; it stops first when the customer
   * has wallets, whose credits are allocated here and taken, then it is called again with them. The
   * webhook follows only when an endpoint takes it.
   */
  async function settle(invoice: ComputedInvoice): Promise<void> {
    const now = Date.now();
    const usageReport = reportsUsage ? state.ongoingUsageReport(now) : null;
    if (usageReport) {
      usageChanged = false; // events signalled while the activity runs set it again
      usageReportAt = now + USAGE_REPORT_INTERVAL_MS;
    }
    const publish = { projection: state.projection(now), usage_report: usageReport };
    let result = await activities.settleInvoice({
      invoice: lagoAmountsWithCredits(invoice, 0),
      look_for_wallets: true,
      ...publish,
    });
    if (result.kind === 'wallets') {
      const credits = await takeCredits(invoice, result.wallets);
      result = await activities.settleInvoice({
        invoice: lagoAmountsWithCredits(invoice, credits),
        look_for_wallets: false,
        ...publish,
      });
    }
    settled = true;
    projectionDue = false;
    setCurrentDetails(state.details());
    if (result.kind === 'settled' && result.notify)
      await notify(() => webhooks.notifyInvoice({ invoiceId: invoice.id, webhookType: 'invoice.created' }));
  }

  const usageReportWaiting = () => usageChanged && state.status !== 'pending';
  const usageReportDue = () => usageReportWaiting() && Date.now() >= usageReportAt;

  async function reportUsage(now: number): Promise<void> {
    usageChanged = false;
    usageReportAt = now + USAGE_REPORT_INTERVAL_MS;
    await activities.reportOngoingUsage(state.ongoingUsageReport(now));
  }

  async function project(): Promise<void> {
    projectionDue = false;
    await activities.projectSubscription(state.projection(Date.now()));
    setCurrentDetails(state.details());
  }

  /** A terminated subscription has no grace: its drafts are final now, oldest first. */
  async function finalizeAllDrafts(ended: SubscriptionState): Promise<void> {
    for (const id of ended.draftIds()) {
      const draft = ended.finalizeDraft(id);
      if (draft) await finalize(draft);
    }
  }

  /**
   * A plan change switches (docs/plan-changes.md): the ended subscription's invoices are issued and
   * final, it is projected terminated, then `next` becomes the workflow's subscription (Web UI:
   * PlanCode search attribute and the `plan_changes` memo).
   */
  async function handOver(
    ended: SubscriptionState,
    closed: ComputedInvoice[],
    final: ComputedInvoice | null,
    next: SubscriptionState,
  ): Promise<void> {
    for (const invoice of closed) await issue(invoice);
    await finalizeAllDrafts(ended);
    if (final) await finalize(final);
    await activities.projectSubscription(ended.projection(Date.now()));
    // The ended subscription has no usage left to count against the customer's wallets.
    if (reportsUsage) await activities.reportOngoingUsage(ended.ongoingUsageReport(Date.now()));
    await notify(() =>
      webhooks.notifySubscription({
        subscriptionId: ended.subscription.id,
        webhookType: 'subscription.terminated',
      }),
    );
    state = next;
    upsertSearchAttributes([{ key: planCodeKey, value: state.subscription.planCode }]);
    upsertMemo({ plan_changes: state.planChain });
    await project();
    await notify(() =>
      webhooks.notifySubscription({
        subscriptionId: state.subscription.id,
        webhookType: 'subscription.started',
      }),
    );
  }

  async function changePlan(request: PlanChangeRequest, now: number): Promise<PlanChangeResult> {
    const change = SubscriptionState.pendingChangeOf(state, request);
    const previous = state;
    const answer = { kind: request.kind, previous_subscription_id: previous.subscription.id };
    if (request.kind === 'downgrade') {
      state.pendingPlanChange = change;
      setCurrentDetails(state.details());
      return {
        ...answer,
        subscription_id: request.subscription_id,
        switches_at: state.periodEndAt(),
        final_invoice_id: null,
      };
    }
    const at = request.at ?? now;
    const closed: ComputedInvoice[] = [];
    const { final, next } = previous.upgrade(at, change, (invoice) => closed.push(invoice));
    await handOver(previous, closed, final, next);
    return {
      ...answer,
      subscription_id: request.subscription_id,
      switches_at: at,
      final_invoice_id: final?.id ?? null,
    };
  }

  if (!state.bootstrapped) {
    // Events stored before the subscription existed (or before its workflow started) count too.
    const settles = patched('settle-invoice');
    let after: { createdAt: number; id: string } | undefined;
    let started = true;
    do {
      const page = await activities.loadStoredEvents({
        ...state.eventSource(),
        after,
        ...(settles ? { webhook_type: 'subscription.started' } : {}),
      });
      state.receive(page.events);
      after = page.next ?? undefined;
      if (page.notify !== undefined) started = page.notify;
    } while (after);
    state.markBootstrapped();
    // With no webhook to send, the projection waits for the loop, where a period that has already
    // ended (a backdated subscription) projects it with its invoice: one activity less.
    if (settles && !(state.status === 'active' && started)) projectionDue = true;
    else await project();
    if (!projectionDue && state.status === 'active') {
      await notify(() =>
        webhooks.notifySubscription({
          subscriptionId: state.subscription.id,
          webhookType: 'subscription.started',
        }),
      );
    }
  }

  for (;;) {
    await condition(
      () =>
        terminateAt !== null ||
        projectionDue ||
        planChangeAsked !== null ||
        finalizeAsked.length > 0 ||
        state.hasUnrecordedEvents() ||
        state.hasDirtyDrafts() ||
        state.inAdvanceDue() ||
        usageReportDue() ||
        workflowInfo().continueAsNewSuggested,
      Math.max(
        1,
        (usageReportWaiting() ? Math.min(state.nextDeadline(), usageReportAt) : state.nextDeadline()) -
          Date.now(),
      ),
    );
    const now = Date.now();

    if (patched('record-events-in-chunks')) {
      // A burst of directly signalled events (100,000 measured by bench/big-subscription.ts) would
      // otherwise be one 18 MB activity input, over Temporal's 4 MiB message limit.
      while (state.hasUnrecordedEvents())
        await activities.recordEvents(state.takeUnrecordedEvents(RECORD_EVENTS_PER_ACTIVITY));
    } else if (state.hasUnrecordedEvents()) await activities.recordEvents(state.takeUnrecordedEvents());
    for (const draft of state.takeDirtyDrafts()) await activities.saveInvoice(draft);
    for (const id of [...finalizeAsked.splice(0), ...state.draftsDue(now)]) {
      const invoice = state.finalizeDraft(id);
      if (invoice) await finalize(invoice);
    }

    if (state.status === 'pending' && now >= state.startsAt()) {
      state.activate();
      upsertSearchAttributes([{ key: subscriptionStatusKey, value: 'active' }]);
      await project();
      await notify(() =>
        webhooks.notifySubscription({
          subscriptionId: state.subscription.id,
          webhookType: 'subscription.started',
        }),
      );
    }

    // Pay-in-advance seats (SPEC section 8): an invoice per seat added and not billed in the period.
    if (state.inAdvanceDue()) for (const invoice of state.takeInAdvanceInvoices(now)) await issue(invoice);
    if (state.trialEndDue(now)) {
      state.markTrialEnded();
      await project();
      await notify(() =>
        webhooks.notifySubscription({
          subscriptionId: state.subscription.id,
          webhookType: 'subscription.trial_ended',
        }),
      );
    }

    const endingAt = state.endingAt();
    if (terminateAt === null && endingAt !== null && now >= endingAt) terminateAt = endingAt;

    if (terminateAt !== null) {
      const closed: ComputedInvoice[] = [];
      const final = state.terminate(terminateAt, (invoice) => closed.push(invoice));
      for (const invoice of closed) await issue(invoice);
      await finalizeAllDrafts(state);
      if (final) await finalize(final);
      const canceled = state.cancelPendingPlanChange(Date.now());
      if (canceled) await activities.projectSubscription(canceled);
      upsertSearchAttributes([{ key: subscriptionStatusKey, value: state.status }]);
      await project();
      if (state.status === 'terminated') {
        await notify(() =>
          webhooks.notifySubscription({
            subscriptionId: state.subscription.id,
            webhookType: 'subscription.terminated',
          }),
        );
      }
      if (reportsUsage) await reportUsage(Date.now());
      result = { terminated_at: state.terminatedAt() ?? terminateAt, invoice_id: final?.id ?? null };
      await condition(allHandlersFinished);
      return result;
    }

    if (planChangeAsked !== null) {
      const request: PlanChangeRequest = planChangeAsked;
      planChangeResults.set(request.subscription_id, await changePlan(request, now));
      planChangeAsked = null;
    }

    // A period closed through settleInvoice reports the usage with its invoice.
    const closing = state.status === 'active' && now >= state.periodEndAt();
    if (usageReportDue() && !(closing && !state.pendingPlanChange && patched('settle-invoice')))
      await reportUsage(now);

    if (closing) {
      if (state.pendingPlanChange) {
        const previous = state;
        const { invoice, next } = previous.switchToPendingPlan();
        await handOver(previous, [invoice], null, next);
      } else {
        if (state.planReloadDue())
          state.usePlanFromNextPeriod(await activities.loadPlanSnapshot(state.planSource()));
        const invoice = state.closePeriod();
        if (invoice.status !== 'draft' && patched('settle-invoice')) await settle(invoice);
        else {
          await issue(invoice);
          await project(); // a draft's usage is reported when the next run starts
        }
      }
      await condition(allHandlersFinished);
      // The next run need not report again what settleInvoice reported (unless events came since).
      const reported = settled && reportsUsage && !usageChanged;
      return continueAsNew<typeof subscriptionWorkflow>({
        ...state.toInput(),
        ...(reported ? { usageReported: true } : {}),
      });
    }

    if (projectionDue) await project();

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof subscriptionWorkflow>(state.toInput());
    }
    setCurrentDetails(state.details());
  }
}
