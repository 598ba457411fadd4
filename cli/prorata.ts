/**
 * The `prorata` command (bin/prorata.js runs the compiled copy): subcommands dispatch here.
 */
import { readFileSync } from 'node:fs';
import { runSimulate, SIMULATE_USAGE, type CliIo } from './simulate';

const USAGE = [
  'usage: prorata <command> [options]',
  '',
  'commands:',
  `  simulate   ${SIMULATE_USAGE.replace('usage: prorata simulate ', '')}`,
  '',
].join('\n');

export function runProrata(argv: readonly string[], io: CliIo): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'simulate':
      return runSimulate(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path, 'utf8'),
  readStdin: () => readFileSync(0, 'utf8'),
};

if (require.main === module) {
  process.exitCode = runProrata(process.argv.slice(2), processIo);
}
