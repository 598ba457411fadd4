/** The benchmarks' baseline activity: one idempotent MongoDB write, as an invoice is one. */
import type { ActivityDeps } from '../activities';

export const BASELINE_COLLECTION = 'bench_baseline';

export function createBaselineActivities(deps: ActivityDeps) {
  return {
    async baselineStore(id: string): Promise<void> {
      await deps.db
        .collection<{ _id: string; at: Date }>(BASELINE_COLLECTION)
        .updateOne({ _id: id }, { $setOnInsert: { at: new Date() } }, { upsert: true });
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
