// Balances, top-ups, credit limits and the CSV imports over real gRPC, Postgres and Kafka.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountState,
  AdminServiceClient,
  BillingMode,
  ChangeAction,
  ResourceKind,
  type Account,
} from '@smshub/contracts';
import { testKafkaBrokers, waitFor } from '@smshub/testing';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { startAdmin } from '../src/admin.js';
import { AdminHarness, CONNECTOR_KEY, TOKEN } from './harness.js';

const h = new AdminHarness();
beforeAll(() => h.setup());
afterAll(() => h.teardown());

async function newAccount(
  systemId: string,
  billingMode = BillingMode.BILLING_MODE_PREPAID,
): Promise<Account> {
  const { account } = await h.call('createAccount', {
    account: {
      id: '',
      name: systemId,
      state: AccountState.ACCOUNT_STATE_ACTIVE,
      billingMode,
      currencyCode: 'EUR',
      smppCredentials: [
        {
          systemId,
          password: 'pw',
          passwordHash: '',
          allowedCidrs: [],
          maxBinds: 0,
          maxSubmitRate: 0,
          windowSize: 0,
        },
      ],
      defaultTrafficType: 0,
      allowedSources: [],
      receiptIncludeText: false,
      messageIdFormat: '',
      revision: 0n,
      routingGroup: '',
      defaultCountry: '',
      pricePlanId: '',
      defaultValiditySeconds: 0,
      chargeOn: 0,
    },
  });
  return account!;
}

const eur = (minorUnits: bigint, scale = 2) => ({ currencyCode: 'EUR', minorUnits, scale });

describe('balances and top-ups', () => {
  it('a top-up credits the balance once per idempotency key and unblocks the account on balances.v1', async () => {
    const a = await newAccount('payer1');
    const before = await h.call('getBalance', { accountId: a.id });
    expect(before.balance!.blocked).toBe(true);
    expect(before.balance!.available).toEqual(eur(0n));

    const t1 = await h.call('createTopUp', {
      accountId: a.id,
      amount: eur(1050n),
      idempotencyKey: 'inv-1',
      reference: 'INV 1',
    });
    expect(t1.balance!.balance).toEqual(eur(1050n));
    expect(t1.balance!.blocked).toBe(false);
    expect(t1.topUp!.reference).toBe('INV 1');
    const again = await h.call('createTopUp', {
      accountId: a.id,
      amount: eur(1050n),
      idempotencyKey: 'inv-1',
      reference: 'INV 1',
    });
    expect(again.topUp!.id).toBe(t1.topUp!.id);
    expect(again.balance!.balance).toEqual(eur(1050n));
    // 10.5 EUR given with scale 4 is the same amount.
    await h.call('createTopUp', {
      accountId: a.id,
      amount: eur(105000n, 4),
      idempotencyKey: 'inv-2',
      reference: '',
    });
    const after = await h.call('getBalance', { accountId: a.id });
    expect(after.balance!.balance).toEqual(eur(2100n));

    const published = await waitFor(
      () => h.balances.find((b) => b.accountId === a.id && b.balance?.minorUnits === 2100n),
      {
        timeoutMs: 15_000,
        what: 'balances.v1 record',
      },
    );
    expect(published.blocked).toBe(false);

    const listed = await h.call('listTopUps', { accountId: a.id, pageSize: 1, pageToken: '' });
    expect(listed.topUps).toHaveLength(1);
    expect(listed.topUps[0]!.idempotencyKey).toBe('inv-2');
    const next = await h.call('listTopUps', {
      accountId: a.id,
      pageSize: 1,
      pageToken: listed.nextPageToken,
    });
    expect(next.topUps[0]!.idempotencyKey).toBe('inv-1');

    const reused = await h.fail('createTopUp', {
      accountId: a.id,
      amount: eur(1n),
      idempotencyKey: 'inv-1',
      reference: '',
    });
    expect(reused.code).toBe(grpc.status.ALREADY_EXISTS);
    const usd = await h.fail('createTopUp', {
      accountId: a.id,
      amount: { currencyCode: 'USD', minorUnits: 100n, scale: 2 },
      idempotencyKey: 'k',
      reference: '',
    });
    expect(usd.details).toMatch(/^amount\.currency_code:/);
    const frac = await h.fail('createTopUp', {
      accountId: a.id,
      amount: eur(1n, 3),
      idempotencyKey: 'k2',
      reference: '',
    });
    expect(frac.details).toMatch(/^amount:/);
    const nokey = await h.fail('createTopUp', {
      accountId: a.id,
      amount: eur(1n),
      idempotencyKey: '',
      reference: '',
    });
    expect(nokey.details).toMatch(/^idempotency_key:/);
    const missing = await h.fail('getBalance', { accountId: '0190f5b4-0000-7000-8000-0000000000ff' });
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
  });

  it('a postpaid credit limit makes the account available and is announced to ingress and rating', async () => {
    const a = await newAccount('post1', BillingMode.BILLING_MODE_POSTPAID);
    const res = await h.call('setCreditLimit', { accountId: a.id, creditLimit: eur(50000n) });
    expect(res.balance!.creditLimit).toEqual(eur(50000n));
    expect(res.balance!.available).toEqual(eur(50000n));
    expect(res.balance!.blocked).toBe(false);
    await waitFor(() => h.balances.find((b) => b.accountId === a.id && !b.blocked), {
      timeoutMs: 15_000,
      what: 'unblocked balance',
    });
    await h.change((c) => c.resourceId === a.id && c.action === ChangeAction.CHANGE_ACTION_UPDATED);
    const neg = await h.fail('setCreditLimit', { accountId: a.id, creditLimit: eur(-1n) });
    expect(neg.details).toMatch(/^credit_limit:/);
  });
});

describe('Kafka unavailable', () => {
  it('answers UNAVAILABLE saying the change is stored, and the change is in the database', async () => {
    const producer = new TypedProducer(
      createKafka({ clientId: 'admin-test-closed', brokers: testKafkaBrokers() }, h.logger),
      h.logger,
    );
    await producer.connect();
    await producer.close();
    const server = await startAdmin({
      pool: h.pool,
      producer,
      topics: h.topics,
      logger: h.logger,
      token: TOKEN,
      connectorKey: CONNECTOR_KEY,
      server: { port: 0, host: '127.0.0.1' },
      passwordHashOptions: { memoryCost: 1024, timeCost: 1 },
    });
    const client = new AdminServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    try {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${TOKEN}`);
      const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
        client.createPortedNumber(
          { portedNumber: { msisdn: '886912345678', mcc: '466', mnc: '01', source: '', revision: 0n } },
          md,
          (e) => (e ? resolve(e) : reject(new Error('expected UNAVAILABLE'))),
        ),
      );
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(err.details).toMatch(/the change is stored.*config\.changes\.v1.*next reload/);
      const row = await h.pool.query('SELECT mcc FROM routing_ported_numbers WHERE e164 = $1', [
        '886912345678',
      ]);
      expect(row.rows[0].mcc).toBe('466');
    } finally {
      client.close();
      await server.stop(1_000);
    }
  });
});

describe('CSV imports', () => {
  it('imports number prefixes all-or-nothing with line-numbered errors, then applies a clean file', async () => {
    const bad = Buffer.from(
      'prefix,country_code,mcc,mnc,network_name\n' +
        '3361,FR,208,01,Orange\n' +
        '33x,FR,208,01,Orange\n' +
        '3362,FR,20,01,SFR\n' +
        '3361,FR,208,01,dup\n',
    );
    const r1 = await h.call('importNumberPrefixes', { csv: bad, replaceAll: false, dryRun: false });
    expect(r1.summary!.rowsRead).toBe(4);
    expect(r1.summary!.errors.map((e) => e.line)).toEqual([3, 4, 5]);
    expect(r1.summary!.errors[0]!.message).toMatch(/^csv\.prefix:/);
    expect(r1.summary!.errors[1]!.message).toMatch(/^csv\.mcc:/);
    const none = await h.pool.query(
      "SELECT count(*)::int AS n FROM routing_number_prefixes WHERE prefix LIKE '336%'",
    );
    expect(none.rows[0].n).toBe(0);

    const good = Buffer.from(
      'prefix,country_code,mcc,mnc,network_name\r\n3361,FR,208,01,Orange\r\n"3362",FR,208,10,"SFR, SA"\r\n',
    );
    const dry = await h.call('importNumberPrefixes', { csv: good, replaceAll: false, dryRun: true });
    expect(dry.summary!.dryRun).toBe(true);
    expect(dry.summary!.errors).toEqual([]);
    const r2 = await h.call('importNumberPrefixes', { csv: good, replaceAll: false, dryRun: false });
    expect(r2.summary).toMatchObject({ rowsRead: 2, created: 2, updated: 0, errors: [] });
    const sfr = await h.call('getNumberPrefix', { prefix: '3362' });
    expect(sfr.numberPrefix!.networkName).toBe('SFR, SA');
    const ev = await h.change(
      (c) =>
        c.kind === ResourceKind.RESOURCE_KIND_NUMBER_PREFIX && c.action === ChangeAction.CHANGE_ACTION_RELOAD,
    );
    expect(ev.resourceId).toBe('*');
    const r3 = await h.call('importNumberPrefixes', {
      csv: Buffer.from('prefix,country_code,mcc,mnc,network_name\n3361,FR,208,01,Orange FR\n'),
      replaceAll: true,
      dryRun: false,
    });
    expect(r3.summary).toMatchObject({ created: 0, updated: 1, deleted: 1 });

    const header = await h.fail('importNumberPrefixes', {
      csv: Buffer.from('prefix,country\n1,GB\n'),
      replaceAll: false,
      dryRun: false,
    });
    expect(header.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(header.details).toMatch(/header \(line 1\) lacks/);
  });

  it('imports ported numbers and rates', async () => {
    const ported = await h.call('importPortedNumbers', {
      csv: Buffer.from(
        'msisdn,mcc,mnc,ported_at\n447700900001,234,30,2026-03-01T10:00:00Z\n+447700900002,234,20,\n',
      ),
      replaceAll: false,
      dryRun: false,
    });
    expect(ported.summary).toMatchObject({ rowsRead: 2, created: 2, errors: [] });
    await h.change(
      (c) =>
        c.kind === ResourceKind.RESOURCE_KIND_PORTED_NUMBER && c.action === ChangeAction.CHANGE_ACTION_RELOAD,
    );
    const badTime = await h.call('importPortedNumbers', {
      csv: Buffer.from('msisdn,mcc,mnc,ported_at\n447700900003,234,30,yesterday\n'),
      replaceAll: false,
      dryRun: false,
    });
    expect(badTime.summary!.errors).toEqual([
      { line: 2, message: 'csv.ported_at: must be an RFC 3339 time' },
    ]);

    const a = await newAccount('rated2');
    const header =
      'direction,party_id,destination_prefix,mcc_mnc,traffic_type,price,currency,valid_from,valid_until\n';
    const csv = `${header}sell,${a.id},44,,,0.0345,EUR,2026-01-01T00:00:00Z,\nsell,${a.id},,234-15,,0.04,EUR,,\n`;
    const r1 = await h.call('importRates', {
      csv: Buffer.from(csv),
      replaceAll: false,
      partyId: '',
      dryRun: false,
    });
    expect(r1.summary).toMatchObject({ rowsRead: 2, created: 2, updated: 0, errors: [] });
    const row = await h.pool.query(
      "SELECT price_amount, price_scale FROM rating_rates WHERE owner_id = $1 AND prefix = '44'",
      [a.id],
    );
    expect(row.rows[0]).toEqual({ price_amount: '345', price_scale: 4 });
    const r2 = await h.call('importRates', {
      csv: Buffer.from(csv),
      replaceAll: false,
      partyId: '',
      dryRun: false,
    });
    expect(r2.summary).toMatchObject({ created: 0, updated: 2 });
    await h.change(
      (c) => c.kind === ResourceKind.RESOURCE_KIND_RATE && c.action === ChangeAction.CHANGE_ACTION_RELOAD,
    );

    const bad = `${header}sell,${a.id},44,,,-1,EUR,,\nbuy,con_unknown,44,,,0.01,EUR,,\nsell,${a.id},44,,OTP,0.01,EUR,,\n`;
    const r3 = await h.call('importRates', {
      csv: Buffer.from(bad),
      replaceAll: false,
      partyId: '',
      dryRun: false,
    });
    expect(r3.summary!.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(r3.summary!.errors.find((e) => e.line === 3)!.message).toMatch(
      /connector "con_unknown" does not exist/,
    );
    expect(r3.summary!.created).toBe(0);

    const replace = await h.call('importRates', {
      csv: Buffer.from(`${header}sell,${a.id},44,,,0.03,EUR,2026-01-01T00:00:00Z,\n`),
      replaceAll: true,
      partyId: a.id,
      dryRun: false,
    });
    expect(replace.summary).toMatchObject({ created: 0, updated: 1, deleted: 1 });
  });
});
