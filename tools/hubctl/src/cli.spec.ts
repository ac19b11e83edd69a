import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  Account,
  DeliveryStatus,
  DispatchOutcome,
  MessageSummary,
  TimelineEvent,
  SettlementParty,
  SettlementPeriod,
  type CreateAccountRequest,
  type CreateConnectorRequest,
  type CreateRateRequest,
  type CreateRoutingRuleRequest,
  type ExportCsvRequest,
  type ImportRatesRequest,
  type ListMessagesRequest,
  type UpdateAccountRequest,
} from '@smshub/contracts';
import { buildProgram } from './cli.js';
import { Session, type Deps } from './context.js';
import { grpcFailure } from './exit-codes.js';
import { runWith } from './testing.js';
import type { Command } from 'commander';

const acme = Account.fromPartial({
  id: 'acme',
  name: 'ACME Bank',
  state: 1,
  billingMode: 1,
  currencyCode: 'EUR',
  smppCredentials: [{ systemId: 'acme', maxBinds: 2 }],
  revision: 3n,
});

describe('admin resources', () => {
  it('creates an account from flags, with the SMPP password from stdin and never printed', async () => {
    const r = await runWith(
      [
        'accounts',
        'create',
        'acme',
        '--name',
        'ACME Bank',
        '--state',
        'active',
        '--billing-mode',
        'prepaid',
        '--currency',
        'eur',
        '--smpp',
        'system_id=acme,max_binds=2,allowed_cidrs=10.0.0.0/8;192.0.2.0/24',
        '--password-stdin',
      ],
      { createAccount: (req: CreateAccountRequest) => ({ account: { ...req.account, revision: 1n } }) },
      { stdin: 's3cret\n' },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const req = r.calls[0]!.request as CreateAccountRequest;
    expect(req.account).toMatchObject({
      id: 'acme',
      name: 'ACME Bank',
      state: 1,
      billingMode: 1,
      currencyCode: 'EUR',
      smppCredentials: [
        { systemId: 'acme', maxBinds: 2, allowedCidrs: ['10.0.0.0/8', '192.0.2.0/24'], password: 's3cret' },
      ],
    });
    expect(r.stdout).toContain('created account acme');
    expect(r.stdout).not.toContain('s3cret');
  });

  it('updates only the fields given, with an update mask and the expected revision', async () => {
    const r = await runWith(
      [
        'accounts',
        'update',
        'acme',
        '--state',
        'suspended',
        '--clear',
        'allowed_sources',
        '--expected-revision',
        '3',
      ],
      {
        updateAccount: (req: UpdateAccountRequest) => ({
          account: { ...acme, state: 2, revision: 4n, ...req.account },
        }),
      },
    );
    expect(r.code).toBe(0);
    const req = r.calls[0]!.request as UpdateAccountRequest;
    expect(req.updateMask).toEqual(['state', 'allowed_sources']);
    expect(req.expectedRevision).toBe(3n);
    expect(req.account?.state).toBe(2);
    expect(req.account?.allowedSources).toEqual([]);
  });

  it('turns refuse_unrated on and off with --refuse-unrated / --no-refuse-unrated', async () => {
    for (const [flag, want] of [
      ['--no-refuse-unrated', false],
      ['--refuse-unrated', true],
    ] as const) {
      const r = await runWith(['accounts', 'update', 'acme', flag], {
        updateAccount: (req: UpdateAccountRequest) => ({ account: { ...acme, ...req.account } }),
      });
      expect(r.code, r.stderr).toBe(0);
      const req = r.calls[0]!.request as UpdateAccountRequest;
      expect(req.updateMask).toEqual(['refuse_unrated']);
      expect(req.account?.refuseUnrated).toBe(want);
    }
  });

  it('replaces the whole resource from a YAML file (no mask), flags overriding the file', async () => {
    const r = await runWith(
      ['accounts', 'update', 'acme', '-f', 'acme.yaml', '--name', 'New name'],
      { updateAccount: (req: UpdateAccountRequest) => ({ account: req.account }) },
      {
        files: {
          'acme.yaml':
            'name: Old\ncurrencyCode: EUR\nbilling_mode: BILLING_MODE_POSTPAID\nsmppCredentials:\n  - systemId: acme\n',
        },
      },
    );
    expect(r.code).toBe(0);
    const req = r.calls[0]!.request as UpdateAccountRequest;
    expect(req.updateMask).toBeUndefined();
    expect(req.account).toMatchObject({ id: 'acme', name: 'New name', currencyCode: 'EUR', billingMode: 2 });
  });

  it('prints proto3 JSON: revision as a string, enums by name', async () => {
    const r = await runWith(['accounts', 'get', 'acme', '-o', 'json'], {
      getAccount: () => ({ account: acme }),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      id: 'acme',
      name: 'ACME Bank',
      state: 'ACCOUNT_STATE_ACTIVE',
      billingMode: 'BILLING_MODE_PREPAID',
      currencyCode: 'EUR',
      smppCredentials: [{ systemId: 'acme', maxBinds: 2 }],
      revision: '3',
    });
  });

  it('lists in a table and follows pages with --all', async () => {
    const pages: Record<string, { accounts: Account[]; nextPageToken: string }> = {
      '': { accounts: [acme], nextPageToken: 'p2' },
      p2: { accounts: [{ ...acme, id: 'beta', name: 'Beta' }], nextPageToken: '' },
    };
    const r = await runWith(['accounts', 'list', '--all', '--state', 'active', '--limit', '1'], {
      listAccounts: (req: { pageToken: string }) => pages[req.pageToken],
    });
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.request)).toEqual([
      expect.objectContaining({ state: 1, pageSize: 1, pageToken: '' }),
      expect.objectContaining({ state: 1, pageSize: 1, pageToken: 'p2' }),
    ]);
    expect(r.stdout).toMatch(/ID\s+│ NAME/);
    expect(r.stdout).toContain('ACME Bank');
    expect(r.stdout).toContain('Beta');
    expect(r.stdout).toContain('ACTIVE');
    const empty = await runWith(['accounts', 'list'], {
      listAccounts: () => ({ accounts: [], nextPageToken: '' }),
    });
    expect(empty.stdout).toBe('no accounts\n');
  });

  it('maps connector binds, rate prices and route targets from flags', async () => {
    const echo = (field: string) => (req: Record<string, unknown>) => ({ [field]: req[field] });
    const con = await runWith(
      [
        'connectors',
        'create',
        'con_a',
        '--supplier',
        'sup_a',
        '--enabled',
        '--bind',
        'host=smsc.a,port=2775,system_id=hub,sessions=2,interface_version=0x34',
        '--password',
        'pw',
      ],
      { createConnector: echo('connector') },
    );
    expect(con.code).toBe(0);
    expect((con.calls[0]!.request as CreateConnectorRequest).connector).toMatchObject({
      enabled: true,
      binds: [
        { host: 'smsc.a', port: 2775, systemId: 'hub', sessions: 2, interfaceVersion: 0x34, password: 'pw' },
      ],
    });
    expect(con.stdout).not.toContain('pw');

    const rate = await runWith(
      [
        'rates',
        'create',
        'r1',
        '--direction',
        'sell',
        '--party',
        'acme',
        '--prefix',
        '44',
        '--price',
        '0.0345',
        '--currency',
        'EUR',
        '--valid-from',
        '2026-01-01',
      ],
      { createRate: echo('rate') },
    );
    expect(rate.code).toBe(0);
    expect((rate.calls[0]!.request as CreateRateRequest).rate).toMatchObject({
      direction: 1,
      partyId: 'acme',
      destinationPrefix: '44',
      price: { currencyCode: 'EUR', minorUnits: 34500n, scale: 6 },
      validFrom: new Date('2026-01-01T00:00:00Z'),
    });
    expect(rate.stdout).toContain('EUR 0.0345');

    const rule = await runWith(
      [
        'routes',
        'create',
        'rr1',
        '--prefix',
        '44,33',
        '--strategy',
        'weighted',
        '--target',
        'con_a:70',
        '--target',
        'con_b',
        '--traffic-type',
        'otp,marketing',
      ],
      { createRoutingRule: echo('routingRule') },
    );
    expect(rule.code).toBe(0);
    expect((rule.calls[0]!.request as CreateRoutingRuleRequest).routingRule).toMatchObject({
      destinationPrefixes: ['44', '33'],
      strategy: 4,
      targets: [
        { connectorId: 'con_a', weight: 70 },
        { connectorId: 'con_b', weight: 0 },
      ],
      trafficTypes: [1, 3],
    });
  });

  it('refuses bad flags with exit 64 and one sentence, before any call', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['accounts', 'create', 'acme', '--currency', 'EUR', '--state', 'gone'],
        /--state must be one of active, suspended, closed/,
      ],
      [['accounts', 'create', 'acme'], /--currency is required/],
      [['rates', 'create', 'r1', '--direction', 'buy', '--price', '0.01'], /--price needs --currency/],
      [['accounts', 'update', 'acme'], /nothing to change/],
      [['accounts', 'create', 'acme', '--currency', 'EUR', '--password-stdin'], /needs an SMPP credential/],
      [['accounts', 'frobnicate'], /unknown command 'frobnicate'/],
      [['accounts', 'list', '--admin-addr', 'nowhere'], /--admin-addr must be host:port/],
    ];
    for (const [argv, message] of cases) {
      const r = await runWith(argv);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.calls).toEqual([]);
    }
  });

  it('reports server failures with their exit codes, never the token', async () => {
    const target = { service: 'admin', address: '127.0.0.1:50051' };
    const fail = (code: number, details: string) => () => {
      throw grpcFailure({ code, details }, target, true);
    };
    const notFound = await runWith(['accounts', 'get', 'nope'], {
      getAccount: fail(status.NOT_FOUND, 'account nope not found'),
    });
    expect(notFound).toMatchObject({
      code: 1,
      stderr: 'hubctl: not found: account nope not found\n',
      stdout: '',
    });
    const invalid = await runWith(['accounts', 'create', 'x', '--currency', 'EUR'], {
      createAccount: fail(status.INVALID_ARGUMENT, 'name is required'),
    });
    expect(invalid).toMatchObject({ code: 65, stderr: 'hubctl: invalid argument: name is required\n' });
    const auth = await runWith(['--token', 'tok-123456789abcdef', 'accounts', 'list'], {
      listAccounts: fail(status.UNAUTHENTICATED, 'invalid admin token'),
    });
    expect(auth.code).toBe(77);
    expect(auth.stderr).not.toContain('tok-123456789abcdef');
  });

  it('imports a CSV and fails with 65 listing the rejected lines', async () => {
    const csv =
      'direction,party_id,destination_prefix,mcc_mnc,traffic_type,price,currency,valid_from,valid_until\nsell,acme,44,,,x,EUR,,\n';
    const r = await runWith(
      ['rates', 'import', 'deck.csv', '--replace-all', '--party', 'acme'],
      {
        importRates: (req: ImportRatesRequest) => ({
          summary: {
            rowsRead: 1,
            created: 0,
            updated: 0,
            deleted: 0,
            dryRun: req.dryRun,
            errors: [{ line: 2, message: 'price "x" is not a decimal' }],
          },
        }),
      },
      { files: { 'deck.csv': csv } },
    );
    expect(r.code).toBe(65);
    expect((r.calls[0]!.request as ImportRatesRequest).csv.toString()).toBe(csv);
    expect((r.calls[0]!.request as ImportRatesRequest).partyId).toBe('acme');
    expect(r.stderr).toContain('line 2: price "x" is not a decimal');
    const missing = await runWith(['prefixes', 'import', 'nope.csv']);
    expect(missing).toMatchObject({
      code: 66,
      stderr: 'hubctl: cannot read CSV file nope.csv: no such file\n',
    });
  });
});

describe('messages', () => {
  const id = '0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b';
  const context = {
    messageId: id,
    accountId: 'acme',
    destination: { ton: 1, npi: 1, address: '447700900123' },
  };
  it('prints the timeline with the service of every state change', async () => {
    const t = (s: string) => new Date(`2026-11-29T10:00:0${s}Z`);
    const r = await runWith(['messages', 'get', id], {
      getMessage: () => ({
        message: MessageSummary.fromPartial({
          context,
          status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
          final: true,
          connectorId: 'con_a',
          segments: 1,
        }),
        timeline: (
          [
            {
              topic: 'sms.submitted.v1',
              time: t('0'),
              event: {
                $case: 'submitted',
                value: {
                  accountId: 'acme',
                  destination: context.destination,
                  shortMessage: Buffer.from('hi'),
                },
              },
            },
            {
              topic: 'sms.routed.v1',
              time: t('1'),
              event: {
                $case: 'routed',
                value: { candidates: [{ connectorId: 'con_a', reason: 'cheapest' }] },
              },
            },
            {
              topic: 'sms.dispatched.v1',
              time: t('2'),
              event: {
                $case: 'dispatched',
                value: {
                  connectorId: 'con_a',
                  attempt: 1,
                  outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
                  supplierMessageId: 'ab12',
                  partNumber: 1,
                  partTotal: 1,
                },
              },
            },
            {
              topic: 'sms.receipt.raw.v1',
              time: t('3'),
              event: {
                $case: 'receipt',
                value: { connectorId: 'con_a', parsed: { stat: 'DELIVRD', err: '000' } },
              },
            },
            {
              topic: 'sms.delivery.v1',
              time: t('4'),
              event: {
                $case: 'delivery',
                value: {
                  status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
                  final: true,
                  revision: 1,
                  segments: 1,
                },
              },
            },
          ] as const
        ).map((e) => TimelineEvent.fromPartial(e as never)),
      }),
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const row = (service: string, what: string) => lines.some((l) => l.includes(service) && l.includes(what));
    expect(row('ingress', 'submitted')).toBe(true);
    expect(row('routing', 'routed')).toBe(true);
    expect(row('egress', 'dispatch accepted')).toBe(true);
    expect(row('egress', 'receipt')).toBe(true);
    expect(row('dlr', 'final DELIVERED')).toBe(true);
    expect(r.stdout).toContain('2026-11-29T10:00:02.000Z');
    expect(r.stdout).toContain('DELIVERED (final)');
  });

  it('lists with a relative range and status filters', async () => {
    const r = await runWith(
      [
        'messages',
        'list',
        '--account',
        'acme',
        '--since',
        '2h',
        '--status',
        'undeliverable,rejected',
        '-o',
        'json',
      ],
      {
        listMessages: () => ({
          messages: [
            MessageSummary.fromPartial({
              context,
              status: 6,
              final: true,
              connectorId: 'con_a',
              segments: 1,
            }),
          ],
          nextPageToken: '',
        }),
      },
    );
    expect(r.code).toBe(0);
    expect(r.calls[0]!.request as ListMessagesRequest).toMatchObject({
      accountId: 'acme',
      startTime: new Date('2026-11-29T10:00:00Z'),
      endTime: new Date('2026-11-29T12:00:00Z'),
      statuses: [6, 7],
    });
    expect(JSON.parse(r.stdout).messages[0].status).toBe('DELIVERY_STATUS_UNDELIVERABLE');
  });
});

describe('settlement', () => {
  it('streams the CSV export to stdout as the chunks arrive', async () => {
    const r = await runWith(
      [
        'settlement',
        'export',
        '--party',
        'supplier',
        '--period',
        'month',
        '--from',
        '2026-11',
        '--to',
        '2026-12',
        '--per-message',
      ],
      {
        exportCsv: () => [
          { chunk: Buffer.from('message_id,rated_at\r\n') },
          { chunk: Buffer.from('m1,2026-11-02\r\n') },
        ],
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('message_id,rated_at\r\nm1,2026-11-02\r\n');
    expect(r.calls[0]!.request as ExportCsvRequest).toMatchObject({
      perMessage: true,
      query: {
        party: SettlementParty.SETTLEMENT_PARTY_SUPPLIER,
        period: SettlementPeriod.SETTLEMENT_PERIOD_MONTH,
        startTime: new Date('2026-11-01T00:00:00Z'),
        endTime: new Date('2026-12-01T00:00:00Z'),
      },
    });
  });

  it('reports a failed stream with its exit code', async () => {
    const r = await runWith(
      ['settlement', 'export', '--party', 'customer', '--from', '2026-11-01', '--to', '2026-11-02'],
      {
        exportCsv: () => [
          { chunk: Buffer.from('h\r\n') },
          grpcFailure(
            { code: status.UNAVAILABLE, details: 'gone' },
            { service: 'rating', address: '127.0.0.1:50053' },
            false,
          ),
        ],
      },
    );
    expect(r.code).toBe(69);
    expect(r.stderr).toBe('hubctl: cannot reach rating at 127.0.0.1:50053: is the hub running?\n');
  });
});

describe('help', () => {
  it('--help works on every command and subcommand', async () => {
    const deps: Deps = {
      io: {
        stdout: { write: () => true },
        stderr: { write: () => true },
        stdin: process.stdin,
        env: {},
        readFile: () => Buffer.alloc(0),
      },
      rpc: () => {
        throw new Error('no calls in help');
      },
      now: () => new Date(),
    };
    const program = buildProgram(deps, new Session(deps));
    const paths: string[][] = [];
    const walk = (c: Command, path: string[]) => {
      paths.push(path);
      for (const s of c.commands) if (s.name() !== 'help') walk(s, [...path, s.name()]);
    };
    walk(program, []);
    expect(paths.length).toBeGreaterThan(50);
    for (const p of paths) {
      const r = await runWith([...p, '--help']);
      expect(r.code, p.join(' ')).toBe(0);
      expect(r.stdout, p.join(' ')).toContain(`Usage: hubctl${p.length ? ' ' : ''}`);
    }
  });
});
