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
  seatEventsSignal,
  seatLedgerQuery,
  subscriptionQuery,
  terminateUpdate,
} from '../src/temporal/messages';
import { subscriptionStatusKey } from '../src/temporal/search-attributes';
import type {
  ComputedInvoice,
  SeatEventMessage,
  TerminateResult,
} from '../src/contracts/subscription-workflow';
import { SubscriptionState, type SubscriptionWorkflowInput } from './subscription-state';
import { allocateCredits } from '../src/billing/credit-allocation';
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
  const state = SubscriptionState.fromInput(input);
  const subscriptionId = input.subscription.id;
  // Runs started before wallets existed never report usage (their saved histories replay unchanged).
  const reportsUsage = patched('wallet-ongoing-usage');
  let usageChanged = reportsUsage;
  let usageReportAt = 0;
  let terminateAt: number | null = null;
  let result: TerminateResult | null = null;
  const finalizeAsked: string[] = [];

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

  const usageReportWaiting = () => usageChanged && state.status !== 'pending';
  const usageReportDue = () => usageReportWaiting() && Date.now() >= usageReportAt;

  async function reportUsage(now: number): Promise<void> {
    usageChanged = false;
    usageReportAt = now + USAGE_REPORT_INTERVAL_MS;
    await activities.reportOngoingUsage(state.ongoingUsageReport(now));
  }

  async function project(): Promise<void> {
    await activities.projectSubscription(state.projection(Date.now()));
    setCurrentDetails(state.details());
  }

  if (!state.bootstrapped) {
    // Events stored before the subscription existed (or before its workflow started) count too.
    let after: { createdAt: number; id: string } | undefined;
    do {
      const page = await activities.loadStoredEvents({ ...state.eventSource(), after });
      state.receive(page.events);
      after = page.next ?? undefined;
    } while (after);
    state.markBootstrapped();
    await project();
    if (state.status === 'active') {
      await notify(() =>
        webhooks.notifySubscription({ subscriptionId, webhookType: 'subscription.started' }),
      );
    }
  }

  for (;;) {
    await condition(
      () =>
        terminateAt !== null ||
        finalizeAsked.length > 0 ||
        state.hasUnrecordedEvents() ||
        state.hasDirtyDrafts() ||
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
        webhooks.notifySubscription({ subscriptionId, webhookType: 'subscription.started' }),
      );
    }

    const endingAt = state.endingAt();
    if (terminateAt === null && endingAt !== null && now >= endingAt) terminateAt = endingAt;

    if (terminateAt !== null) {
      const closed: ComputedInvoice[] = [];
      const final = state.terminate(terminateAt, (invoice) => closed.push(invoice));
      for (const invoice of closed) await issue(invoice);
      // A terminated subscription has no grace: its drafts are final now, oldest first.
      for (const id of state.draftIds()) {
        const draft = state.finalizeDraft(id);
        if (draft) await finalize(draft);
      }
      if (final) await finalize(final);
      upsertSearchAttributes([{ key: subscriptionStatusKey, value: state.status }]);
      await project();
      if (state.status === 'terminated') {
        await notify(() =>
          webhooks.notifySubscription({ subscriptionId, webhookType: 'subscription.terminated' }),
        );
      }
      if (reportsUsage) await reportUsage(Date.now());
      result = { terminated_at: state.terminatedAt() ?? terminateAt, invoice_id: final?.id ?? null };
      await condition(allHandlersFinished);
      return result;
    }

    if (usageReportDue()) await reportUsage(now);

    if (state.status === 'active' && now >= state.periodEndAt()) {
      if (state.planReloadDue())
        state.usePlanFromNextPeriod(await activities.loadPlanSnapshot(state.planSource()));
      await issue(state.closePeriod());
      await project();
      await condition(allHandlersFinished);
      return continueAsNew<typeof subscriptionWorkflow>(state.toInput());
    }

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof subscriptionWorkflow>(state.toInput());
    }
    setCurrentDetails(state.details());
  }
}
