/**
 * The fault drills' stack: scripts/process-stack.ts (Temporal dev server on a SQLite file, the
 * worker and the API as children) on a FerretDB of its own (restartable with its data), or a fresh
 * database on MONGODB_URI.
 */
import {
  startProcessStack as startStack,
  type ProcessStack as Stack,
  type ProcessStackOptions,
  type StackMongo,
} from '../../scripts/process-stack';
import { startMongo, type TestMongo } from './services';

export type { ChildName } from '../../scripts/process-stack';

export type DrillMongo = TestMongo & StackMongo;
export type ProcessStack = Stack<DrillMongo>;

export function startProcessStack(
  options: Omit<ProcessStackOptions<DrillMongo>, 'mongo'> = {},
): Promise<ProcessStack> {
  return startStack({
    label: 'faults',
    ...options,
    mongo: async () => {
      const mongo = await startMongo();
      return Object.assign(mongo, { db: mongo.database.db });
    },
  });
}
