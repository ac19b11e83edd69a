// Attacks on the admin API over real gRPC: every method and reflection without a token, with an unknown
// token and with each role's token; token lifecycle (created with a secret shown once, listed without it,
// expired, revoked); the audit log of writes (table, ListAuditEvents, audit.v1) with secrets masked.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSecret,
  probeMethods,
  probeViolations,
  REFLECTION_DEFINITIONS,
  ROLES,
  type Role,
} from '@smshub/auth';
import { AccountState, AdminServiceService, BillingMode, TokenRole, type Account } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { AdminHarness } from './harness.js';

const h = new AdminHarness();
const secrets = {} as Record<Role, string>;
const tokenIds = {} as Record<Role, string>;
let accountId = '';

const ROLE_ENUM: Record<Role, TokenRole> = {
  admin: TokenRole.TOKEN_ROLE_ADMIN,
  operations: TokenRole.TOKEN_ROLE_OPERATIONS,
  finance: TokenRole.TOKEN_ROLE_FINANCE,
  customer: TokenRole.TOKEN_ROLE_CUSTOMER,
};

function account(systemId: string): Account {
  return {
    id: '',
    name: 'Auth Test Ltd',
    state: AccountState.ACCOUNT_STATE_ACTIVE,
    billingMode: BillingMode.BILLING_MODE_PREPAID,
    currencyCode: 'EUR',
    smppCredentials: [
      {
        systemId,
        password: 'Init1Pw9',
        passwordHash: '',
        allowedCidrs: [],
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
    routingGroup: '',
    defaultCountry: '',
    pricePlanId: '',
    defaultValiditySeconds: 0,
    chargeOn: 0,
  };
}

const definitions = [AdminServiceService as unknown as grpc.ServiceDefinition, ...REFLECTION_DEFINITIONS];
const probe = (token: string | null) =>
  probeMethods({ address: `127.0.0.1:${h.server.port}`, definitions, token });

beforeAll(async () => {
  await h.setup();
  const created = await h.call('createAccount', { account: account('authtest') });
  accountId = created.account!.id;
  for (const role of ROLES) {
    const res = await h.call('createToken', {
      name: `${role}-token`,
      role: ROLE_ENUM[role],
      accountId: role === 'customer' ? accountId : '',
    });
    secrets[role] = res.secret;
    tokenIds[role] = res.token!.id;
  }
}, 120_000);
afterAll(() => h.teardown());

describe('every AdminService method and reflection', () => {
  it('refuses all of them without a token, with an unknown token and with a malformed header', async () => {
    const none = await probe(null);
    expect(none.length).toBe(Object.keys(AdminServiceService).length + 2);
    expect(none.length).toBeGreaterThan(45);
    expect(probeViolations(none, null)).toEqual([]);
    expect(probeViolations(await probe(generateSecret()), null)).toEqual([]);
    expect(probeViolations(await probe('not-a-token-but-long-enough'), null)).toEqual([]);
  });

  it.each(ROLES)(
    'lets a %s token call what its role may, and answers PERMISSION_DENIED naming the role needed elsewhere',
    async (role) => {
      const results = await probe(secrets[role]);
      expect(probeViolations(results, role)).toEqual([]);
      if (role !== 'admin') {
        expect(results.some((r) => r.code === grpc.status.PERMISSION_DENIED)).toBe(true);
      }
    },
  );
});

describe('tokens', () => {
  it('shows the secret once, stores only its SHA-256, lists tokens without it', async () => {
    const res = await h.call('createToken', {
      name: 'noc-dashboard',
      role: ROLE_ENUM.operations,
      accountId: '',
    });
    expect(res.secret).toMatch(/^smshub_[A-Za-z0-9_-]{43}$/);
    const { rows } = await h.pool.query<{ token_hash: string }>(
      'SELECT token_hash FROM auth_tokens WHERE id = $1',
      [res.token!.id],
    );
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(res.secret).digest('hex'));
    const list = await h.call('listTokens', { pageSize: 0, pageToken: '', includeInactive: false });
    const listed = list.tokens.find((t) => t.id === res.token!.id);
    expect(listed).toMatchObject({ name: 'noc-dashboard', role: TokenRole.TOKEN_ROLE_OPERATIONS });
    expect(JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      res.secret.slice(7),
    );
    await expect(
      h.call('listAccounts', { pageSize: 0, pageToken: '', state: 0 }, res.secret),
    ).resolves.toBeDefined();
    expect(listed?.lastUseTime).toBeUndefined();
    const used = await waitFor(
      async () =>
        (await h.call('listTokens', { pageSize: 1000, pageToken: '', includeInactive: false })).tokens.find(
          (t) => t.id === res.token!.id && t.lastUseTime !== undefined,
        ),
      { timeoutMs: 10_000, what: 'the last use recorded' },
    );
    expect(used.lastUseTime!.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses a revoked token at once and an expired one; lists them only with include_inactive', async () => {
    const a = await h.call('createToken', { name: 'to-revoke', role: ROLE_ENUM.finance, accountId: '' });
    const b = await h.call('createToken', {
      name: 'to-expire',
      role: ROLE_ENUM.finance,
      accountId: '',
      expireTime: new Date(Date.now() + 3_600_000),
    });
    const read = (secret: string) => h.fail('getBalance', { accountId }, secret).catch((e: unknown) => e);
    await h.call('getBalance', { accountId }, a.secret);
    await h.call('getBalance', { accountId }, b.secret);

    const revoked = await h.call('revokeToken', { id: a.token!.id });
    expect(revoked.token!.revokeTime).toBeInstanceOf(Date);
    const ra = (await read(a.secret)) as grpc.ServiceError;
    expect(ra.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(ra.details).toMatch(/revoked/);

    await h.call('setTokenExpiry', { id: b.token!.id });
    const rb = (await read(b.secret)) as grpc.ServiceError;
    expect(rb.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(rb.details).toMatch(/expired/);

    const active = await h.call('listTokens', { pageSize: 1000, pageToken: '', includeInactive: false });
    expect(active.tokens.map((t) => t.id)).not.toContain(a.token!.id);
    expect(active.tokens.map((t) => t.id)).not.toContain(b.token!.id);
    const all = await h.call('listTokens', { pageSize: 1000, pageToken: '', includeInactive: true });
    expect(all.tokens.map((t) => t.id)).toEqual(expect.arrayContaining([a.token!.id, b.token!.id]));
  });

  it('scopes customer tokens to an existing account and no other role', async () => {
    const noAccount = await h.fail('createToken', { name: 'c', role: ROLE_ENUM.customer, accountId: '' });
    expect(noAccount.code).toBe(grpc.status.INVALID_ARGUMENT);
    const scopedOps = await h.fail('createToken', { name: 'o', role: ROLE_ENUM.operations, accountId });
    expect(scopedOps.code).toBe(grpc.status.INVALID_ARGUMENT);
    const noRole = await h.fail('createToken', {
      name: 'x',
      role: TokenRole.TOKEN_ROLE_UNSPECIFIED,
      accountId: '',
    });
    expect(noRole.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('audit log', () => {
  it('records who changed what (before/after, secrets masked), when and from where; lists it and publishes it', async () => {
    const before = await h.call('getAccount', { id: accountId });
    await h.call('updateAccount', {
      account: { ...before.account!, name: 'Renamed Ltd' },
      updateMask: ['name'],
      expectedRevision: 0n,
    });
    await h.call('setSmppPassword', { accountId, systemId: 'authtest', password: 'N3wSec9x' });
    const denied = await h.fail('deleteAccount', { id: accountId, expectedRevision: 0n }, secrets.operations);
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);

    const listed = await waitFor(
      async () => {
        const r = await h.call('listAuditEvents', {
          pageSize: 100,
          pageToken: '',
          tokenId: '',
          resourceKind: '',
          resourceId: '',
          method: '',
        });
        return r.events.length >= 3 ? r.events : undefined;
      },
      { timeoutMs: 10_000, what: 'audit events' },
    );
    const update = listed.find((e) => e.method === 'UpdateAccount')!;
    expect(update).toMatchObject({
      tokenId: 'bootstrap',
      role: 'admin',
      resourceKind: 'account',
      resourceId: accountId,
      outcome: 'OK',
    });
    expect(update.peer).toMatch(/127\.0\.0\.1/);
    expect(JSON.parse(update.beforeJson)).toMatchObject({ name: 'Auth Test Ltd' });
    expect(JSON.parse(update.afterJson)).toMatchObject({ name: 'Renamed Ltd' });

    const password = listed.find((e) => e.method === 'SetSmppPassword')!;
    expect(password.resourceId).toBe(accountId);
    expect(JSON.parse(password.afterJson)).toMatchObject({ systemId: 'authtest', password: '***' });
    expect(JSON.stringify(listed)).not.toContain('N3wSec9x');
    expect(JSON.stringify(listed)).not.toContain('Init1Pw9');

    // Refused writes are recorded too (who tried, from where).
    const refused = await waitFor(
      async () =>
        (
          await h.call('listAuditEvents', {
            pageSize: 10,
            pageToken: '',
            tokenId: tokenIds.operations,
            resourceKind: '',
            resourceId: '',
            method: 'DeleteAccount',
          })
        ).events[0],
      { timeoutMs: 10_000, what: 'the refused write in the audit log' },
    );
    expect(refused).toMatchObject({ role: 'operations', outcome: 'PERMISSION_DENIED' });
    expect(refused.peer).toMatch(/127\.0\.0\.1/);

    // Token creations are audited with the secret masked.
    const tokenEvents = await h.call('listAuditEvents', {
      pageSize: 1000,
      pageToken: '',
      tokenId: '',
      resourceKind: 'token',
      resourceId: '',
      method: 'CreateToken',
    });
    const created = tokenEvents.events.filter((e) => e.outcome === 'OK');
    expect(created.length).toBeGreaterThanOrEqual(4);
    for (const e of created) expect(JSON.parse(e.afterJson)).toMatchObject({ secret: '***' });
    expect(JSON.stringify(tokenEvents)).not.toContain(secrets.customer.slice(7));

    // Filters combine; the same events reach audit.v1.
    const byMethod = await h.call('listAuditEvents', {
      pageSize: 10,
      pageToken: '',
      tokenId: '',
      resourceKind: 'account',
      resourceId: accountId,
      method: 'SetSmppPassword',
    });
    expect(byMethod.events.map((e) => e.eventId)).toEqual([password.eventId]);
    const published = await waitFor(() => h.audits.find((e) => e.eventId === password.eventId), {
      timeoutMs: 15_000,
      what: 'the event on audit.v1',
    });
    expect(published).toMatchObject({ method: 'SetSmppPassword', resourceId: accountId });
    expect(JSON.stringify(h.audits)).not.toContain('N3wSec9x');
  });
});
