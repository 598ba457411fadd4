/**
 * The benchmarks' worker: prorata's worker (worker/run.ts) with the baseline workflows and activity
 * beside prorata's, so a figure and its baseline share one process, one task queue and one database.
 * Its bundle (dist/bench-workflow-bundle.js) is built by bench/run.ts before the stack starts, so
 * bundling never counts in the worker's memory.
 */
import { join } from 'node:path';
import { runWorker } from '../worker/run';
import { createBaselineActivities } from './activities';

export const BENCH_WORKFLOW_BUNDLE = join(__dirname, '..', 'bench-workflow-bundle.js');

if (require.main === module) {
  runWorker({ workflowBundlePath: BENCH_WORKFLOW_BUNDLE, extraActivities: createBaselineActivities }).catch(
    (err) => {
      console.error('[worker] failed:', err);
      process.exit(1);
    },
  );
}
