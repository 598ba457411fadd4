import type { Request, Response } from 'express';
import type { Db } from 'mongodb';
import type { Connection } from '@temporalio/client';
import { pingDatabase } from '../src/store/database';

export interface HealthDeps {
  db: Db;
  temporal: Connection;
}

const CHECK_TIMEOUT_MS = 3_000;

async function check(
  name: string,
  probe: () => Promise<unknown>,
): Promise<{ name: string; up: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, fail) => {
        timer = setTimeout(
          () => fail(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { name, up: true };
  } catch (err) {
    return { name, up: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health: 200 when Temporal and MongoDB both answer, else 503 naming what is down. */
export function healthHandler(deps: HealthDeps) {
  return async (_req: Request, res: Response) => {
    const results = await Promise.all([
      check('temporal', () => deps.temporal.workflowService.getSystemInfo({})),
      check('mongodb', () => pingDatabase(deps.db)),
    ]);
    const down = results.filter((r) => !r.up).map((r) => r.name);
    const body = {
      status: down.length === 0 ? 'ok' : 'unavailable',
      ...(down.length > 0 ? { down } : {}),
      services: Object.fromEntries(
        results.map((r) => [r.name, r.up ? { status: 'up' } : { status: 'down', error: r.error }]),
      ),
    };
    res.status(down.length === 0 ? 200 : 503).json(body);
  };
}
