import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type {
  CreateFirewallRuleRequest,
  CreateNumberPrefixRequest,
  CreatePortedNumberRequest,
  CreateTopUpRequest,
  GetMessageRequest,
  SetCreditLimitRequest,
} from '@smshub/contracts';
import { grpcFailure } from './exit-codes.js';
import { runWith } from './testing.js';

const echo = (field: string) => (req: Record<string, unknown>) => ({ [field]: req[field] });

describe('more argument mapping', () => {
  it('maps firewall rules, number prefixes and ported numbers', async () => {
    const fw = await runWith(
      [
        'firewall-rules',
        'create',
        'fw1',
        '--action',
        'block',
        '--source',
        'BANK?,X*',
        '--sender',
        'PAY*',
        '--sender',
        '/^pay(pa1|pal)$/i',
        '--prefix',
        '4490,4491',
        '--kind',
        'velocity_account',
        '--params',
        '{"limit":100,"windowSeconds":60}',
      ],
      { createFirewallRule: echo('firewallRule') },
    );
    expect(fw.code).toBe(0);
    expect((fw.calls[0]!.request as CreateFirewallRuleRequest).firewallRule).toMatchObject({
      id: 'fw1',
      action: 2,
      sourcePatterns: ['BANK?,X*'],
      senders: [
        { pattern: { $case: 'glob', value: 'PAY*' } },
        { pattern: { $case: 'regex', value: '^pay(pa1|pal)$' }, flags: 'i' },
      ],
      destinationPrefixes: ['4490', '4491'],
      kind: 'velocity_account',
      paramsJson: '{"limit":100,"windowSeconds":60}',
    });
    const badParams = await runWith([
      'firewall-rules',
      'create',
      'fw2',
      '--action',
      'block',
      '--params',
      '[1]',
    ]);
    expect(badParams.code).toBe(64);
    expect(badParams.stderr).toMatch(/--params must be a JSON object/);

    const prefix = await runWith(
      ['prefixes', 'create', '447700', '--country', 'gb', '--mcc', '234', '--mnc', '15'],
      { createNumberPrefix: echo('numberPrefix') },
    );
    expect((prefix.calls[0]!.request as CreateNumberPrefixRequest).numberPrefix).toMatchObject({
      prefix: '447700',
      countryCode: 'GB',
      mcc: '234',
      mnc: '15',
    });
    const ported = await runWith(
      [
        'ported-numbers',
        'create',
        '447700900123',
        '--mcc',
        '234',
        '--mnc',
        '30',
        '--ported-at',
        '2026-03-01',
      ],
      { createPortedNumber: echo('portedNumber') },
    );
    expect((ported.calls[0]!.request as CreatePortedNumberRequest).portedNumber).toMatchObject({
      msisdn: '447700900123',
      portedAt: new Date('2026-03-01T00:00:00Z'),
    });
  });

  it("books a top-up in the account's currency with a printed idempotency key", async () => {
    const r = await runWith(['top-ups', 'create', 'acc1', '100.50', '--reference', 'INV-1'], {
      getAccount: () => ({ account: { id: 'acc1', currencyCode: 'CHF' } }),
      createTopUp: (req: CreateTopUpRequest) => ({
        topUp: {
          id: 't1',
          accountId: 'acc1',
          amount: req.amount,
          idempotencyKey: req.idempotencyKey,
          reference: '',
          actor: '',
        },
      }),
    });
    expect(r.code).toBe(0);
    const req = r.calls[1]!.request as CreateTopUpRequest;
    expect(req.amount).toEqual({ currencyCode: 'CHF', minorUnits: 100_500_000n, scale: 6 });
    expect(req.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.stdout).toContain(`idempotency key ${req.idempotencyKey}`);
    expect(r.stdout).toContain('CHF 100.50');

    const limit = await runWith(['balances', 'set-credit-limit', 'acc1', '25', '--currency', 'EUR'], {
      setCreditLimit: () => ({}),
    });
    expect(limit.code).toBe(0);
    expect((limit.calls[0]!.request as SetCreditLimitRequest).creditLimit).toEqual({
      currencyCode: 'EUR',
      minorUnits: 25_000_000n,
      scale: 6,
    });
    const negative = await runWith(['balances', 'set-credit-limit', 'acc1', '-5', '--currency', 'EUR']);
    expect(negative.code).toBe(64);
  });

  it('looks a message up by the customer id of an account', async () => {
    const r = await runWith(
      ['messages', 'get', '--customer-id', '12345', '--account', 'acc1', '-o', 'json'],
      {
        getMessage: () => ({ timeline: [] }),
      },
    );
    expect(r.code).toBe(0);
    expect(r.calls[0]!.request as GetMessageRequest).toMatchObject({
      messageId: '',
      customerMessageId: '12345',
      accountId: 'acc1',
    });
    const missingAccount = await runWith(['messages', 'get', '--customer-id', '12345']);
    expect(missingAccount).toMatchObject({ code: 64, stderr: 'hubctl: --customer-id needs --account\n' });
  });

  it('exits 65 when a reconciliation does not match, and 73 when the export file cannot be written', async () => {
    const r = await runWith(
      ['settlement', 'reconcile', '--supplier', 'sup1', '--from', '2026-11', '--to', '2026-12', '-o', 'json'],
      {
        checkReconciliation: () => ({
          lines: [
            {
              periodStart: new Date('2026-11-01T00:00:00Z'),
              destinationMccMnc: '',
              hubMessages: 10n,
              supplierMessages: 11n,
              matched: false,
            },
          ],
          allMatched: false,
        }),
      },
    );
    expect(r.code).toBe(65);
    expect(JSON.parse(r.stdout)).toMatchObject({
      allMatched: false,
      lines: [{ hubMessages: '10', supplierMessages: '11' }],
    });
    const file = await runWith(
      [
        'settlement',
        'export',
        '--party',
        'customer',
        '--from',
        '2026-11-01',
        '--to',
        '2026-11-02',
        '--file',
        '/nonexistent/dir/x.csv',
      ],
      { exportCsv: () => [] },
    );
    expect(file.code).toBe(73);
    expect(file.stderr).toMatch(/^hubctl: cannot write \/nonexistent\/dir\/x\.csv: /);
  });

  it('reports a deadline as unavailable (69) and an unimplemented call as a failure (1)', async () => {
    const target = { service: 'admin', address: '10.0.0.1:50051' };
    const slow = await runWith(['rates', 'list'], {
      listRates: () => {
        throw grpcFailure({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }, target, true);
      },
    });
    expect(slow).toMatchObject({
      code: 69,
      stderr:
        'hubctl: admin at 10.0.0.1:50051 did not answer in time (raise --timeout, or check the server)\n',
    });
    const old = await runWith(
      ['rates', 'import', 'x.csv'],
      {
        importRates: () => {
          throw grpcFailure({ code: status.UNIMPLEMENTED, details: '' }, target, true);
        },
      },
      { files: { 'x.csv': 'direction\n' } },
    );
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/does not implement this call/);
  });
});
