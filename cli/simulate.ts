/**
 * `prorata simulate <scenario.json | ->  [--format json|table] [--explain]`
 *
 * Bills a scenario offline with the same functions the subscription workflow uses, and prints the
 * invoices, the current usage at `as_of` and the wallets. Invalid input: exit code 2, every problem
 * with its JSON path on stderr, nothing on stdout.
 */
import {
  Dec,
  formatQuantity,
  minorToAmount,
  minorUnitsOf,
  simulate,
  simulationOutput,
  isoSeconds,
  type ChargeFee,
  type Fee,
  type SimulationResult,
} from '../src/billing';
import { parseScenario } from '../src/contracts/scenario';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
  readStdin(): string;
}

export const SIMULATE_USAGE = 'usage: prorata simulate <scenario.json | -> [--format json|table] [--explain]';

interface SimulateOptions {
  source: string;
  format: 'json' | 'table';
  explain: boolean;
}

function parseArgs(args: readonly string[]): SimulateOptions | string {
  let source: string | null = null;
  let format: 'json' | 'table' = 'json';
  let explain = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--explain') explain = true;
    else if (arg === '--format' || arg.startsWith('--format=')) {
      const value = arg === '--format' ? args[(i += 1)] : arg.slice('--format='.length);
      if (value !== 'json' && value !== 'table')
        return `--format must be json or table, not ${value ?? 'nothing'}`;
      format = value;
    } else if (arg === '-' || !arg.startsWith('-')) {
      if (source !== null) return `one scenario at a time (got ${source} and ${arg})`;
      source = arg;
    } else return `unknown option ${arg}`;
  }
  if (source === null) return 'which scenario? give a file name, or - for stdin';
  return { source, format, explain };
}

/** Runs the command; returns the exit code. */
export function runSimulate(args: readonly string[], io: CliIo): number {
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.stderr(`${options}\n${SIMULATE_USAGE}\n`);
    return 2;
  }
  let text: string;
  try {
    text = options.source === '-' ? io.readStdin() : io.readFile(options.source);
  } catch (error) {
    io.stderr(`cannot read ${options.source}: ${(error as Error).message}\n`);
    return 2;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    io.stderr(`$: not valid JSON: ${(error as Error).message}\n`);
    return 2;
  }
  const parsed = parseScenario(json);
  if (!parsed.ok) {
    io.stderr(parsed.problems.map((problem) => `${problem.path}: ${problem.message}\n`).join(''));
    return 2;
  }
  const result = simulate(parsed.input, { explain: options.explain });
  if (options.format === 'json') {
    io.stdout(JSON.stringify(simulationOutput(result, parsed.input.metrics), null, 2) + '\n');
  } else {
    io.stdout(simulationTable(result, options.explain));
  }
  return 0;
}

function money(cents: number, currency: string): string {
  return `${minorToAmount(cents, currency).toFixed(minorUnitsOf(currency))} ${currency}`;
}

function creditText(value: string): string {
  return formatQuantity(new Dec(value));
}

function feeLine(fee: Fee): string {
  if (fee.feeType === 'subscription') {
    const label = fee.inAdvance ? `${fee.planCode} (in advance)` : fee.planCode;
    return [
      '  fee subscription'.padEnd(20),
      label.padEnd(28),
      `days ${fee.usedDays}/${fee.durationDays}`.padEnd(18),
      `${isoSeconds(fee.fromAt)} → ${isoSeconds(fee.toAt)}`.padEnd(46),
      `amount ${money(fee.amountCents, fee.currency)}`,
    ].join('');
  }
  return chargeLine('  fee charge', fee);
}

function chargeLine(prefix: string, fee: ChargeFee): string {
  const days = fee.seatDays === null ? '' : `seat-days ${fee.seatDays}/${fee.durationDays}`;
  return [
    prefix.padEnd(20),
    `${fee.chargeCode} (${fee.billableMetricCode})${fee.payInAdvance ? ' in advance' : ''}`.padEnd(28),
    `units ${fee.units}`.padEnd(14),
    (fee.proratedUnits === null ? '' : `prorated ${fee.proratedUnits}`).padEnd(20),
    days.padEnd(20),
    `events ${fee.eventsCount}`.padEnd(12),
    `amount ${money(fee.amountCents, fee.currency)}`,
  ].join('');
}

function seatLines(fee: ChargeFee): string[] {
  return (fee.seats ?? []).map((seat) => {
    const stints = seat.stints.map((stint) =>
      stint.fromLocalDate === stint.toLocalDate
        ? `${stint.fromLocalDate} (1)`
        : `${stint.fromLocalDate}..${stint.toLocalDate} (${stint.days})`,
    );
    return `      seat ${seat.seatKey.padEnd(16)} ${stints.length > 0 ? stints.join(', ') : 'no day'}  = ${seat.days} ${seat.days === 1 ? 'day' : 'days'}${seat.activeAtEnd ? ', active at end' : ''}`;
  });
}

/** One line per invoice and fee; with `explain`, one line per seat (stints and days). */
export function simulationTable(result: SimulationResult, explain: boolean): string {
  const lines: string[] = [];
  for (const { invoice, number, credits } of result.invoices) {
    lines.push(
      [
        `invoice ${number}`.padEnd(22),
        invoice.status.padEnd(10),
        invoice.invoicingReason.padEnd(26),
        `${isoSeconds(invoice.fromAt)} → ${isoSeconds(invoice.toAt)}`.padEnd(46),
        `issued ${invoice.issuingLocalDate}`.padEnd(19),
        `fees ${money(invoice.feesAmountCents, invoice.currency)}`.padEnd(20),
        `credits ${money(invoice.prepaidCreditAmountCents, invoice.currency)}`.padEnd(23),
        `total ${money(invoice.totalAmountCents, invoice.currency)}`.padEnd(20),
        invoice.paymentStatus,
      ].join(''),
    );
    for (const fee of invoice.fees) {
      lines.push(feeLine(fee));
      if (explain && fee.feeType === 'charge') lines.push(...seatLines(fee));
    }
    if (explain) {
      for (const take of credits) {
        lines.push(
          `  credits from wallet ${take.walletCode}: ${money(take.amountCents, invoice.currency)} (${creditText(take.creditAmount)} credits)`,
        );
      }
    }
  }
  const usage = result.currentUsage;
  if (usage) {
    lines.push(
      [
        'current usage'.padEnd(58),
        `${isoSeconds(usage.fromAt)} → ${isoSeconds(usage.toAt)}`.padEnd(46),
        `issuing ${usage.issuingLocalDate}`.padEnd(19),
        `amount ${money(usage.amountCents, usage.currency)}`,
      ].join(''),
    );
    for (const fee of usage.charges) {
      lines.push(chargeLine('  charge', fee));
      if (explain) lines.push(...seatLines(fee));
    }
  } else {
    lines.push(`current usage: none (subscription ${result.status})`);
  }
  for (const wallet of result.wallets) {
    lines.push(
      [
        `wallet ${wallet.code}`.padEnd(22),
        wallet.status.padEnd(12),
        `credits ${creditText(wallet.creditsBalance)}`.padEnd(24),
        `balance ${money(wallet.balanceCents, wallet.currency)}`.padEnd(26),
        `consumed ${creditText(wallet.consumedCredits)} credits`,
      ].join(''),
    );
  }
  if (explain) {
    for (const ignored of result.ignoredEvents)
      lines.push(`ignored event ${ignored.transactionId}: ${ignored.reason}`);
  }
  return lines.map((line) => line.trimEnd()).join('\n') + '\n';
}
