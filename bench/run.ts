/**
 * `npm run bench -- <name>`: runs one benchmark, prints its figures and appends them to
 * BENCHMARKS.md with the machine, date and commit. Benchmarks are never part of `npm test`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const BENCHMARKS: Record<string, { script: string; what: string }> = {
  billing: {
    script: 'billing-current-usage.js',
    what: 'billing core: current usage of 10,000 seats / 100,000 events (target < 200 ms), simulate 1,000 subscriptions x 12 months',
  },
};

const root = join(__dirname, '..', '..');
const file = join(root, 'BENCHMARKS.md');

function main(): number {
  const name = process.argv[2];
  const bench = name ? BENCHMARKS[name] : undefined;
  if (!bench) {
    console.error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}>`);
    return 2;
  }
  const run = spawnSync(process.execPath, [join(__dirname, bench.script)], { encoding: 'utf8' });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
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

process.exit(main());
