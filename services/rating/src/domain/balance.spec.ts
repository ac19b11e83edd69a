import { describe, expect, it } from 'vitest';
import { debit, isOutOfCredit, overdraftBound, spendable, topUp, type Balance } from './balance.js';
import { MoneyError } from './money.js';

const prepaid: Balance = {
  accountId: 'acme',
  currency: 'EUR',
  mode: 'prepaid',
  balanceMinor: 1_000n,
  creditLimitMinor: 0n,
  overdraftMinor: 50n,
  version: 1,
};
const postpaid: Balance = { ...prepaid, mode: 'postpaid', balanceMinor: -4_000n, creditLimitMinor: 5_000n };

describe('balances', () => {
  it('computes spendable for prepaid and postpaid', () => {
    expect(spendable(prepaid)).toBe(1_000n);
    expect(spendable(postpaid)).toBe(1_000n);
  });

  it('debits always, flagging overdraft and a broken consistency bound', () => {
    const a = debit(prepaid, { amountMinor: 990n, currency: 'EUR' });
    expect(a).toEqual({
      balance: { ...prepaid, balanceMinor: 10n, version: 2 },
      overdrawn: false,
      beyondAllowance: false,
    });
    const b = debit(a.balance, { amountMinor: 60n, currency: 'EUR' });
    expect(b).toMatchObject({ overdrawn: true, beyondAllowance: false, balance: { balanceMinor: -50n } });
    const c = debit(b.balance, { amountMinor: 1n, currency: 'EUR' });
    expect(c).toMatchObject({
      overdrawn: true,
      beyondAllowance: true,
      balance: { balanceMinor: -51n, version: 4 },
    });
    expect(debit(postpaid, { amountMinor: 1_001n, currency: 'EUR' })).toMatchObject({
      overdrawn: true,
      balance: { balanceMinor: -5_001n },
    });
  });

  it('tops up and refuses mixed currencies or negative amounts', () => {
    expect(topUp(prepaid, { amountMinor: 500n, currency: 'EUR' })).toMatchObject({
      balanceMinor: 1_500n,
      version: 2,
    });
    expect(() => topUp(prepaid, { amountMinor: 500n, currency: 'USD' })).toThrow(MoneyError);
    expect(() => debit(prepaid, { amountMinor: -1n, currency: 'EUR' })).toThrow(MoneyError);
    expect(() => topUp(prepaid, { amountMinor: 0n, currency: 'EUR' })).toThrow(MoneyError);
  });

  it('refuses a message whose price the cached spendable (minus local spending) does not cover', () => {
    expect(isOutOfCredit(prepaid, 0n, 1_000n)).toBe(false);
    expect(isOutOfCredit(prepaid, 1n, 1_000n)).toBe(true);
    expect(isOutOfCredit({ ...prepaid, balanceMinor: 0n }, 0n, 1n)).toBe(true);
    expect(isOutOfCredit(postpaid, 900n, 100n)).toBe(false);
  });

  it('bounds the overdraft from stale caches: the worst case stays within overdraftBound', () => {
    // 100 msg/s, balance published every 2 s (+ 0.5 s propagation), at most 5 cents per message
    const bound = overdraftBound({ tps: 100, stalenessMs: 2_500, maxPriceMinor: 5n });
    expect(bound).toBe(1_250n);
    // simulate: ingress sees the balance of the last refresh; every 10 ms one 5-cent message arrives
    let truth: Balance = { ...prepaid, balanceMinor: 3_000n, overdraftMinor: bound };
    let cached = truth;
    let lowest = spendable(truth);
    for (let t = 0; t < 20_000; t += 10) {
      if (t % 2_500 === 0) cached = truth; // refresh
      if (!isOutOfCredit(cached, 0n, 5n)) {
        const r = debit(truth, { amountMinor: 5n, currency: 'EUR' });
        expect(r.beyondAllowance).toBe(false);
        truth = r.balance;
        lowest = lowest < spendable(truth) ? lowest : spendable(truth);
      }
    }
    expect(lowest).toBeLessThan(0n);
    expect(-lowest).toBeLessThanOrEqual(bound);
  });
});
