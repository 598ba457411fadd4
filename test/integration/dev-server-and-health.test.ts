import request from 'supertest';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServerEnv, startMongo, type TestMongo } from '../support/services';
import { createApp } from '../../api/app';
import { customerIdKey } from '../../src/temporal/search-attributes';
import { finish, tagged } from './fixtures/tagged-workflow';

describe('Temporal dev server (CLI, built locally) and GET /health', () => {
  let env: TestWorkflowEnvironment;
  let mongo: TestMongo;
  beforeAll(async () => {
    [env, mongo] = await Promise.all([startDevServerEnv(), startMongo()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([env?.teardown(), mongo?.stop()]);
  });

  it('runs a workflow and lists it by prorata custom search attributes', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'tagged',
      workflowsPath: require.resolve('./fixtures/tagged-workflow'),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(tagged, {
        taskQueue: 'tagged',
        workflowId: 'tagged-1',
        args: ['active'],
        typedSearchAttributes: [{ key: customerIdKey, value: 'acme' }],
      });
      // Visibility is eventually consistent: poll until the upserted attribute is listable.
      let ids: string[] = [];
      for (let i = 0; i < 50 && ids.length === 0; i++) {
        ids = [];
        for await (const wf of env.client.workflow.list({
          query: `CustomerId = 'acme' AND SubscriptionStatus = 'active'`,
        })) {
          ids.push(wf.workflowId);
        }
        if (ids.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ids).toEqual(['tagged-1']);
      await handle.signal(finish);
      expect(await handle.result()).toBe('active');
    });
  }, 60_000);

  it('answers 200 when Temporal and MongoDB are up, and 503 naming MongoDB when it is down', async () => {
    const app = createApp({
      db: mongo.database.db,
      temporal: { client: env.client, connection: env.connection },
      taskQueue: 'unused',
    });
    const up = await request(app).get('/health');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      status: 'ok',
      services: { temporal: { status: 'up' }, mongodb: { status: 'up' } },
    });

    if (!mongo.ferret) return; // an external MONGODB_URI cannot be stopped from here
    await mongo.stopServer();
    try {
      const down = await request(app).get('/health');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        status: 'unavailable',
        down: ['mongodb'],
        services: { temporal: { status: 'up' } },
      });
    } finally {
      await mongo.restart();
    }
  }, 60_000);
});
