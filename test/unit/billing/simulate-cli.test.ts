import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProrata } from '../../../cli/prorata';
import type { CliIo } from '../../../cli/simulate';
import type { SimulationOutput } from '../../../src/billing';

const scenarios = join(__dirname, '..', '..', 'fixtures', 'scenarios');

function cli(args: string[], stdin = ''): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: (path) => readFileSync(path, 'utf8'),
    readStdin: () => stdin,
  };
  const code = runProrata(args, io);
  return { code, stdout, stderr };
}

function simulateJson(scenario: unknown): SimulationOutput {
  const result = cli(['simulate', '-'], JSON.stringify(scenario));
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as SimulationOutput;
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(scenarios, name), 'utf8')) as Record<string, unknown>;
}

describe('prorata simulate: the Lago example scenario', () => {
  it('bills June from 06-05 (u1 from 06-11: 20/30 → 667) and July in full (1000), paid by the wallet', () => {
    // Europe/Paris, calendar monthly, $10 per seat, started 2024-06-05T00:00Z (02:00 in Paris, so June 5).
    // June: D = 30, u1 counts 06-11..06-30 = 20 days → ceil5(20/30) = 0.66667 → $6.6667 → 667 cents.
    // July: u1 carried over, 31/31 → 1000 cents. August (current usage at 08-01 02:00 Paris): 31/31 → 1000.
    // Wallet: 50 credits at $1 → 5000 − 667 − 1000 = 3333 cents = 33.33 credits.
    const { code, stdout, stderr } = cli(['simulate', join(scenarios, 'lago-example.json')]);
    expect([code, stderr]).toEqual([0, '']);
    const output = JSON.parse(stdout) as SimulationOutput;
    expect(
      output.invoices.map((invoice) => [
        invoice.number,
        invoice.issuing_date,
        invoice.from_datetime,
        invoice.to_datetime,
        invoice.fees_amount_cents,
        invoice.prepaid_credit_amount_cents,
        invoice.total_amount_cents,
      ]),
    ).toEqual([
      ['ACM-001-001', '2024-07-01', '2024-06-05T00:00:00Z', '2024-06-30T21:59:59Z', 667, 667, 0],
      ['ACM-001-002', '2024-08-01', '2024-06-30T22:00:00Z', '2024-07-31T21:59:59Z', 1000, 1000, 0],
    ]);
    expect(output.invoices[0]?.fees[1]).toMatchObject({
      fee_type: 'charge',
      charge_code: 'seat_fee',
      billable_metric_code: 'seats',
      charges_duration: 30,
      units: '1.0',
      prorated_units: '0.66667',
      events_count: 1,
      amount_cents: 667,
    });
    expect(output.current_usage).toMatchObject({
      from_datetime: '2024-07-31T22:00:00Z',
      to_datetime: '2024-08-31T21:59:59Z',
      issuing_date: '2024-08-31',
      amount_cents: 1000,
      charges_usage: [{ units: '1.0', prorated_units: '1.0', events_count: 0, amount_cents: 1000 }],
    });
    expect(output.wallets[0]).toMatchObject({
      code: 'prepaid',
      credits_balance: '33.33',
      balance_cents: 3333,
    });
  });
});

describe('prorata simulate: the Notion-style Team plan (seed scenario)', () => {
  // America/New_York, calendar monthly, $10 per user per month, started 2024-01-01 00:00 local.
  //
  // January (D = 31; alice was added on Dec 20, before the subscription: she counts from Jan 1):
  //   alice 01-01..01-31 = 31, bob 01-01..01-15 = 15 (removed 01-16T03:30Z = 22:30 on Jan 15 local),
  //   carol 01-10..01-31 = 22 (her duplicate transaction_id is refused), dave 01-20..01-31 = 12
  //   (removed and re-added on Jan 25: same local day, no gap). Σ = 80 → ceil5(80/31) = 2.58065
  //   → $25.8065 → 2581 cents; units = alice, carol, dave = "3.0"; 6 events in January.
  // February (D = 29, leap year): alice 29, carol 02-01..02-14 = 14, dave 29, erin 02-29 (added at
  //   18:30 local) = 1. Σ = 73 → ceil5(73/29) = 2.51725 → $25.1725 → 2517; units "3.0"; 2 events
  //   (the api_calls event is for an unknown metric and never bills).
  // March (D = 31, DST starts Mar 10): alice 31, erin 31, dave 03-01..03-09 = 9 (removed 22:30 EST
  //   on Mar 9, the eve of the spring-forward: 9 days, Lago would say 10), bob 03-20..03-31 = 12.
  //   Σ = 83 → ceil5(83/31) = 2.67742 → $26.7742 → 2677; units "3.0"; 2 events.
  // April, current usage on 04-15 (D = 30): alice 30, bob 30, erin 04-01..04-05 = 5, frank
  //   04-10..04-30 = 21, gina 04-25..04-30 = 6 (future-dated, sent on 04-12). hugo's event is
  //   dated 04-20 and not sent yet. Σ = 92 → ceil5(92/30) = 3.06667 → $30.6667 → 3067; units "4.0";
  //   3 events.
  // Wallets (rate $1): prepaid 60 credits from Jan 1; promo 10 credits (priority 10) from Feb 15.
  //   Jan invoice (finalized Feb 1): prepaid pays 2581 → 3419 left.
  //   Feb invoice (Mar 1): promo first 1000, then prepaid 1517 → 1902 left.
  //   Mar invoice (Apr 1): prepaid pays its last 1902 of 2677 → 775 due, pending.
  it('bills January 2581, February 2517, March 2677 (775 left due) and shows April at 3067', () => {
    const output = simulateJson(fixture('notion-team.json'));
    expect(
      output.invoices.map((invoice) => [
        invoice.number,
        invoice.status,
        invoice.issuing_date,
        invoice.to_datetime,
        invoice.fees.map((fee) => [
          fee.fee_type,
          fee.units,
          fee.prorated_units,
          fee.events_count,
          fee.amount_cents,
        ]),
        invoice.prepaid_credit_amount_cents,
        invoice.total_amount_cents,
        invoice.payment_status,
      ]),
    ).toEqual([
      [
        'ACME-001-001',
        'finalized',
        '2024-02-01',
        '2024-02-01T04:59:59Z',
        [
          ['subscription', '1.0', null, 0, 0],
          ['charge', '3.0', '2.58065', 6, 2581],
        ],
        2581,
        0,
        'succeeded',
      ],
      [
        'ACME-001-002',
        'finalized',
        '2024-03-01',
        '2024-03-01T04:59:59Z',
        [
          ['subscription', '1.0', null, 0, 0],
          ['charge', '3.0', '2.51725', 2, 2517],
        ],
        2517,
        0,
        'succeeded',
      ],
      [
        'ACME-001-003',
        'finalized',
        '2024-04-01',
        '2024-04-01T03:59:59Z',
        [
          ['subscription', '1.0', null, 0, 0],
          ['charge', '3.0', '2.67742', 2, 2677],
        ],
        1902,
        775,
        'pending',
      ],
    ]);
    expect(output.invoices[1]?.applied_credits).toEqual([
      { wallet_code: 'promo', amount_cents: 1000, credit_amount: '10.0' },
      { wallet_code: 'prepaid', amount_cents: 1517, credit_amount: '15.17' },
    ]);
    expect(output.current_usage).toMatchObject({
      from_datetime: '2024-04-01T04:00:00Z',
      to_datetime: '2024-05-01T03:59:59Z',
      amount_cents: 3067,
      charges_usage: [{ units: '4.0', prorated_units: '3.06667', events_count: 3, amount_cents: 3067 }],
    });
    expect(
      output.wallets.map((w) => [w.code, w.credits_balance, w.balance_cents, w.consumed_credits]),
    ).toEqual([
      ['prepaid', '0.0', 0, '60.0'],
      ['promo', '0.0', 0, '10.0'],
    ]);
  });

  it('prints one line per invoice and fee, and with --explain one line per seat', () => {
    const { code, stdout } = cli([
      'simulate',
      join(scenarios, 'notion-team.json'),
      '--format',
      'table',
      '--explain',
    ]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.filter((line) => line.startsWith('invoice '))).toHaveLength(3);
    expect(lines.filter((line) => line.startsWith('  fee '))).toHaveLength(6);
    expect(lines).toContain('      seat dave             2024-03-01..2024-03-09 (9)  = 9 days');
    expect(lines).toContain('      seat erin             2024-02-29 (1)  = 1 day, active at end');
    expect(lines).toContain('ignored event api-call-1: unknown_metric');
    const plain = cli(['simulate', join(scenarios, 'notion-team.json'), '--format=table']);
    expect(plain.stdout).not.toContain('seat dave');
  });
});

describe('prorata simulate: timelines', () => {
  const base = fixture('lago-example.json');

  it('shows nothing billed while the subscription is pending', () => {
    const output = simulateJson({ ...base, as_of: '2024-06-01T00:00:00Z', wallets: [] });
    expect([output.invoices, output.current_usage, output.wallets]).toEqual([[], null, []]);
  });

  it('issues a terminating invoice at once, finalizes open drafts first, and shows no current usage after', () => {
    const output = simulateJson({
      ...base,
      customer: { ...(base.customer as object), invoice_grace_period: 5 },
      subscription: { ...(base.subscription as object), terminated_at: '2024-07-15T10:00:00Z' },
    });
    // June (draft until July 6 in Paris) is finalized at the termination (July 15), before the
    // terminating invoice: July 1..15 = 15/31 → 0.48388 → 484 cents.
    expect(
      output.invoices.map((invoice) => [
        invoice.number,
        invoice.invoicing_reason,
        invoice.issuing_date,
        invoice.total_amount_cents,
      ]),
    ).toEqual([
      ['ACM-001-001', 'subscription_periodic', '2024-07-06', 0],
      ['ACM-001-002', 'subscription_terminating', '2024-07-15', 0],
    ]);
    expect(output.invoices[1]?.fees_amount_cents).toBe(484);
    expect(output.current_usage).toBeNull();
    expect(output.wallets[0]).toMatchObject({ balance_cents: 5000 - 667 - 484 });
  });

  it('keeps an invoice still in its grace period as a draft without number or credits', () => {
    const output = simulateJson({
      ...base,
      customer: { ...(base.customer as object), invoice_grace_period: 3 },
    });
    expect(
      output.invoices.map((invoice) => [
        invoice.number,
        invoice.status,
        invoice.issuing_date,
        invoice.prepaid_credit_amount_cents,
      ]),
    ).toEqual([
      ['ACM-001-001', 'finalized', '2024-07-04', 667],
      ['ACM-DRAFT', 'draft', '2024-08-04', 0],
    ]);
  });

  it('applies a late event to a draft in grace, but only to later periods once final', () => {
    const late = {
      transaction_id: 'late',
      code: 'seats',
      timestamp: '2024-06-20T10:00:00Z',
      received_at: '2024-07-02T10:00:00Z',
      properties: { user_id: 'u2' },
    };
    const withGrace = simulateJson({
      ...base,
      customer: { ...(base.customer as object), invoice_grace_period: 3 },
      events: [...(base.events as object[]), late],
    });
    // u2 from 06-20: 11 more days → 31/30 → 1.03334 → 1033 cents on the June draft.
    expect(withGrace.invoices[0]?.fees_amount_cents).toBe(1033);
    const withoutGrace = simulateJson({ ...base, events: [...(base.events as object[]), late] });
    expect(withoutGrace.invoices.map((invoice) => invoice.fees_amount_cents)).toEqual([667, 2000]);
  });
});

describe('prorata simulate: bad input', () => {
  it('exits 2 and prints every problem with its JSON path, nothing on stdout', () => {
    const base = fixture('lago-example.json');
    const result = cli(
      ['simulate', '-'],
      JSON.stringify({
        ...base,
        customer: { ...(base.customer as object), timezone: 'Mars/Olympus' },
        events: [{ transaction_id: 'e1', code: 'seats', timestamp: '2024-06-11 10:00', properties: {} }],
        plan: { ...(base.plan as object), interval: 'daily' },
        extra: true,
      }),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('$.customer.timezone: expected an IANA time zone');
    expect(result.stderr).toContain('$.events[0].timestamp: expected an ISO-8601 instant');
    expect(result.stderr).toContain(
      '$.plan.interval: expected one of weekly, monthly, quarterly, semiannual, yearly',
    );
    expect(result.stderr).toContain('$: Unrecognized key: "extra"');
  });

  it('reports cross-field problems with their paths', () => {
    const base = fixture('lago-example.json');
    const result = cli(
      ['simulate', '-'],
      JSON.stringify({
        ...base,
        plan: {
          ...(base.plan as object),
          charges: [{ billable_metric_code: 'users', charge_model: 'standard', properties: { amount: '1' } }],
        },
        subscription: { ...(base.subscription as object), terminated_at: '2024-01-01T00:00:00Z' },
      }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      '$.plan.charges[0].billable_metric_code: unknown billable metric users\n' +
        '$.subscription.terminated_at: terminated_at is before subscription_at\n',
    );
  });

  it('exits 2 on unreadable files, invalid JSON and bad options', () => {
    expect(cli(['simulate', '-'], '{').code).toBe(2);
    expect(cli(['simulate', '-'], '{').stderr).toMatch(/^\$: not valid JSON/);
    expect(cli(['simulate', '/nonexistent/scenario.json']).code).toBe(2);
    expect(cli(['simulate']).code).toBe(2);
    expect(cli(['simulate', '-', '--format', 'xml']).stderr).toContain('--format must be json or table');
    expect(cli(['bill']).code).toBe(2);
    expect(cli(['--help']).code).toBe(0);
  });
});

describe('prorata simulate: tiered seat prices (docs/tiered-seat-prices.md worked example)', () => {
  const ranges = [
    { from_value: 0, to_value: 2, per_unit_amount: '10', flat_amount: '0' },
    { from_value: 3, to_value: null, per_unit_amount: '5', flat_amount: '0' },
  ];
  const scenario = (chargeModel: string, properties: Record<string, unknown>) => ({
    customer: { external_id: 'tiers', timezone: 'UTC', currency: 'USD' },
    billable_metrics: [
      { code: 'seats', aggregation_type: 'unique_count_agg', field_name: 'user_id', recurring: true },
    ],
    plan: {
      code: 'tiered',
      interval: 'monthly',
      amount_currency: 'USD',
      charges: [{ billable_metric_code: 'seats', charge_model: chargeModel, prorated: true, properties }],
    },
    subscription: { external_id: 'tiers_sub', subscription_at: '2024-03-01T00:00:00Z' },
    events: [
      ['u1', 'add', '2024-02-10T09:00:00Z'],
      ['u2', 'add', '2024-03-01T08:00:00Z'],
      ['u3', 'add', '2024-03-17T10:00:00Z'],
      ['u1', 'remove', '2024-03-20T18:00:00Z'],
      ['u4', 'add', '2024-03-25T12:00:00Z'],
    ].map(([user_id, operation_type, timestamp], i) => ({
      transaction_id: `t${i}`,
      code: 'seats',
      timestamp,
      properties: { user_id, operation_type },
    })),
    as_of: '2024-04-01T00:00:00Z',
  });
  const marchCents = (output: SimulationOutput) =>
    output.invoices.map((invoice) => invoice.fees_amount_cents);

  it('bills March with prorated graduated tiers: 20.00015 → 2000 cents', () => {
    expect(marchCents(simulateJson(scenario('graduated', { graduated_ranges: ranges })))).toEqual([2000]);
  });

  it('labels each invoice with its plan code and each fee with pay_in_advance (the subscription fee of a pay-in-advance plan)', () => {
    const base = scenario('graduated', { graduated_ranges: ranges });
    const output = simulateJson({
      ...base,
      plan: { ...base.plan, amount_cents: 3100, pay_in_advance: true },
    });
    expect(
      output.invoices.map((invoice) => [
        invoice.plan_code,
        invoice.invoicing_reason,
        invoice.fees.map((fee) => [fee.fee_type, fee.pay_in_advance, fee.amount_cents]),
      ]),
    ).toEqual([
      ['tiered', 'subscription_starting', [['subscription', true, 3100]]],
      [
        'tiered',
        'subscription_periodic',
        // March's seats in arrears, April's fee in advance.
        [
          ['charge', false, 2000],
          ['subscription', true, 3100],
        ],
      ],
    ]);
  });

  it('bills March with prorated volume tiers: 2.35484 units at the 3-seat tier price 5 → 1177 cents', () => {
    expect(marchCents(simulateJson(scenario('volume', { volume_ranges: ranges })))).toEqual([1177]);
  });

  it("refuses ranges Lago refuses, with Lago's error code, and a standard charge without amount", () => {
    const holes = [ranges[0], { ...ranges[1], from_value: 5 }];
    const bad = cli(['simulate', '-'], JSON.stringify(scenario('graduated', { graduated_ranges: holes })));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "$.plan.charges[0].properties.graduated_ranges: graduated_ranges: invalid_graduated_ranges (Lago's range rules)\n",
    );
    const mixed = cli(['simulate', '-'], JSON.stringify(scenario('standard', { volume_ranges: ranges })));
    expect(mixed.stderr).toBe(
      '$.plan.charges[0].properties.volume_ranges: a standard charge takes properties.amount only\n' +
        '$.plan.charges[0].properties.amount: required for standard\n',
    );
  });
});
