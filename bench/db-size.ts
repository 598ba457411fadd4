/**
 * db-size (issue #13, profile of the scale benchmark): does a point operation on a *small*
 * collection cost more once the database around it is large? The scale benchmark's write paths
 * (subscription create, event POST, every billing-day activity) grew with the data while its reads
 * by `_id` did not; this isolates the database from prorata's code. On one FerretDB (the configured
 * binary, SQLite), it measures, one at a time, p50/p99 of: insertOne into a small collection,
 * updateOne by `_id` there, findOne by `_id` there, and findOne by `_id` in the big collection; then
 * grows one other collection by the given steps (documents shaped like stored events, inserted 1,000
 * per insertMany) and measures again at each size.
 *
 * Args: [sizes of the big collection = 0,100000,1000000] [samples = 300]
 */
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadConfig, servicePaths } from '../src/config';
import { freePort, startFerretDb } from '../scripts/services';
import { percentile, table } from './support/measure';

const SIZES = (process.argv[2] ?? '0,100000,1000000').split(',').map(Number);
const SAMPLES = Number(process.argv[3] ?? 300);

async function timed(count: number, op: (i: number) => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await op(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

function dirMiB(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / 2 ** 20;
}

async function main(): Promise<void> {
  const paths = servicePaths(loadConfig());
  const dir = mkdtempSync(join(tmpdir(), 'prorata-bench-dbsize-'));
  const port = await freePort();
  const ferret = await startFerretDb({ binary: paths.ferretdb, dataDir: dir, port });
  const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}/`);
  try {
    const db = client.db('dbsize');
    const small = db.collection<{ _id: string; n: number }>('small');
    const big = db.collection<{ _id: string; [k: string]: unknown }>('big');
    const rows: (string | number)[][] = [];
    let loaded = 0;
    let round = 0;
    for (const size of SIZES) {
      for (; loaded < size; loaded += 1000) {
        const docs = Array.from({ length: Math.min(1000, size - loaded) }, (_, k) => ({
          _id: `e-${String(loaded + k).padStart(9, '0')}`,
          organization_id: 'org',
          external_subscription_id: `sub_${(loaded + k) % 100_000}`,
          transaction_id: `t${loaded + k}`,
          code: 'seats',
          timestamp: new Date(),
          properties_json: JSON.stringify({ user_id: `u${(loaded + k) % 10}`, operation_type: 'add' }),
          created_at: new Date(),
          delivered_at: new Date(),
          problems: [],
        }));
        await big.insertMany(docs, { ordered: false });
      }
      loaded = size;
      console.error(
        `[db-size] ${size} documents in the big collection, ${dirMiB(dir).toFixed(0)} MiB on disk`,
      );
      const tag = `r${round++}`;
      const insert = await timed(SAMPLES, (i) => small.insertOne({ _id: `${tag}-${i}`, n: i }));
      const update = await timed(SAMPLES, (i) =>
        small.updateOne({ _id: `${tag}-${i}` }, { $set: { n: -i } }),
      );
      const read = await timed(SAMPLES, (i) => small.findOne({ _id: `${tag}-${i}` }));
      const bigRead =
        size > 0
          ? await timed(SAMPLES, (i) =>
              big.findOne({ _id: `e-${String((i * 7919) % size).padStart(9, '0')}` }),
            )
          : { p50: 0, p99: 0 };
      rows.push([
        size,
        Number(dirMiB(dir).toFixed(0)),
        insert.p50,
        insert.p99,
        update.p50,
        update.p99,
        read.p50,
        read.p99,
        bigRead.p50,
        bigRead.p99,
      ]);
    }
    console.log(
      `FerretDB on SQLite (${paths.ferretdb}); ${SAMPLES} operations one at a time per figure, ms; the small ` +
        `collection holds at most ${SAMPLES * SIZES.length} documents, the big one grows.\n`,
    );
    console.log(
      table([
        [
          'big collection',
          'MiB on disk',
          'insert p50',
          'insert p99',
          'update by _id p50',
          'update p99',
          'find by _id p50',
          'find p99',
          'big find by _id p50',
          'big find p99',
        ],
        ...rows,
      ]),
    );
  } finally {
    await client.close();
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
