import { describe, expect, it } from 'vitest';
import { AccountBalance } from '@smshub/contracts';
import { BalanceCache } from './balances.js';

describe('BalanceCache', () => {
  it('follows the newest revision per account and ignores stale records', () => {
    const c = new BalanceCache();
    expect(c.blocked('a')).toBe(false);
    expect(c.apply(AccountBalance.fromPartial({ accountId: 'a', blocked: true, revision: 2n }))).toBe(true);
    expect(c.blocked('a')).toBe(true);
    expect(c.apply(AccountBalance.fromPartial({ accountId: 'a', blocked: false, revision: 1n }))).toBe(false);
    expect(c.blocked('a')).toBe(true);
    c.apply(AccountBalance.fromPartial({ accountId: 'a', blocked: false, revision: 3n }));
    expect(c.blocked('a')).toBe(false);
    expect(c.blocked('b')).toBe(false);
  });
});
