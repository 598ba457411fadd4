/**
 * A benchmark's own stack on free ports: FerretDB on a temp folder (or a fresh database on
 * MONGODB_URI, for real MongoDB figures), the Temporal dev server, the benchmark worker
 * (bench/worker.ts: prorata's worker plus the baselines) and the API as child processes, and a
 * Temporal client and MongoDB connection for the baselines. Everything stops with `stop()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, servicePaths } from '../../src/config';
import { connectDatabase } from '../../src/store/database';
import { freePort, startFerretDb } from '../../scripts/services';
import { startProcessStack, type ProcessStack, type StackMongo } from '../../scripts/process-stack';

export interface BenchStack extends ProcessStack {
  client: Client;
  /** Which MongoDB served the run, for the report. */
  mongoKind: string;
}

async function benchMongo(): Promise<StackMongo & { kind: string }> {
  const config = loadConfig();
  const dbName = `prorata_bench_${randomUUID().slice(0, 8)}`;
  if (config.MONGODB_URI) {
    const database = await connectDatabase(config.MONGODB_URI, dbName);
    return {
      kind: 'MongoDB at MONGODB_URI',
      uri: config.MONGODB_URI,
      dbName,
      db: database.db,
      async stop() {
        await database.db.dropDatabase().catch(() => undefined);
        await database.close();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'prorata-bench-ferretdb-'));
  const port = await freePort();
  const ferret = await startFerretDb({
    binary: servicePaths(config).ferretdb,
    dataDir: dir,
    port,
    logFile: join(dir, 'ferretdb.log'),
  });
  const uri = `mongodb://127.0.0.1:${port}/`;
  const database = await connectDatabase(uri, dbName);
  return {
    kind: 'FerretDB 1.24 on SQLite',
    uri,
    dbName,
    db: database.db,
    async stop() {
      await database.close().catch(() => undefined);
      await ferret.stop();
      if (process.env.PRORATA_KEEP_DRILL_LOGS) console.error(`[bench] FerretDB log kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBenchStack(
  options: { worker?: boolean; workerEnv?: Record<string, string> } = {},
): Promise<BenchStack> {
  let kind = '';
  const stack = await startProcessStack({
    label: 'bench',
    workerScript: 'bench/worker.js',
    worker: options.worker,
    // Benchmarks measure the engine past any contract: the per-organization rate limits are off.
    env: {
      worker: options.workerEnv ?? {},
      api: {
        PRORATA_RATE_LIMIT_EVENTS: '0',
        PRORATA_RATE_LIMIT_CURRENT_USAGE: '0',
        PRORATA_RATE_LIMIT_DEFAULT: '0',
      },
    },
    mongo: async () => {
      const m = await benchMongo();
      kind = m.kind;
      return m;
    },
  });
  // Histories of a big subscription's runs are larger than gRPC's default 4 MiB answer.
  const connection = await Connection.connect({
    address: stack.temporalAddress,
    channelArgs: { 'grpc.max_receive_message_length': 256 * 2 ** 20 },
  });
  const client = new Client({ connection });
  const stop = stack.stop;
  return Object.assign(stack, {
    client,
    mongoKind: kind,
    async stop() {
      await connection.close().catch(() => undefined);
      await stop();
    },
  });
}

/** A process's resident memory now and at its peak (VmHWM), in MiB, from /proc. */
export function processMemory(pid: number | undefined): { rssMiB: number; peakMiB: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Linux's USER_HZ on every kernel this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in ms, from /proc; null once it is gone. */
function processCpuMs(pid: number): number | null {
  try {
    // Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
/**
 * Waits until the worker and the API have each been nearly idle (under `maxShare` of one core) for
 * `quietMs`: the workflow tasks and activities that earlier steps left behind (new workflows
 * starting, usage reports after deliveries) and the API's own background work (deliveries, the
 * event counts it flushes after an ingest) are done, so a measurement and its baseline both start
 * on a quiet machine instead of sharing it with whatever setup left running. Returns the ms waited;
 * gives up (and says so) after `timeoutMs`.
 */
export async function untilStackQuiet(
  stack: BenchStack,
  options: { maxShare?: number; quietMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const { maxShare = 0.05, quietMs = 2_000, timeoutMs = 180_000 } = options;
  const pids = (['worker', 'api'] as const)
    .map((name) => stack.pid(name))
    .filter((pid): pid is number => pid !== undefined);
  const started = performance.now();
  const step = 500;
  let quietFor = 0;
  let last = pids.map(processCpuMs);
  while (pids.length > 0 && !last.includes(null) && quietFor < quietMs) {
    if (performance.now() - started > timeoutMs) {
      console.error(`[bench] the worker or the API was still busy after ${timeoutMs} ms: measuring anyway`);
      break;
    }
    await new Promise((r) => setTimeout(r, step));
    const now = pids.map(processCpuMs);
    if (now.includes(null)) break;
    const quiet = now.every((ms, i) => ms! - last[i]! <= maxShare * step);
    quietFor = quiet ? quietFor + step : 0;
    last = now;
  }
  return performance.now() - started;
}
