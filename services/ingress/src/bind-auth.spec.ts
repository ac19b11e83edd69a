import { describe, expect, it } from 'vitest';
import { createLogger } from '@smshub/logging';
import { hashPassword } from '@smshub/secrets';
import { CommandStatus as S, type BindType, type Pdu } from '@smshub/smpp';
import { accountFromRow, type AccountRow, type AccountStore } from './accounts.js';
import { BindAuthenticator, sourceOf } from './bind-auth.js';
import { BindGuard, type GuardStore } from './bind-guard.js';

const cheap = { memoryCost: 1024, timeCost: 1 };

async function accounts(rows: Partial<AccountRow>[]): Promise<AccountStore> {
  const list = await Promise.all(
    rows.map(async (r) =>
      accountFromRow({
        id: `id-${r.system_id}`,
        system_id: r.system_id!,
        password_hash: await hashPassword(r.password_hash!, cheap),
        enabled: true,
        allowed_cidrs: r.allowed_cidrs ?? [],
        allowed_bind_types: ['transmitter', 'receiver', 'transceiver'],
        max_binds: 5,
        tps_limit: 10,
        max_window: 10,
        default_validity_seconds: 3600,
        default_traffic_type: 'UNSPECIFIED',
        price_plan_id: null,
        default_country: null,
        refuse_unrated: false,
      }),
    ),
  );
  const by = new Map(list.map((a) => [a.systemId, a]));
  return { get: (id: string) => by.get(id), all: () => by.values() } as unknown as AccountStore;
}

const bind = (systemId: string, password: string): Pdu & { bindType: BindType } =>
  ({ command: 'bind_transmitter', system_id: systemId, password, bindType: 'transmitter' }) as never;

const broken: GuardStore = { update: () => Promise.reject(new Error('connection refused')) };

function auth(
  store: GuardStore,
  accts: AccountStore,
  o: { maxPerIp?: number; blockAfter?: number; verifyPerSecondPerIp?: number } = {},
): BindAuthenticator {
  const a = new BindAuthenticator({
    accounts: accts,
    guard: new BindGuard(store, { slowAfter: 100, blockAfter: o.blockAfter ?? 3, ipBlockAfter: 1000 }),
    options: {
      verifyConcurrency: 1,
      maxPerIp: o.maxPerIp ?? 10,
      maxPerSystemId: 10,
      maxQueued: 100,
      refusalDelayMs: 0,
      verifyPerSecondPerIp: o.verifyPerSecondPerIp ?? 100,
    },
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  a.accountsChanged();
  return a;
}

describe('BindAuthenticator', () => {
  it('answers unknown ids like wrong passwords, and outside the allow list RBINDFAIL either way', async () => {
    const accts = await accounts([
      { system_id: 'acme', password_hash: 'right' },
      { system_id: 'listed', password_hash: 'right', allowed_cidrs: ['10.0.0.0/8'] },
    ]);
    const a = auth(broken, accts);
    expect((await a.authenticate('1.1.1.1', bind('nobody', 'x'))).status).toBe(S.ESME_RINVPASWD);
    expect((await a.authenticate('1.1.1.1', bind('acme', 'wrong'))).status).toBe(S.ESME_RINVPASWD);
    expect((await a.authenticate('1.1.1.2', bind('acme', 'right'))).status).toBe(S.ESME_ROK);
    expect((await a.authenticate('1.1.1.2', bind('listed', 'right'))).status).toBe(S.ESME_RBINDFAIL);
    expect((await a.authenticate('1.1.1.2', bind('listed', 'wrong'))).status).toBe(S.ESME_RBINDFAIL);
    expect((await a.authenticate('10.1.1.1', bind('listed', 'right'))).status).toBe(S.ESME_ROK);
  });

  it('keeps counting on this replica while the shared store does not answer', async () => {
    const a = auth(broken, await accounts([{ system_id: 'acme', password_hash: 'right' }]));
    for (let i = 0; i < 3; i++)
      expect((await a.authenticate('6.6.6.6', bind('acme', 'wrong'))).status).toBe(S.ESME_RINVPASWD);
    const locked = await a.authenticate('6.6.6.6', bind('acme', 'right'));
    expect(locked).toMatchObject({ status: S.ESME_RBINDFAIL, reason: expect.stringMatching(/locked/) });
  });

  it('refuses binds of one address beyond maxPerIp in progress, without a check', async () => {
    const a = auth(broken, await accounts([{ system_id: 'acme', password_hash: 'right' }]), { maxPerIp: 2 });
    const outs = await Promise.all(
      Array.from({ length: 5 }, () => a.authenticate('7.7.7.7', bind('acme', 'right'))),
    );
    expect(outs.filter((o) => o.status === S.ESME_ROK)).toHaveLength(2);
    expect(outs.filter((o) => /in progress/.test(o.reason))).toHaveLength(3);
  });

  it('counts an IPv6 source by its /64, an IPv4 one by its address', () => {
    expect(sourceOf('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceOf('::1')).toBe('0:0:0:0::/64');
  });

  it('holds every address of one IPv6 /64 to one bound', async () => {
    const a = auth(broken, await accounts([{ system_id: 'acme', password_hash: 'right' }]), { maxPerIp: 2 });
    const outs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => a.authenticate(`2001:db8:1:2::${i + 1}`, bind('acme', 'wrong'))),
    );
    expect(outs.filter((o) => /in progress/.test(o.reason))).toHaveLength(3);
  });

  it('checks at most verifyPerSecondPerIp passwords a second from a source unknown for the system_id', async () => {
    const accts = await accounts([
      { system_id: 'acme', password_hash: 'right', allowed_cidrs: ['10.0.0.0/8'] },
    ]);
    const a = auth(broken, accts, { blockAfter: 1000, verifyPerSecondPerIp: 3 });
    const outs = [];
    for (let i = 0; i < 10; i++) outs.push(await a.authenticate('6.6.6.6', bind(`nobody${i}`, 'x')));
    // Ten attempts in well under a second (at most two wall-clock seconds): 3 checked per second at most.
    const checked = outs.filter((o) => o.status === S.ESME_RINVPASWD).length;
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(checked).toBeLessThanOrEqual(6);
    expect(outs.filter((o) => /checks from this address/.test(o.reason))).toHaveLength(10 - checked);
    // An allow-listed address is not limited.
    for (let i = 0; i < 5; i++)
      expect((await a.authenticate('10.1.1.1', bind('acme', 'right'))).status).toBe(S.ESME_ROK);
  });
});
