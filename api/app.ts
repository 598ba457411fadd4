import express, { type Express } from 'express';
import type { Db } from 'mongodb';
import type { Client, Connection } from '@temporalio/client';
import { healthHandler } from './health';

export interface ApiDeps {
  db: Db;
  temporal: { client: Client; connection: Connection };
  taskQueue: string;
}

/** The Express app: a thin Lago-compatible facade over MongoDB and the subscription workflows. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', healthHandler({ db: deps.db, temporal: deps.temporal.connection }));
  return app;
}
