/**
 * What the API integration tests share: a real FerretDB with prorata's indexes, two organizations
 * (to prove isolation) and the Express app. The routes under test never touch Temporal, so the app
 * gets a lazy connection to a closed port, which only fails if used.
 */
import type { Express } from 'express';
import type { Db } from 'mongodb';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp, type ApiDeps } from '../../../api/app';
import { EventDelivery } from '../../../api/event-delivery';
import { NO_RATE_LIMITS } from '../../../api/rate-limit';
import { ensureIndexes } from '../../../src/store/indexes';
import { createOrganization, type OrganizationDoc } from '../../../src/store/organizations';
import { startMongo, type TestMongo } from '../../support/services';

export interface TestOrganization {
  organization: OrganizationDoc;
  apiKey: string;
}

export interface ApiHarness {
  mongo: TestMongo;
  db: Db;
  app: Express;
  /** Organization A and B. */
  a: TestOrganization;
  b: TestOrganization;
  /** Calls to the ApiDeps hooks, in order. */
  planUpdates: Array<[string, string]>;
  customerDeletions: Array<[string, string]>;
  stop(): Promise<void>;
}

export async function startApiHarness(
  options: Pick<ApiDeps, 'webhookDestinations' | 'rateLimits'> = {},
): Promise<ApiHarness> {
  const mongo = await startMongo();
  const db = mongo.database.db;
  await ensureIndexes(db);
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const planUpdates: Array<[string, string]> = [];
  const customerDeletions: Array<[string, string]> = [];
  const client = new Client({ connection });
  // Stopped with the harness: delivery runs behind the requests (it yields while they come), and
  // must not outlive the database.
  const eventDelivery = new EventDelivery(db, client, 'unused');
  const app = createApp({
    db,
    temporal: { client, connection },
    taskQueue: 'unused',
    eventDelivery,
    // The tests send requests as fast as they can; test/integration/api/rate-limits.test.ts sets limits.
    rateLimits: NO_RATE_LIMITS,
    ...options,
    onPlanUpdated: async (organizationId, planCode) => {
      planUpdates.push([organizationId, planCode]);
    },
    onCustomerDeleted: async (organizationId, externalId) => {
      customerDeletions.push([organizationId, externalId]);
    },
  });
  const [a, b] = [await createOrganization(db, 'Acme Billing'), await createOrganization(db, 'Globex')];
  return {
    mongo,
    db,
    app,
    a,
    b,
    planUpdates,
    customerDeletions,
    async stop() {
      await eventDelivery.close();
      await connection.close().catch(() => undefined);
      await mongo.stop();
    },
  };
}

/** A supertest agent bound to an organization's key: `as(h.a).post('/api/v1/plans')`. */
export function as(org: TestOrganization | null, app: Express) {
  const auth = (r: request.Test) => (org ? r.set('Authorization', `Bearer ${org.apiKey}`) : r);
  const agent = request(app);
  return {
    get: (path: string) => auth(agent.get(path)),
    post: (path: string, body?: unknown) => withBody(auth(agent.post(path)), body),
    put: (path: string, body?: unknown) => withBody(auth(agent.put(path)), body),
    delete: (path: string) => auth(agent.delete(path)),
  };
}

const withBody = (r: request.Test, body: unknown) => (body === undefined ? r : r.send(body as object));

/** Lago's 422 body. */
export const validationError = (details: Record<string, string[]>) => ({
  status: 422,
  error: 'Unprocessable Entity',
  code: 'validation_errors',
  error_details: details,
});

export const notFoundError = (code: string) => ({ status: 404, error: 'Not Found', code });

export const missingRootError = (root: string) => ({
  status: 400,
  error: `BadRequest: param is missing or the value is empty or invalid: ${root}`,
});

export const UNAUTHORIZED = { status: 401, error: 'Unauthorized' };

/** ISO-8601 UTC without milliseconds, as Lago renders instants. */
export const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
