/**
 * The benchmarks' workflow bundle: prorata's workflows as shipped, plus the baselines each figure is
 * compared with, so both run on the same worker in the same run.
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { billingActivityOptions } from '../workflows/activity-options';
import type { BaselineActivities } from './activities';

export * from '../workflows';

const baseline = proxyActivities<BaselineActivities>(billingActivityOptions);

export const baselinePingQuery = defineQuery<{ id: string; signals: number }>('baselinePing');
export const baselineSignal = defineSignal<[unknown[]]>('baselineSignal');
export const baselineStopSignal = defineSignal<[]>('baselineStop');

/**
 * billing-day's baseline: one timer, one activity that stores one document, continue-as-new, done.
 * What any durable per-subscription timer costs, without billing.
 */
export async function baselineCycleWorkflow(input: { id: string; continued?: boolean }): Promise<void> {
  if (input.continued) return;
  await sleep(1);
  await baseline.baselineStore(input.id);
  await continueAsNew<typeof baselineCycleWorkflow>({ id: input.id, continued: true });
}

/** current-usage's and ingest's baseline: answers a query, counts signals, until stopped. */
export async function baselineIdleWorkflow(id: string): Promise<void> {
  let signals = 0;
  let stop = false;
  setHandler(baselinePingQuery, () => ({ id, signals }));
  setHandler(baselineSignal, () => void signals++);
  setHandler(baselineStopSignal, () => void (stop = true));
  await condition(() => stop);
}
