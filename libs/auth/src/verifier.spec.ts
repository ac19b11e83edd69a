import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { accountScope } from './grpc.js';
import { generateSecret, hashSecret } from './token.js';
import { TokenVerifier, type StoredToken, type TokenStore } from './verifier.js';

const BOOT = 'bootstrap-admin-token-0123';

function md(header?: string): Metadata {
  const m = new Metadata();
  if (header !== undefined) m.set('authorization', header);
  return m;
}

class MemoryStore implements TokenStore {
  rows = new Map<string, StoredToken>();
  lookups = 0;
  down = false;
  add(secret: string, row: Partial<StoredToken> & { role: string }): StoredToken {
    const full: StoredToken = {
      id: `tok-${this.rows.size + 1}`,
      name: 'test',
      accountId: null,
      expiresAt: null,
      revokedAt: null,
      ...row,
    };
    this.rows.set(hashSecret(secret), full);
    return full;
  }
  findByHash(hash: string): Promise<StoredToken | undefined> {
    this.lookups++;
    if (this.down) return Promise.reject(new Error('connection refused'));
    const r = this.rows.get(hash);
    return Promise.resolve(r ? { ...r } : undefined);
  }
}

async function code(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: number; message: string };
    return [e.code, e.message];
  }
  throw new Error('expected a refusal');
}

describe('TokenVerifier', () => {
  it('accepts ADMIN_TOKEN as the bootstrap admin, and refuses missing, malformed and unknown tokens', async () => {
    const v = new TokenVerifier({ bootstrapToken: BOOT, store: new MemoryStore() });
    await expect(v.authenticate(md(`Bearer ${BOOT}`))).resolves.toMatchObject({
      tokenId: 'bootstrap',
      role: 'admin',
    });
    expect((await code(v.authenticate(md())))[0]).toBe(status.UNAUTHENTICATED);
    expect((await code(v.authenticate(md(BOOT))))[0]).toBe(status.UNAUTHENTICATED);
    expect((await code(v.authenticate(md(`Bearer ${generateSecret()}`))))[0]).toBe(status.UNAUTHENTICATED);
    expect((await code(v.authenticate(md('Bearer x'.repeat(2)))))[0]).toBe(status.UNAUTHENTICATED);
  });

  it('maps a stored token to its role and account, and refuses it once expired or revoked', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const store = new MemoryStore();
    const secret = generateSecret();
    store.add(secret, { role: 'customer', accountId: 'acc-1', expiresAt: new Date(now + 60_000) });
    const v = new TokenVerifier({ store, cacheTtlMs: 2_000, now: () => now });
    await expect(v.verify(secret)).resolves.toMatchObject({ role: 'customer', accountId: 'acc-1' });
    now += 60_000;
    const [c, msg] = await code(v.verify(secret));
    expect(c).toBe(status.UNAUTHENTICATED);
    expect(msg).toMatch(/expired at 2026-12-01T00:01:00.000Z/);
  });

  it('stops accepting a revoked token within the cache TTL, and caches lookups meanwhile', async () => {
    let now = 1_000_000;
    const store = new MemoryStore();
    const secret = generateSecret();
    const row = store.add(secret, { role: 'operations' });
    const v = new TokenVerifier({ store, cacheTtlMs: 2_000, now: () => now });
    await v.verify(secret);
    await v.verify(secret);
    expect(store.lookups).toBe(1);
    store.rows.set(hashSecret(secret), { ...row, revokedAt: new Date(now) });
    now += 1_999;
    await expect(v.verify(secret)).resolves.toMatchObject({ role: 'operations' });
    now += 1;
    expect((await code(v.verify(secret)))[1]).toMatch(/revoked/);
  });

  it('refuses with UNAVAILABLE (never lets the call through) when the store cannot answer', async () => {
    const store = new MemoryStore();
    store.down = true;
    const v = new TokenVerifier({ store, bootstrapToken: BOOT });
    expect((await code(v.verify(generateSecret())))[0]).toBe(status.UNAVAILABLE);
    // The bootstrap credential does not need the store.
    await expect(v.verify(BOOT)).resolves.toMatchObject({ role: 'admin' });
    store.down = false;
    const secret = generateSecret();
    store.add(secret, { role: 'finance' });
    await expect(v.verify(secret)).resolves.toMatchObject({ role: 'finance' });
  });
});

describe('accountScope', () => {
  const customer = { tokenId: 't', name: 'n', role: 'customer' as const, accountId: 'acc-1' };
  it('fills in and enforces a customer token account', () => {
    expect(accountScope(customer, '')).toBe('acc-1');
    expect(accountScope(customer, 'acc-1')).toBe('acc-1');
    expect(() => accountScope(customer, 'acc-2')).toThrow(/own account/);
    expect(accountScope({ ...customer, role: 'operations' }, 'acc-2')).toBe('acc-2');
  });
});
