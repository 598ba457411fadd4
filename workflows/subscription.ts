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
import type { ComputedInvoice, TerminateResult } from '../src/contracts/subscription-workflow';
import { SubscriptionState, type SubscriptionWorkflowInput } from './subscription-state';

const activities = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Webhooks: Lago makes 3 attempts; a receiver that stays down never holds billing up. */
const webhooks = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 4, maximumAttempts: 3 },
});

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
  let terminateAt: number | null = null;
  let result: TerminateResult | null = null;
  const finalizeAsked: string[] = [];

  setHandler(seatEventsSignal, (batch) => state.receive(batch));
  setHandler(planChangedSignal, () => state.markPlanChanged());
  setHandler(endingAtSignal, ({ ending_at }) => state.setEndingAt(ending_at));
  setHandler(currentUsageQuery, () => state.currentUsage());
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
    await activities.finalizeInvoice(invoice);
    await notify(() => webhooks.notifyInvoice({ invoiceId: invoice.id, webhookType: 'invoice.created' }));
  }

  const subscriptionId = input.subscription.id;

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
        workflowInfo().continueAsNewSuggested,
      Math.max(1, state.nextDeadline() - Date.now()),
    );
    const now = Date.now();

    if (state.hasUnrecordedEvents()) await activities.recordEvents(state.takeUnrecordedEvents());
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
      result = { terminated_at: state.terminatedAt() ?? terminateAt, invoice_id: final?.id ?? null };
      await condition(allHandlersFinished);
      return result;
    }

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
