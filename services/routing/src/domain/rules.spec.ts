import { describe, expect, it } from 'vitest';
import { RuleCompileError, RuleIndex, type MatchContext, type RoutingRule } from './rules.js';

const route = { kind: 'route' as const, strategy: { kind: 'priority' as const, connectors: ['c1'] } };
const rule = (id: string, match: RoutingRule['match'], priority?: number): RoutingRule => ({
  id,
  match,
  action: route,
  ...(priority === undefined ? {} : { priority }),
});

const ctx = (over: Partial<MatchContext> = {}): MatchContext => ({
  accountId: 'acc-1',
  accountGroup: 'wholesale',
  e164: '+447400123456',
  country: 'GB',
  mccMnc: '234-15',
  sourceAddr: 'ACME',
  trafficType: 'OTP',
  atMs: Date.parse('2026-07-06T10:00:00Z'), // Monday 11:00 in London
  ...over,
});

const winner = (rules: RoutingRule[], c: Partial<MatchContext> = {}) =>
  new RuleIndex(rules).match(ctx(c))?.rule.id;

describe('rule precedence', () => {
  it('prefers account over group over any account', () => {
    const rules = [
      rule('any', {}),
      rule('group', { accountGroups: ['wholesale'] }),
      rule('acct', { accountIds: ['acc-1'] }),
    ];
    expect(winner(rules)).toBe('acct');
    expect(winner(rules, { accountId: 'acc-2' })).toBe('group');
    expect(winner(rules, { accountId: 'acc-2', accountGroup: 'retail' })).toBe('any');
  });

  it('prefers a longer prefix over a shorter one, MCC-MNC over country, country over any', () => {
    const rules = [
      rule('any', {}),
      rule('country', { countries: ['GB'] }),
      rule('mccmnc', { mccMncs: ['234-15'] }),
      rule('p44', { destinationPrefixes: ['44'] }),
      rule('p4474', { destinationPrefixes: ['4474', '33'] }),
    ];
    expect(winner(rules)).toBe('p4474');
    expect(winner(rules, { e164: '+447512345678', mccMnc: '234-10' })).toBe('p44');
    const noPrefix = rules.filter((r) => !r.id.startsWith('p'));
    expect(winner(noPrefix)).toBe('mccmnc');
    expect(winner(noPrefix, { mccMnc: '234-10' })).toBe('country');
    expect(winner(noPrefix, { country: 'FR', e164: '+33612345678', mccMnc: undefined })).toBe('any');
  });

  it('lets explicit priority beat specificity, and account specificity beat destination specificity', () => {
    expect(
      winner([
        rule('specific', { accountIds: ['acc-1'], destinationPrefixes: ['4474'] }),
        rule('prio', {}, 10),
      ]),
    ).toBe('prio');
    expect(
      winner([
        rule('acct-any-dest', { accountIds: ['acc-1'] }),
        rule('any-acct-prefix', { destinationPrefixes: ['4474'] }),
      ]),
    ).toBe('acct-any-dest');
  });

  it('prefers more constraints, then the lower rule id', () => {
    expect(winner([rule('b', { countries: ['GB'] }), rule('a', { countries: ['GB'] })])).toBe('a');
    expect(
      winner([rule('a', { countries: ['GB'] }), rule('z', { countries: ['GB'], trafficTypes: ['OTP'] })]),
    ).toBe('z');
  });

  it('falls through to the next rule when a better one does not match every dimension', () => {
    const rules = [
      rule('otp-only', { destinationPrefixes: ['4474'], trafficTypes: ['OTP'] }),
      rule('sender', { destinationPrefixes: ['4474'], senders: [{ glob: 'BANK*' }] }),
      rule('office', {
        countries: ['GB'],
        timeWindow: {
          timeZone: 'Europe/London',
          days: ['mon', 'tue', 'wed', 'thu', 'fri'],
          ranges: [{ from: '09:00', to: '17:00' }],
        },
      }),
      rule('fallback', {}),
    ];
    expect(winner(rules)).toBe('otp-only');
    expect(winner(rules, { trafficType: 'MARKETING', sourceAddr: 'BankOfX' })).toBe('sender');
    expect(winner(rules, { trafficType: 'MARKETING' })).toBe('office');
    expect(winner(rules, { trafficType: 'MARKETING', atMs: Date.parse('2026-07-06T18:00:00Z') })).toBe(
      'fallback',
    );
    expect(winner(rules, { country: 'DE', e164: '+4915123456789', trafficType: 'MARKETING' })).toBe(
      'fallback',
    );
  });

  it('needs the MCC-MNC to be known for an MCC-MNC rule', () => {
    expect(winner([rule('m', { mccMncs: ['234-15'] })], { mccMnc: undefined })).toBeUndefined();
  });

  it('skips disabled rules and reports every bad rule at once', () => {
    expect(winner([{ ...rule('off', {}), enabled: false }])).toBeUndefined();
    let err: unknown;
    try {
      new RuleIndex([
        rule('x', { accountIds: ['a'], accountGroups: ['g'] }),
        rule('y', { destinationPrefixes: ['+44'] }),
        rule('y', {}),
        {
          id: 'z',
          match: {},
          action: { kind: 'route', strategy: { kind: 'weighted', split: [{ connectorId: 'a', weight: 0 }] } },
        },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleCompileError);
    expect((err as RuleCompileError).problems.map((p) => p.ruleId)).toEqual(['x', 'y', 'y', 'z']);
  });

  it('finds the right rule among 10,000 without depending on their order', () => {
    const rules: RoutingRule[] = [];
    for (let i = 0; i < 10_000; i++) {
      rules.push(
        rule(`r${i}`, { accountIds: [`acc-${i % 500}`], destinationPrefixes: [String(44_000 + i)] }),
      );
    }
    rules.push(rule('target', { accountIds: ['acc-7'], destinationPrefixes: ['4474001'] }));
    rules.push(rule('near', { accountIds: ['acc-7'], destinationPrefixes: ['44740'] }));
    const index = new RuleIndex(rules.reverse());
    expect(index.size).toBe(10_002);
    expect(index.match(ctx({ accountId: 'acc-7' }))?.rule.id).toBe('target');
    expect(index.match(ctx({ accountId: 'acc-7', e164: '+447409999999' }))?.rule.id).toBe('near');
  });
});
