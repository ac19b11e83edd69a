import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service as healthService } from 'grpc-health-check';
import {
  AccountState,
  AdminServiceClient,
  BillingMode,
  ChangeAction,
  ResourceKind,
  type Account,
} from '@smshub/contracts';
import { verifyPassword } from '@smshub/secrets';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCert } from '@smshub/testing';
import { startAdmin } from '../src/admin.js';
import { AdminHarness, CONNECTOR_KEY, TOKEN } from './harness.js';

const h = new AdminHarness();
beforeAll(() => h.setup());
afterAll(() => h.teardown());

function account(systemId: string, over: Partial<Account> = {}): Account {
  return {
    id: '',
    name: 'ACME Ltd',
    state: AccountState.ACCOUNT_STATE_ACTIVE,
    billingMode: BillingMode.BILLING_MODE_PREPAID,
    currencyCode: 'EUR',
    smppCredentials: [
      {
        systemId,
        password: 'secret1',
        passwordHash: '',
        allowedCidrs: ['10.0.0.0/8'],
        maxBinds: 2,
        maxSubmitRate: 50,
        windowSize: 20,
      },
    ],
    defaultTrafficType: 0,
    allowedSources: [],
    receiptIncludeText: false,
    messageIdFormat: '',
    revision: 0n,
    routingGroup: 'gold',
    defaultCountry: 'GB',
    pricePlanId: '',
    defaultValiditySeconds: 0,
    chargeOn: 0,
    ...over,
  };
}

describe('authentication', () => {
  it('refuses calls without a token or with a wrong one', async () => {
    const none = await h.fail('listAccounts', { pageSize: 0, pageToken: '', state: 0 }, null);
    expect(none.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(none.details).toMatch(/authorization/);
    const wrong = await h.fail(
      'listAccounts',
      { pageSize: 0, pageToken: '', state: 0 },
      'not-the-token-at-all',
    );
    expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(wrong.details).toBe('invalid token');
  });

  it('answers health checks without a token', async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(
      `127.0.0.1:${h.server.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      check(req: { service: string }, cb: (err: Error | null, r: { status: number | string }) => void): void;
    };
    const res = await new Promise<{ status: number | string }>((resolve, reject) =>
      health.check(
        { service: 'smshub.admin.v1.AdminService' },
        (err: Error | null, r: { status: number | string }) => (err ? reject(err) : resolve(r)),
      ),
    );
    health.close();
    expect(res.status === 'SERVING' || res.status === 1).toBe(true);
  });

  it('answers server reflection only with a token: lists AdminService and serves its file', async () => {
    const client = new grpc.Client(`127.0.0.1:${h.server.port}`, grpc.credentials.createInsecure());
    const withToken = new grpc.Metadata();
    withToken.set('authorization', `Bearer ${TOKEN}`);
    let md = new grpc.Metadata();
    // ServerReflectionRequest { list_services = 7 } and { file_containing_symbol = 4 }, encoded by hand.
    const str = (field: number, s: string) => {
      const b = Buffer.from(s);
      return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
    };
    const ask = (req: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const call = client.makeBidiStreamRequest(
          '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
          (b: Buffer) => b,
          (b: Buffer) => b,
          md,
        );
        call.on('data', (d: Buffer) => {
          resolve(d);
          call.end();
        });
        call.on('error', reject);
        call.write(req);
      });
    await expect(ask(str(7, ''))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    md = withToken;
    const services = await ask(str(7, ''));
    expect(services.toString('latin1')).toContain('smshub.admin.v1.AdminService');
    const file = await ask(str(4, 'smshub.admin.v1.AdminService'));
    expect(file.toString('latin1')).toContain('CreateAccountRequest');
    client.close();
  });
});

describe('TLS', () => {
  it('serves AdminService over TLS when a certificate and key are given', async () => {
    const { cert, key } = selfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'admin-tls-'));
    writeFileSync(join(dir, 'cert.pem'), cert);
    writeFileSync(join(dir, 'key.pem'), key);
    const server = await startAdmin({
      pool: h.pool,
      producer: h.producer,
      topics: h.topics,
      logger: h.logger,
      token: TOKEN,
      connectorKey: CONNECTOR_KEY,
      server: {
        port: 0,
        host: '127.0.0.1',
        tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
      },
    });
    const client = new AdminServiceClient(`localhost:${server.port}`, grpc.credentials.createSsl(cert));
    try {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${TOKEN}`);
      const res = await new Promise<{ accounts: unknown[] }>((resolve, reject) =>
        client.listAccounts({ pageSize: 1, pageToken: '', state: 0 }, md, (err, r) =>
          err ? reject(err) : resolve(r),
        ),
      );
      expect(Array.isArray(res.accounts)).toBe(true);
    } finally {
      client.close();
      await server.stop(1_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('accounts', () => {
  it('creates, reads, lists, updates and deletes an account, announcing each change', async () => {
    const { account: created } = await h.call('createAccount', { account: account('acme1') });
    expect(created!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created!.revision).toBe(1n);
    expect(created!.smppCredentials[0]!.passwordHash).toBe('');
    expect(created!.smppCredentials[0]!.password).toBe('');
    const row = await h.pool.query('SELECT password_hash, enabled, tps_limit FROM accounts WHERE id = $1', [
      created!.id,
    ]);
    expect(await verifyPassword(row.rows[0].password_hash, 'secret1')).toBe(true);
    expect(row.rows[0].tps_limit).toBe(50);
    const ev = await h.change(
      (c) => c.resourceId === created!.id && c.action === ChangeAction.CHANGE_ACTION_CREATED,
    );
    expect(ev.kind).toBe(ResourceKind.RESOURCE_KIND_ACCOUNT);
    expect(ev.snapshot?.$case).toBe('account');

    const { account: got } = await h.call('getAccount', { id: created!.id });
    expect(got!.routingGroup).toBe('gold');
    expect(got!.smppCredentials[0]!.allowedCidrs).toEqual(['10.0.0.0/8']);

    const list = await h.call('listAccounts', {
      pageSize: 10,
      pageToken: '',
      state: AccountState.ACCOUNT_STATE_ACTIVE,
    });
    expect(list.accounts.map((a) => a.id)).toContain(created!.id);

    const { account: updated } = await h.call('updateAccount', {
      account: { ...got!, state: AccountState.ACCOUNT_STATE_SUSPENDED, name: 'ignored' },
      updateMask: ['state'],
      expectedRevision: 1n,
    });
    expect(updated!.state).toBe(AccountState.ACCOUNT_STATE_SUSPENDED);
    expect(updated!.name).toBe('ACME Ltd');
    expect(updated!.revision).toBe(2n);
    const enabled = await h.pool.query('SELECT enabled FROM accounts WHERE id = $1', [created!.id]);
    expect(enabled.rows[0].enabled).toBe(false);
    await h.change((c) => c.resourceId === created!.id && c.action === ChangeAction.CHANGE_ACTION_UPDATED);

    const stale = await h.fail('updateAccount', { account: got!, updateMask: [], expectedRevision: 1n });
    expect(stale.code).toBe(grpc.status.ABORTED);

    const pw = await h.call('setSmppPassword', {
      accountId: created!.id,
      systemId: 'acme1',
      password: 'n3wpass',
    });
    expect(pw.revision).toBe(3n);
    const hash = await h.pool.query('SELECT password_hash FROM accounts WHERE id = $1', [created!.id]);
    expect(await verifyPassword(hash.rows[0].password_hash, 'n3wpass')).toBe(true);

    await h.call('deleteAccount', { id: created!.id, expectedRevision: 0n });
    await h.change((c) => c.resourceId === created!.id && c.action === ChangeAction.CHANGE_ACTION_DELETED);
    const gone = await h.fail('getAccount', { id: created!.id });
    expect(gone.code).toBe(grpc.status.NOT_FOUND);
  });

  it('validates input with a message naming the field', async () => {
    const cur = await h.fail('createAccount', { account: account('acme2', { currencyCode: 'euro' }) });
    expect(cur.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(cur.details).toMatch(/^account\.currency_code:/);
    const pw = await h.fail('createAccount', {
      account: account('acme2', {
        smppCredentials: [
          {
            systemId: 'acme2',
            password: 'waytoolongpassword',
            passwordHash: '',
            allowedCidrs: [],
            maxBinds: 0,
            maxSubmitRate: 0,
            windowSize: 0,
          },
        ],
      }),
    });
    expect(pw.details).toMatch(/^account\.smpp_credentials\[0\]\.password:/);
    const cidr = await h.fail('createAccount', {
      account: account('acme2', {
        smppCredentials: [
          {
            systemId: 'acme2',
            password: 'pw',
            passwordHash: '',
            allowedCidrs: ['10.0.0.300/8'],
            maxBinds: 0,
            maxSubmitRate: 0,
            windowSize: 0,
          },
        ],
      }),
    });
    expect(cidr.details).toMatch(/allowed_cidrs\[0\]/);
    const hostBits = await h.fail('createAccount', {
      account: account('acme2', {
        smppCredentials: [
          {
            systemId: 'acme2',
            password: 'pw',
            passwordHash: '',
            allowedCidrs: ['10.0.0.0/8', '192.0.2.7/24'],
            maxBinds: 0,
            maxSubmitRate: 0,
            windowSize: 0,
          },
        ],
      }),
    });
    expect(hostBits.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(hostBits.details).toMatch(
      /allowed_cidrs\[1\]: "192.0.2.7\/24" has host bits set: did you mean 192.0.2.0\/24/,
    );
    const mask = await h.fail('updateAccount', {
      account: account('x', { id: '0190f5b4-0000-7000-8000-000000000001' }),
      updateMask: ['nope'],
      expectedRevision: 0n,
    });
    expect([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND]).toContain(mask.code);
  });

  it('refuses a second account with the same system_id (ALREADY_EXISTS)', async () => {
    await h.call('createAccount', { account: account('dup1') });
    const err = await h.fail('createAccount', { account: account('dup1') });
    expect(err.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(err.details).toMatch(/system_id/);
  });
});
