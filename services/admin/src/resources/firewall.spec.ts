import { describe, expect, it } from 'vitest';
import { FirewallAction, type FirewallRule } from '@smshub/contracts';
import { firewallFromRow, firewallValues } from './firewall.js';

const rule: FirewallRule = {
  id: 'fw',
  name: 'spoofed senders',
  priority: 0,
  enabled: true,
  action: FirewallAction.FIREWALL_ACTION_BLOCK,
  accountIds: [],
  sourcePatterns: [],
  senders: [],
  destinationPrefixes: [],
  contentPatterns: [],
  trafficTypes: [],
  customerErrorCode: '',
  revision: 0n,
  kind: '',
  paramsJson: '',
  accountGroups: [],
  countries: [],
  reason: '',
};

const glob = (value: string) => ({ pattern: { $case: 'glob' as const, value } });
const regex = (value: string, flags?: string) => ({
  pattern: { $case: 'regex' as const, value },
  ...(flags === undefined ? {} : { flags }),
});

describe('firewall sender patterns', () => {
  it('stores senders as the globs and regular expressions routing compiles', () => {
    const v = firewallValues({ ...rule, senders: [glob('PayPal*'), regex('^paypa[1l]$'), regex('^X$', '')] });
    expect(v).toMatchObject({
      kind: 'sender_deny',
      params: { patterns: [{ glob: 'PayPal*' }, { regex: '^paypa[1l]$' }, { regex: '^X$', flags: '' }] },
    });
    const allow = firewallValues({
      ...rule,
      action: FirewallAction.FIREWALL_ACTION_ALLOW,
      senders: [regex('^\\d{5}$')],
    });
    expect(allow).toMatchObject({ kind: 'sender_allow', params: { patterns: [{ regex: '^\\d{5}$' }] } });
  });

  it('keeps source_patterns as globs (what stored rules mean) and merges them with senders once', () => {
    expect(firewallValues({ ...rule, sourcePatterns: ['BANK*', 'Dr.Who'] }).params).toEqual({
      patterns: [{ glob: 'BANK*' }, { glob: 'Dr.Who' }],
    });
    // A rule read back (Get fills both fields) and written again keeps each pattern once.
    expect(
      firewallValues({ ...rule, senders: [glob('BANK*'), regex('^b4nk')], sourcePatterns: ['BANK*'] }).params,
    ).toEqual({ patterns: [{ glob: 'BANK*' }, { regex: '^b4nk' }] });
  });

  it('refuses a source_patterns value written as a regular expression, naming the field', () => {
    for (const v of ['^ACME$', 'ACME.*', '(A|B)', 'BANK[0-9]', '\\d+'])
      expect(() => firewallValues({ ...rule, sourcePatterns: ['OK*', v] }), v).toThrow(
        /^firewall_rule\.source_patterns\[1\]: .*regular-expression syntax.*senders/,
      );
    expect(() => firewallValues({ ...rule, sourcePatterns: [' '] })).toThrow(
      /^firewall_rule\.source_patterns\[0\]: must not be empty/,
    );
  });

  it('refuses invalid senders, naming the field', () => {
    expect(() => firewallValues({ ...rule, senders: [glob('A*'), regex('(unclosed')] })).toThrow(
      /^firewall_rule\.senders\[1\]\.regex: is not valid/,
    );
    expect(() => firewallValues({ ...rule, senders: [regex('^A', 'g')] })).toThrow(
      /^firewall_rule\.senders\[0\]\.flags:/,
    );
    expect(() => firewallValues({ ...rule, senders: [glob('')] })).toThrow(
      /^firewall_rule\.senders\[0\]\.glob: must not be empty/,
    );
    expect(() => firewallValues({ ...rule, senders: [{}] })).toThrow(
      /^firewall_rule\.senders\[0\]: set glob/,
    );
    expect(() => firewallValues({ ...rule, senders: [glob('A*')], destinationPrefixes: ['44'] })).toThrow(
      /set exactly one/,
    );
    expect(() =>
      firewallValues({
        ...rule,
        kind: 'sender_deny',
        paramsJson: '{"patterns":[{"regex":"^A","flags":"gi"}]}',
      }),
    ).toThrow(/^firewall_rule\.params_json: patterns\[0\]\.flags: "g" and "y" are not allowed/);
  });

  it('reads a stored sender rule back with every pattern in senders and its globs in source_patterns', () => {
    const at = new Date();
    const r = firewallFromRow({
      id: 'fw',
      name: 'n',
      kind: 'sender_deny',
      enabled: true,
      account_ids: [],
      account_groups: [],
      countries: [],
      reason: '',
      params: { patterns: [{ glob: 'BANK*' }, { regex: '^b4nk', flags: 'i' }] },
      revision: '3',
      created_at: at,
      updated_at: at,
    });
    expect(r.senders).toEqual([glob('BANK*'), regex('^b4nk', 'i')]);
    expect(r.sourcePatterns).toEqual(['BANK*']);
  });
});
