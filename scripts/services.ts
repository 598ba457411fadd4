/**
 * Starting the locally built real services as child processes: FerretDB (MongoDB wire protocol on
 * SQLite) and the Temporal CLI dev server. Used by `npm start` (scripts/dev-stack.ts), the test
 * helpers and the benchmarks; each caller chooses ports and data folders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { existsSync, mkdirSync, createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { customSearchAttributes } from '../src/temporal/search-attributes';

export interface RunningService {
  name: string;
  process: ChildProcess;
  /** Stops the service (SIGTERM, then SIGKILL after `graceMs`) and resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((ok) => {
      const s = new Socket();
      s.once('connect', () => (s.destroy(), ok(true)));
      s.once('error', () => (s.destroy(), ok(false)));
      s.connect(port, '127.0.0.1');
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function requireExecutable(path: string, what: string): void {
  if (!existsSync(path)) {
    throw new Error(`${what} not found at ${path}: run \`npm run setup\` (scripts/install-services.sh)`);
  }
}

function spawnService(name: string, cmd: string, args: string[], logFile?: string): RunningService {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (logFile) {
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  return {
    name,
    process: child,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface FerretDbOptions {
  binary: string;
  dataDir: string;
  port: number;
  logFile?: string;
}

/** FerretDB on SQLite; resolves once it accepts connections. URI: mongodb://127.0.0.1:<port>/ */
export async function startFerretDb(o: FerretDbOptions): Promise<RunningService> {
  requireExecutable(o.binary, 'FerretDB');
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const svc = spawnService(
    'ferretdb',
    o.binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${o.port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=WARN',
    ],
    o.logFile,
  );
  try {
    await waitForPort(o.port, 20_000, svc.process);
  } catch (err) {
    await svc.stop();
    throw new Error(`FerretDB did not start: ${(err as Error).message}`);
  }
  return svc;
}

export interface TimeSkippingServerOptions {
  binary: string;
  port: number;
  logFile?: string;
}

/**
 * Temporal's Java time-skipping test server; resolves once it listens. The SDK's own launcher gives
 * it 5 s, which a JVM misses on a busy 2-core machine or under libfaketime (`npm run test:dates`),
 * so tests start it here, with a minute to listen, and connect to it.
 */
export async function startTimeSkippingServer(o: TimeSkippingServerOptions): Promise<RunningService> {
  requireExecutable(o.binary, 'Temporal test server');
  const svc = spawnService('temporal-test-server', o.binary, [String(o.port)], o.logFile);
  try {
    await waitForPort(o.port, 60_000, svc.process);
  } catch (err) {
    await svc.stop(1_000);
    throw new Error(`Temporal test server did not start: ${(err as Error).message}`);
  }
  return svc;
}

export interface TemporalDevServerOptions {
  binary: string;
  port: number;
  uiPort?: number; // omitted: headless
  dbFile?: string; // omitted: in memory
  dynamicConfig?: Record<string, string | number | boolean>;
  logFile?: string;
}

/** SearchAttributeType (e.g. KEYWORD, KEYWORD_LIST) as the CLI's `--search-attribute` type name (Keyword, KeywordList). */
function cliAttributeType(type: string): string {
  return type
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** The Temporal CLI dev server with prorata's search attributes registered. */
export async function startTemporalDevServer(o: TemporalDevServerOptions): Promise<RunningService> {
  requireExecutable(o.binary, 'Temporal CLI');
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--log-level', 'warn'];
  if (o.uiPort) args.push('--ui-port', String(o.uiPort));
  else args.push('--headless');
  if (o.dbFile) {
    mkdirSync(resolve(o.dbFile, '..'), { recursive: true });
    args.push('--db-filename', resolve(o.dbFile));
  }
  for (const key of customSearchAttributes)
    args.push('--search-attribute', `${key.name}=${cliAttributeType(key.type)}`);
  for (const [k, v] of Object.entries(o.dynamicConfig ?? {}))
    args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  const svc = spawnService('temporal', o.binary, args, o.logFile);
  try {
    await waitForPort(o.port, 60_000, svc.process);
    if (o.uiPort) await waitForPort(o.uiPort, 30_000, svc.process);
  } catch (err) {
    await svc.stop();
    throw new Error(`Temporal dev server did not start: ${(err as Error).message}`);
  }
  return svc;
}
