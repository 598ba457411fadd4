import type { Db } from 'mongodb';

export interface ActivityDeps {
  db: Db;
}

/** Activities are built from injected dependencies: one MongoDB client per worker process. */
export function createActivities(_deps: ActivityDeps) {
  return {};
}

export type Activities = ReturnType<typeof createActivities>;
