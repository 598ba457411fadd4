/**
 * `npm start`: the whole prorata stack on embedded defaults. FerretDB (unless MONGODB_URI is set) and
 * the Temporal dev server (unless TEMPORAL_ADDRESS is set) with data under .data/, then the worker and
 * the API as child processes. Ctrl-C stops everything; a second start keeps all data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, servicePaths, webhookDestinationPolicy } from '../src/config';
import { describeDestinationPolicy } from '../src/webhooks/destination-guard';
import { connectDatabase } from '../src/store/database';
import { ensureIndexes } from '../src/store/indexes';
import { ensureDefaultOrganization } from '../src/store/default-organization';
import { startFerretDb, startTemporalDevServer, waitForPort, type RunningService } from './services';

const FERRETDB_PORT = Number(process.env.FERRETDB_PORT ?? 27017);
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

function log(msg: string): void {
  console.log(`[prorata] ${msg}`);
}

function startNode(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [script], { env, stdio: 'inherit' });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping the stack`);
      void stopAll(1);
    }
  });
  return child;
}

let stopping = false;
const services: RunningService[] = [];
const children: { name: string; child: ChildProcess }[] = [];

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping...');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((ok) => {
          if (child.exitCode !== null || child.signalCode !== null) return ok();
          child.once('exit', () => ok());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
  for (const svc of services.reverse()) await svc.stop();
  log('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const config = loadConfig();
  const dataDir = resolve(config.PRORATA_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const paths = servicePaths(config);
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  let mongodbUri = config.MONGODB_URI;
  if (!mongodbUri) {
    services.push(
      await startFerretDb({
        binary: paths.ferretdb,
        dataDir: join(dataDir, 'ferretdb'),
        port: FERRETDB_PORT,
        logFile: join(dataDir, 'ferretdb.log'),
      }),
    );
    mongodbUri = `mongodb://127.0.0.1:${FERRETDB_PORT}/`;
    log(`FerretDB (SQLite in ${join(dataDir, 'ferretdb')}) on ${mongodbUri}`);
  } else {
    log(`using MongoDB at ${mongodbUri}`);
  }

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    services.push(
      await startTemporalDevServer({
        binary: paths.temporal,
        port: TEMPORAL_PORT,
        uiPort: TEMPORAL_UI_PORT,
        dbFile: join(dataDir, 'temporal.db'),
        logFile: join(dataDir, 'temporal.log'),
      }),
    );
    temporalAddress = `127.0.0.1:${TEMPORAL_PORT}`;
    log(`Temporal dev server on ${temporalAddress} (history in ${join(dataDir, 'temporal.db')})`);
  } else {
    log(`using Temporal at ${temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`);
  }

  const database = await connectDatabase(mongodbUri, config.MONGODB_DB);
  await ensureIndexes(database.db);
  const { created } = await ensureDefaultOrganization(database.db, join(dataDir, 'default-api-key'));
  await database.close();
  writeFileSync(
    join(dataDir, 'stack.json'),
    JSON.stringify({ mongodbUri, temporalAddress, port: config.PORT }, null, 2),
  );

  const env = { ...process.env, MONGODB_URI: mongodbUri, TEMPORAL_ADDRESS: temporalAddress };
  const dist = resolve(__dirname, '..');
  children.push({ name: 'worker', child: startNode('worker', join(dist, 'worker', 'main.js'), env) });
  const api = startNode('api', join(dist, 'api', 'main.js'), env);
  children.push({ name: 'api', child: api });
  await waitForPort(config.PORT, 30_000, api);

  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  log(
    `API          http://${config.HOST}:${config.PORT}/api/v1   (health: http://${config.HOST}:${config.PORT}/health)`,
  );
  if (!process.env.TEMPORAL_ADDRESS) log(`Temporal UI  http://127.0.0.1:${TEMPORAL_UI_PORT}`);
  // The key itself is never printed: terminal output ends up in logs. The file is mode 0600.
  log(
    `${created ? 'new default organization' : 'default organization'}: \`npm run -s api-key\` prints its API key`,
  );
  log(describeDestinationPolicy(webhookDestinationPolicy(config)));
  log('Ctrl-C stops everything.');
}

main().catch(async (err) => {
  console.error(`[prorata] failed to start: ${(err as Error).message}`);
  await stopAll(1);
});
