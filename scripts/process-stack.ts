/**
 * The prorata stack as separate processes, for fault drills and benchmarks: the Temporal dev server
 * on a SQLite file (restartable on the same port with its data), a MongoDB the caller brings, and
 * the worker and the API as `node dist/...` children, as `npm start` runs them, so a drill can
 * kill -9 either one and start it again and a benchmark can read their memory. Needs
 * `npm run build` (dist/ and the workflow bundle). With PRORATA_KEEP_DRILL_LOGS=1 the children's
 * logs and the Temporal database stay in the temp folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Db } from 'mongodb';
import { loadConfig, servicePaths } from '../src/config';
import { ensureIndexes } from '../src/store/indexes';
import { createOrganization } from '../src/store/organizations';
import { freePort, startTemporalDevServer, waitForPort, type RunningService } from './services';

/** dist/ whether this file runs compiled (dist/scripts/) or from source under jest (scripts/). */
const DIST = __dirname.endsWith(join('dist', 'scripts'))
  ? resolve(__dirname, '..')
  : resolve(__dirname, '..', 'dist');

/** A MongoDB database the stack uses; `stop` runs when the stack stops. */
export interface StackMongo {
  uri: string;
  dbName: string;
  db: Db;
  stop(): Promise<void>;
}

export type ChildName = 'worker' | 'api';

export interface ProcessStack<M extends StackMongo = StackMongo> {
  dir: string;
  mongo: M;
  db: Db;
  temporalAddress: string;
  taskQueue: string;
  baseUrl: string;
  apiKey: string;
  organizationId: string;
  /** Starts the worker or the API child (again); resolves once it polls or listens. */
  start(name: ChildName): Promise<void>;
  /** kill -9, resolves once the process is gone. */
  kill(name: ChildName): Promise<void>;
  /** Whether the child is running (false once it exited, for whatever reason). */
  alive(name: ChildName): boolean;
  /** The Temporal dev server: stop (SIGTERM) and start again on the same port and database file. */
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  /** The child's process id while it runs (benchmarks read its memory in /proc). */
  pid(name: ChildName): number | undefined;
  /** The last lines a child printed (for failure messages). */
  output(name: ChildName, lines?: number): string;
  stop(): Promise<void>;
}

interface Child {
  process: ChildProcess;
  exited: Promise<void>;
  lines: string[];
}

/** Where a started child says it is ready. */
const READY: Record<ChildName, RegExp> = {
  worker: /\[worker\] polling task queue/,
  api: /\[api\] listening on/,
};

export interface ProcessStackOptions<M extends StackMongo> {
  /** The database; stopped with the stack. */
  mongo: () => Promise<M>;
  /** Start the worker at once (default); false: the caller starts it with `start('worker')`. */
  worker?: boolean;
  /** The worker's script under dist/ (default worker/main.js; the benchmarks run bench/worker.js). */
  workerScript?: string;
  /** Extra environment of a child (e.g. WORKER_MAX_CONCURRENT_ACTIVITIES for the worker). */
  env?: Partial<Record<ChildName, Record<string, string>>>;
  /** Prefix of the temp folder (logs, Temporal database). */
  label?: string;
}

export async function startProcessStack<M extends StackMongo>(
  options: ProcessStackOptions<M>,
): Promise<ProcessStack<M>> {
  const scripts: Record<ChildName, string> = {
    worker: options.workerScript ?? 'worker/main.js',
    api: 'api/main.js',
  };
  for (const script of [scripts.worker, scripts.api, 'workflow-bundle.js']) {
    if (!existsSync(join(DIST, script))) throw new Error(`dist/${script} is missing: run npm run build`);
  }
  const paths = servicePaths(loadConfig());
  const dir = mkdtempSync(join(tmpdir(), `prorata-${options.label ?? 'stack'}-`));
  const [temporalPort, apiPort] = [await freePort(), await freePort()];
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  const taskQueue = `prorata-${options.label ?? 'stack'}`;
  const startTemporal = () =>
    startTemporalDevServer({
      binary: paths.temporal,
      port: temporalPort,
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
    });
  let temporal: RunningService | null = null;
  let mongo: M | null = null;
  const children = new Map<ChildName, Child>();

  async function killChild(name: ChildName): Promise<void> {
    const child = children.get(name);
    if (!child) return;
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }

  async function stopAll(): Promise<void> {
    await Promise.all([killChild('worker'), killChild('api')]);
    await Promise.allSettled([temporal?.stop(), mongo?.stop()]);
    if (process.env.PRORATA_KEEP_DRILL_LOGS) console.log(`[stack] logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  try {
    [temporal, mongo] = await Promise.all([startTemporal(), options.mongo()]);
    const db = mongo.db;
    await ensureIndexes(db);
    const { organization, apiKey } = await createOrganization(db, 'Acme Billing');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MONGODB_URI: mongo.uri,
      MONGODB_DB: mongo.dbName,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
    };

    async function start(name: ChildName): Promise<void> {
      if (children.has(name) && stack.alive(name)) throw new Error(`${name} is already running`);
      const proc = spawn(process.execPath, [join(DIST, scripts[name])], {
        env: { ...env, ...options.env?.[name] },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
      const child: Child = {
        process: proc,
        exited: new Promise((ok) => proc.once('exit', () => ok())),
        lines: [],
      };
      children.set(name, child);
      // Should this test process die without its afterAll, the children die with it.
      const orphanGuard = () => proc.kill('SIGKILL');
      process.once('exit', orphanGuard);
      void child.exited.then(() => process.removeListener('exit', orphanGuard));
      const ready = new Promise<void>((ok, fail) => {
        const onData = (chunk: Buffer) => {
          log.write(chunk);
          for (const line of chunk.toString('utf8').split('\n')) {
            if (line === '') continue;
            child.lines.push(line);
            if (child.lines.length > 200) child.lines.shift();
            if (READY[name].test(line)) ok();
          }
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', (code, signal) =>
          fail(new Error(`${name} exited (${signal ?? code}) before it was ready`)),
        );
      });
      const timeout = new Promise<never>((_, fail) => {
        const t = setTimeout(() => fail(new Error(`${name} not ready within 60 s`)), 60_000);
        void child.exited.then(() => clearTimeout(t));
        void ready.then(
          () => clearTimeout(t),
          () => clearTimeout(t),
        );
      });
      try {
        await Promise.race([ready, timeout]);
        if (name === 'api') await waitForPort(apiPort, 10_000, proc);
      } catch (err) {
        await killChild(name);
        throw new Error(`${(err as Error).message}\n${stack.output(name)}`);
      }
    }

    const stack: ProcessStack<M> = {
      dir,
      mongo,
      db,
      temporalAddress,
      taskQueue,
      baseUrl: `http://127.0.0.1:${apiPort}/api/v1`,
      apiKey,
      organizationId: organization._id,
      start,
      kill: killChild,
      alive(name) {
        const child = children.get(name);
        return !!child && child.process.exitCode === null && child.process.signalCode === null;
      },
      async stopTemporal() {
        await temporal?.stop();
        temporal = null;
      },
      async startTemporal() {
        if (temporal) throw new Error('the Temporal dev server is already running');
        temporal = await startTemporal();
      },
      pid(name) {
        return stack.alive(name) ? children.get(name)!.process.pid : undefined;
      },
      output(name, lines = 40) {
        return (children.get(name)?.lines ?? []).slice(-lines).join('\n');
      },
      stop: stopAll,
    };
    if (options.worker !== false) await start('worker');
    await start('api');
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
