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
