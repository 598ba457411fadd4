/**
 * What the stack benchmarks share: the seed's per-seat catalog and subscriptions created through the
 * API (the fault drills' helpers, test/faults/seat-billing.ts), and signal counting in histories.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { seatEventsSignal } from '../../src/temporal/messages';
import { subscriptionWorkflowId } from '../../src/temporal/ids';

export {
  DAY,
  apiClient,
  createSeatCatalog,
  createSubscriptions,
  inParallel,
  seatEvent,
  simulateSubscription,
  expectedInvoices,
  type ApiCall,
  type SeatEventInput,
} from '../../test/faults/seat-billing';

export { subscriptionWorkflowId };

export interface RunHistory {
  runId: string;
  events: number;
  bytes: number;
  signals: number;
}

/**
 * The runs of one workflow id, newest first, back through continue-as-new: history length, size and
 * signals received (those named `signalName`, or all) of each run.
 */
export async function runHistories(
  client: Client,
  workflowId: string,
  signalName?: string,
): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    runs.push({
      runId: runId ?? 'latest',
      events: events.length,
      bytes: temporal.api.history.v1.History.encode(history).finish().length,
      signals: events.filter(
        (e) =>
          e.workflowExecutionSignaledEventAttributes &&
          (signalName === undefined || e.workflowExecutionSignaledEventAttributes.signalName === signalName),
      ).length,
    });
    const previous = started?.continuedExecutionRunId;
    if (!previous) return runs;
    runId = previous;
  }
}

/** Signals named `signalName` received by these workflows across all their runs. */
export async function signalsReceived(
  client: Client,
  workflowIds: string[],
  signalName: string,
): Promise<number> {
  let total = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < workflowIds.length) {
        const id = workflowIds[next++]!;
        for (const run of await runHistories(client, id, signalName)) total += run.signals;
      }
    }),
  );
  return total;
}

/**
 * Sends seat events straight to a subscription workflow, 100 per signal, as a product service may
 * (`recorded: false`: the workflow records them in MongoDB with one insert per signal). The
 * benchmarks use it to load large seat counts quickly; the ingest benchmark measures the API path.
 */
export async function signalSeats(
  client: Client,
  workflowId: string,
  events: {
    transaction_id: string;
    timestamp: number;
    properties: { user_id: string; operation_type: string };
  }[],
  concurrency = 4,
): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const chunks = Array.from({ length: Math.ceil(events.length / 100) }, (_, i) =>
    events.slice(i * 100, i * 100 + 100),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        await handle.signal(
          seatEventsSignal,
          chunk.map((e) => ({
            transaction_id: e.transaction_id,
            code: 'seats',
            timestamp: e.timestamp * 1000,
            properties: e.properties,
            recorded: false,
          })),
        );
      }
    }),
  );
}
