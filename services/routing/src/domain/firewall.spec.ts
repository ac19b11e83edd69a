import { describe, expect, it } from 'vitest';
import {
  CompiledFirewall,
  FirewallCompileError,
  FirewallState,
  findShortener,
  type FirewallInput,
  type FirewallRule,
} from './firewall.js';

const T0 = Date.parse('2026-07-06T10:00:00Z');
let seq = 0;
const msg = (over: Partial<FirewallInput> = {}): FirewallInput => ({
  hubMessageId: `m${++seq}`,
  accountId: 'acc-1',
  accountGroup: 'retail',
  destination: { e164: '+447400123456', country: 'GB' },
  sourceAddr: 'ACME',
  sourceTon: 5,
  text: 'Your code is 123456',
  atMs: T0,
  ...over,
});

function firewall(rules: FirewallRule[]) {
  const fw = new CompiledFirewall(rules);
  const state = new FirewallState();
  return { check: (over: Partial<FirewallInput> = {}) => fw.check(msg(over), state), state };
}

describe('firewall: destination', () => {
  const { check } = firewall([
    {
      id: 'block-1',
      kind: 'destination_block',
      prefixes: ['447400123'],
      reason: 'complaint from subscriber',
    },
    { id: 'premium-uk', kind: 'premium_range', prefixes: ['4490', '4487'] },
    { id: 'unalloc', kind: 'premium_range', prefixes: ['447400'], scope: { accountGroups: ['wholesale'] } },
  ]);

  it('rejects blocklisted destinations with the rule reason and mapping', () => {
    expect(check()).toEqual({
      kind: 'rejected',
      ruleId: 'block-1',
      reason: 'complaint from subscriber',
      customerError: { stat: 'REJECTD', err: 14 },
      category: 'firewall_destination',
      destination: { e164: '+447400123456', country: 'GB' },
    });
  });

  it('rejects premium ranges and names the prefix', () => {
    const r = check({ destination: { e164: '+449012345678', country: 'GB' } });
    expect(r).toMatchObject({ ruleId: 'premium-uk', category: 'firewall_destination' });
    expect(r?.reason).toContain('+4490');
  });

  it('honours the account scope and the longest prefix', () => {
    expect(check({ destination: { e164: '+447400999999', country: 'GB' } })).toBeNull();
    expect(
      check({ destination: { e164: '+447400999999', country: 'GB' }, accountGroup: 'wholesale' })?.ruleId,
    ).toBe('unalloc');
    expect(
      check({ destination: { e164: '+447400123456', country: 'GB' }, accountGroup: 'wholesale' })?.ruleId,
    ).toBe('block-1');
  });
});

describe('firewall: sender', () => {
  const { check } = firewall([
    { id: 'deny-spoof', kind: 'sender_deny', patterns: [{ glob: 'PayPal*' }, { regex: '^paypa1' }] },
    {
      id: 'deny-numeric-ng',
      kind: 'sender_deny',
      senderKind: 'numeric',
      patterns: [{ glob: '234*' }],
      scope: { countries: ['NG'] },
    },
    {
      id: 'in-allow-a',
      kind: 'sender_allow',
      senderKind: 'alphanumeric',
      patterns: [{ glob: 'AX-*' }],
      scope: { countries: ['IN'] },
    },
    {
      id: 'in-allow-b',
      kind: 'sender_allow',
      senderKind: 'alphanumeric',
      patterns: [{ glob: 'JM-BANK' }],
      scope: { countries: ['IN'] },
    },
  ]);
  const india = { e164: '+919810123456', country: 'IN' };

  it('denies matching senders by glob and regex', () => {
    expect(check({ sourceAddr: 'PAYPAL' })).toMatchObject({
      ruleId: 'deny-spoof',
      category: 'firewall_sender',
      customerError: { err: 12 },
    });
    expect(check({ sourceAddr: 'Paypa1Help' })?.ruleId).toBe('deny-spoof');
    expect(check({ sourceAddr: 'ACME' })).toBeNull();
  });

  it('applies numeric-sender rules per destination country only to numeric senders', () => {
    const ng = { e164: '+2348031234567', country: 'NG' };
    expect(check({ destination: ng, sourceAddr: '2348030000000', sourceTon: 1 })?.ruleId).toBe(
      'deny-numeric-ng',
    );
    expect(check({ destination: ng, sourceAddr: '447400000000', sourceTon: 1 })).toBeNull();
    expect(check({ sourceAddr: '2348030000000', sourceTon: 1 })).toBeNull(); // to GB
  });

  it('requires alphanumeric senders to India to be on one of the allow lists', () => {
    expect(check({ destination: india, sourceAddr: 'AX-ACME' })).toBeNull();
    expect(check({ destination: india, sourceAddr: 'JM-BANK' })).toBeNull();
    expect(check({ destination: india, sourceAddr: 'ACME' })).toMatchObject({
      ruleId: 'in-allow-a',
      category: 'firewall_sender',
    });
    expect(check({ destination: india, sourceAddr: '919810000000', sourceTon: 1 })).toBeNull(); // numeric: not covered
    expect(check({ sourceAddr: 'ACME' })).toBeNull(); // other country: no allow list
  });
});

describe('firewall: content', () => {
  const { check } = firewall([
    { id: 'kw', kind: 'keyword', keywords: ['casino', 'free money', 'Kredit'] },
    {
      id: 'rx',
      kind: 'content_regex',
      pattern: '\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b',
      reason: 'card number',
    },
    { id: 'short', kind: 'url_shortener' },
  ]);

  it('matches keywords case-insensitively on word boundaries', () => {
    expect(check({ text: 'Win at the CASINO tonight' })).toMatchObject({
      ruleId: 'kw',
      category: 'firewall_content',
      customerError: { err: 13 },
    });
    expect(check({ text: 'Get FREE  money' })).toBeNull(); // two spaces: not the phrase
    expect(check({ text: 'get free money now' })?.reason).toBe('keyword "free money"');
    expect(check({ text: 'casinos and minicasino' })).toBeNull();
    expect(check({ text: 'Ihr KREDIT ist bereit' })?.ruleId).toBe('kw');
    expect(check({ text: 'Überkredit' })).toBeNull();
  });

  it('matches regex rules', () => {
    expect(check({ text: 'card 4111 1111 1111 1111 exp 12/29' })).toMatchObject({
      ruleId: 'rx',
      reason: 'card number',
    });
    expect(check({ text: 'order 4111-1111' })).toBeNull();
  });

  it('rejects known URL shorteners with or without scheme, and not look-alike domains', () => {
    expect(check({ text: 'Track: https://bit.ly/3xYz' })).toMatchObject({
      ruleId: 'short',
      reason: 'URL shortener bit.ly',
    });
    expect(check({ text: 'see tinyurl.com/abc.' })?.ruleId).toBe('short');
    expect(check({ text: 'go to WWW.CUTT.LY/x' })?.reason).toBe('URL shortener cutt.ly');
    expect(check({ text: 'visit https://notbit.ly/x or https://example.com/t.co' })).toBeNull();
    expect(check({ text: null })).toBeNull(); // binary: content rules skipped
  });

  it('uses a configured shortener list', () => {
    expect(findShortener('https://sho.rt/x', new Set(['sho.rt']))).toBe('sho.rt');
    expect(findShortener('https://bit.ly/x', new Set(['sho.rt']))).toBeUndefined();
  });
});

describe('firewall: duplicates', () => {
  it('rejects the same text to the same number within the window, and admits it after', () => {
    const { check } = firewall([{ id: 'dup', kind: 'duplicate', windowSeconds: 60 }]);
    expect(check({ hubMessageId: 'a' })).toBeNull();
    expect(check({ hubMessageId: 'b', atMs: T0 + 30_000 })).toMatchObject({
      ruleId: 'dup',
      category: 'duplicate',
      customerError: { err: 16 },
    });
    expect(check({ hubMessageId: 'c', atMs: T0 + 30_000, text: 'Your code is 654321' })).toBeNull();
    expect(
      check({ hubMessageId: 'd', atMs: T0 + 30_000, destination: { e164: '+447400999999', country: 'GB' } }),
    ).toBeNull();
    expect(check({ hubMessageId: 'e', atMs: T0 + 30_000, accountId: 'acc-2' })).toBeNull();
    expect(check({ hubMessageId: 'f', atMs: T0 + 60_000 })).toBeNull(); // window expired
  });

  it('does not treat a redelivery of the same hub message as a duplicate', () => {
    const { check } = firewall([{ id: 'dup', kind: 'duplicate', windowSeconds: 60 }]);
    expect(check({ hubMessageId: 'x' })).toBeNull();
    expect(check({ hubMessageId: 'x', atMs: T0 + 1000 })).toBeNull();
  });
});

describe('firewall: velocity', () => {
  it('limits messages per destination prefix across accounts', () => {
    const { check } = firewall([
      { id: 'v-uk', kind: 'velocity_prefix', prefixes: ['4474', '33'], limit: 3, windowSeconds: 10 },
    ]);
    for (let i = 0; i < 3; i++) expect(check({ accountId: `a${i}`, atMs: T0 + i })).toBeNull();
    expect(check({ atMs: T0 + 5 })).toMatchObject({
      ruleId: 'v-uk',
      category: 'velocity',
      customerError: { stat: 'REJECTD', err: 15 },
    });
    expect(check({ destination: { e164: '+33612345678', country: 'FR' }, atMs: T0 + 5 })).toBeNull(); // own counter
    expect(check({ destination: { e164: '+4915123456789', country: 'DE' }, atMs: T0 + 5 })).toBeNull(); // not covered
    expect(check({ atMs: T0 + 12_000 })).toBeNull(); // the window moved on
  });

  it('limits messages per account, counting only admitted ones', () => {
    const { check } = firewall([
      { id: 'kw', kind: 'keyword', keywords: ['casino'] },
      {
        id: 'v-acc',
        kind: 'velocity_account',
        limit: 2,
        windowSeconds: 60,
        scope: { accountGroups: ['retail'] },
      },
    ]);
    expect(check({ text: 'casino' })?.ruleId).toBe('kw');
    expect(check()).toBeNull();
    expect(check()).toBeNull();
    expect(check()?.ruleId).toBe('v-acc');
    expect(check({ accountId: 'acc-2' })).toBeNull();
    expect(check({ accountGroup: 'wholesale' })).toBeNull(); // out of scope
    expect(check({ atMs: T0 + 67_000 })).toBeNull();
  });

  it('detects bursts to sequential numbers', () => {
    const { check } = firewall([
      { id: 'seq', kind: 'sequential_burst', count: 4, windowSeconds: 30, varyingDigits: 2 },
    ]);
    const to = (n: number) => ({ e164: `+4474001234${String(n).padStart(2, '0')}`, country: 'GB' });
    expect(check({ destination: to(1) })).toBeNull();
    expect(check({ destination: to(2) })).toBeNull();
    expect(check({ destination: to(3) })).toBeNull();
    expect(check({ destination: to(3) })).toBeNull(); // same number again: not a new one
    expect(check({ destination: to(4) })).toMatchObject({ ruleId: 'seq', category: 'velocity' });
    expect(check({ destination: to(4), accountId: 'acc-2' })).toBeNull(); // per account
    expect(check({ destination: { e164: '+447400123500', country: 'GB' } })).toBeNull(); // other block
    expect(check({ destination: to(5), atMs: T0 + 31_000 })).toBeNull(); // window passed
  });

  it('does not count a redelivered message twice', () => {
    const { check } = firewall([{ id: 'v-acc', kind: 'velocity_account', limit: 1, windowSeconds: 60 }]);
    expect(check({ hubMessageId: 'r1' })).toBeNull();
    expect(check({ hubMessageId: 'r1' })).toBeNull();
    expect(check({ hubMessageId: 'r2' })?.ruleId).toBe('v-acc');
  });
});

describe('firewall compile', () => {
  it('reports every bad rule', () => {
    expect(
      () =>
        new CompiledFirewall([
          { id: 'a', kind: 'destination_block', prefixes: ['+44'] },
          { id: 'b', kind: 'velocity_account', limit: 0, windowSeconds: 10 },
          { id: 'c', kind: 'content_regex', pattern: '(' },
        ]),
    ).toThrow(FirewallCompileError);
  });
});
