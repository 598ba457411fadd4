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

export interface ActivityTimes {
  activity: string;
  /** Calls per workflow. */
  perWorkflow: number;
  /** Mean ms from scheduled to started: waiting for a free worker slot. */
  waitMs: number;
  /** Mean ms from started to completed (or failed): the activity's own work. */
  runMs: number;
}

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;

/**
 * Where the time of these workflows went, from their histories (every run): per activity
 * type, calls per workflow, mean queue wait and mean run time. Slowest total first.
 */
export async function activityTimes(client: Client, workflowIds: string[]): Promise<ActivityTimes[]> {
  const byType = new Map<string, { calls: number; wait: number; run: number }>();
  const runsOf = async function* (workflowId: string) {
    let runId: string | undefined;
    do {
      const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
      yield events;
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    } while (runId);
  };
  for (const workflowId of workflowIds)
    for await (const events of runsOf(workflowId)) {
      const scheduled = new Map<number, { type: string; at: number }>();
      const started = new Map<number, number>();
      for (const e of events) {
        const id = Number(e.eventId);
        const at = millis(e.eventTime);
        const s = e.activityTaskScheduledEventAttributes;
        if (s) scheduled.set(id, { type: s.activityType?.name ?? '?', at });
        const st = e.activityTaskStartedEventAttributes;
        if (st) started.set(Number(st.scheduledEventId), at);
        const end = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
        if (end) {
          const from = scheduled.get(Number(end.scheduledEventId));
          const begin = started.get(Number(end.scheduledEventId));
          if (!from || begin === undefined) continue;
          const t = byType.get(from.type) ?? { calls: 0, wait: 0, run: 0 };
          t.calls++;
          t.wait += begin - from.at;
          t.run += at - begin;
          byType.set(from.type, t);
        }
      }
    }
  return [...byType.entries()]
    .map(([activity, t]) => ({
      activity,
      perWorkflow: t.calls / workflowIds.length,
      waitMs: t.wait / t.calls,
      runMs: t.run / t.calls,
    }))
    .sort((a, b) => b.perWorkflow * b.runMs - a.perWorkflow * a.runMs);
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
