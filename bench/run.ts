/**
 * `npm run bench -- <name> [args]`: runs one benchmark, prints its figures and appends them to
 * BENCHMARKS.md with the machine, date and commit. Benchmarks are never part of `npm test`.
 * Progress goes to stderr; the figures (stdout) go to BENCHMARKS.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { clearOfMonthEnd } from '../scripts/clear-of-month-end';

const BENCHMARKS: Record<string, { script: string; what: string; stack?: boolean }> = {
  billing: {
    script: 'billing-current-usage.js',
    what: 'billing core: current usage of 10,000 seats / 100,000 events (target < 200 ms), simulate 1,000 subscriptions x 12 months',
  },
  ingest: {
    script: 'ingest.js',
    what: 'events accepted per second through POST /events and /events/batch over 10, 100 and 1,000 subscriptions; baselines: raw MongoDB inserts and raw Temporal signals',
    stack: true,
  },
  'current-usage': {
    script: 'current-usage.js',
    what: 'GET current_usage at 200 req/s and at saturation for 10, 1,000 and 10,000 active seats; baseline: a query to a trivial workflow on the same worker',
    stack: true,
  },
  'billing-day': {
    script: 'billing-day.js',
    what: 'N subscriptions whose periods closed at the same instant: time until every invoice is stored, invoices/s, worker peak memory; baseline: N workflows of one timer, one activity and continue-as-new',
    stack: true,
  },
  scale: {
    script: 'scale.js',
    what: 'hot paths at 1,000, 10,000 and 100,000 customers (1,000,000 stored events, 100,000 invoices at the largest): p50/p99 through the API and the ratio largest / smallest',
    stack: true,
  },
  'db-size': {
    script: 'db-size.js',
    what: 'point operations on a small collection while another grows to 1,000,000 documents: does a write or read by _id cost more in a larger FerretDB/SQLite database? (profile of the scale benchmark)',
  },
  'big-subscription': {
    script: 'big-subscription.js',
    what: 'one subscription receiving 100,000 seat events in a period: history per run, continue-as-new count, query latency, worker memory',
    stack: true,
  },
};

/** The benchmark worker's workflow bundle: prorata's workflows and the baselines (bench/workflows.ts). */
async function bundleBenchWorkflows(): Promise<void> {
  const { BENCH_WORKFLOW_BUNDLE } = await import('./worker');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
  });
  writeFileSync(BENCH_WORKFLOW_BUNDLE, code);
}

const root = join(__dirname, '..', '..');
const file = join(root, 'BENCHMARKS.md');

async function main(): Promise<number> {
  const name = process.argv[2];
  const bench = name ? BENCHMARKS[name] : undefined;
  if (!bench) {
    console.error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}>`);
    return 2;
  }
  if (bench.stack) {
    // Stack benchmarks check their figures against `prorata simulate` as of now: none may run
    // across a month boundary.
    await clearOfMonthEnd(30 * 60_000);
    await bundleBenchWorkflows();
  }
  const run = spawnSync(process.execPath, [join(__dirname, bench.script), ...process.argv.slice(3)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  process.stdout.write(run.stdout);
  if (run.status !== 0) return run.status ?? 1;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  if (!existsSync(file)) {
    writeFileSync(
      file,
      '# Benchmarks\n\nFigures appended by `npm run bench -- <name>` (see bench/). Newest last.\n',
    );
  }
  appendFileSync(
    file,
    `\n## ${name} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}\n\n` +
      `${bench.what}. Machine: ${machine}.\n\n` +
      run.stdout
        .trim()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n') +
      '\n',
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
