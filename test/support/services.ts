/**
 * Real services for tests, each on free ports, always stopped after (also on failure): the Java
 * time-skipping test server, the Temporal CLI dev server and FerretDB. Nothing here is a mock.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { loadConfig, servicePaths } from '../../src/config';
import { connectDatabase, type Database } from '../../src/store/database';
import { customSearchAttributes } from '../../src/temporal/search-attributes';
import {
  freePort,
  startFerretDb,
  startTimeSkippingServer,
  type RunningService,
} from '../../scripts/services';

const config = loadConfig();
export const paths = servicePaths(config);

/** Temporal's Java time-skipping test server (no downloads: the locally built wrapper). */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const port = await freePort();
  const server = await startTimeSkippingServer({ binary: paths.testServer, port });
  // What `createTimeSkipping` does once its server listens (its launcher's 5 s window is too short
  // here, see startTimeSkippingServer): a time-skipping environment on an existing server.
  const env = await TestWorkflowEnvironment['create']({
    server: { type: 'existing' },
    address: `127.0.0.1:${port}`,
    supportsTimeSkipping: true,
    namespace: 'default',
  }).catch(async (err: unknown) => {
    await server.stop(1_000);
    throw err;
  });
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    await teardown();
    await server.stop(2_000);
  };
  // The Java server has no start flag for custom search attributes: register them like a cluster admin.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      customSearchAttributes.map((k) => [
        k.name,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}

/** The Temporal CLI dev server (SQLite in memory) with prorata's search attributes. */
export async function startDevServerEnv(
  dynamicConfig: Record<string, string | number | boolean> = {},
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: paths.temporal },
      searchAttributes: customSearchAttributes,
      extraArgs: Object.entries(dynamicConfig).flatMap(([k, v]) => [
        '--dynamic-config-value',
        `${k}=${JSON.stringify(v)}`,
      ]),
    },
  });
}

export interface TestMongo {
  uri: string;
  dbName: string;
  database: Database;
  ferret?: RunningService;
  /** Stops FerretDB (for outage tests); `restart()` brings it back on the same port and data. */
  stopServer(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A MongoDB for one test file: FerretDB on a free port with its own SQLite folder, or, when
 * MONGODB_URI is set, a fresh database on that server.
 */
export async function startMongo(): Promise<TestMongo> {
  const dbName = `prorata_test_${randomUUID().slice(0, 8)}`;
  if (config.MONGODB_URI) {
    const uri = config.MONGODB_URI;
    const database = await connectDatabase(uri, dbName);
    return {
      uri,
      dbName,
      database,
      stopServer: async () => {
        throw new Error('cannot stop an external MongoDB');
      },
      restart: async () => undefined,
      async stop() {
        await database.db.dropDatabase().catch(() => undefined);
        await database.close();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'prorata-ferretdb-'));
  const port = await freePort();
  let ferret = await startFerretDb({ binary: paths.ferretdb, dataDir: dir, port });
  const uri = `mongodb://127.0.0.1:${port}/`;
  const database = await connectDatabase(uri, dbName);
  return {
    uri,
    dbName,
    database,
    get ferret() {
      return ferret;
    },
    stopServer: () => ferret.stop(),
    async restart() {
      ferret = await startFerretDb({ binary: paths.ferretdb, dataDir: dir, port });
    },
    async stop() {
      await database.close().catch(() => undefined);
      await ferret.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
