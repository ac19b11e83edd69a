import { describe, expect, it } from 'vitest';
import { buildRoutingTables } from './domain/engine.js';
import { rerouteTerms } from './domain/reroute.js';
import { firewallFromRow, ruleFromRow, type FirewallRow, type RuleRow } from './store.js';

const base: RuleRow = {
  id: 'r1',
  priority: 0,
  enabled: true,
  account_ids: [],
  account_groups: [],
  destination_prefixes: [],
  countries: ['GB'],
  mcc_mncs: [],
  senders: [],
  time_window: null,
  traffic_types: [],
  action: 'route',
  block_reason: '',
  strategy: 'priority',
  strategy_currency: null,
  strategy_options: {},
  sender_rewrite: null,
  candidates: [
    { connectorId: 'con_a', weight: 3 },
    { connectorId: 'con_b', weight: 1 },
  ],
};

describe('ruleFromRow', () => {
  it("reads the rule's reroute policy (libs/contracts reroutePolicyFromJson); unset keys get routing's defaults", () => {
    const action = (reroute: unknown) => {
      const a = ruleFromRow({ ...base, reroute } as RuleRow).action;
      return a.kind === 'route' ? a.reroute : undefined;
    };
    expect(action(null)).toBeUndefined();
    const p = action({ enabled: true, failures: ['REJECTD:045', 3], windowMs: 'x' });
    expect(p).toEqual({ enabled: true, failures: ['REJECTD:045'], exceptErrors: [] });
    expect(rerouteTerms(p, 'MARKETING', 'r1')).toEqual({
      failures: ['REJECTD:045'],
      exceptErrors: [],
      windowMs: 30_000,
      ruleId: 'r1',
    });
    expect(rerouteTerms(action({}), 'OTP', 'r1')?.failures).toEqual(['UNDELIV', 'REJECTD']);
  });

  it('maps match columns, leaving empty arrays out (they match anything)', () => {
    const r = ruleFromRow({
      ...base,
      account_groups: ['gold'],
      senders: [{ glob: 'ACME*' }],
      traffic_types: ['OTP'],
    });
    expect(r.match).toEqual({
      accountGroups: ['gold'],
      countries: ['GB'],
      senders: [{ glob: 'ACME*' }],
      trafficTypes: ['OTP'],
    });
    expect(r.action).toEqual({
      kind: 'route',
      strategy: { kind: 'priority', connectors: ['con_a', 'con_b'] },
    });
  });

  it('maps weighted, least cost and score strategies, blocks and sender rewrites', () => {
    expect(ruleFromRow({ ...base, strategy: 'weighted' }).action).toMatchObject({
      strategy: {
        kind: 'weighted',
        split: [
          { connectorId: 'con_a', weight: 3 },
          { connectorId: 'con_b', weight: 1 },
        ],
      },
    });
    expect(ruleFromRow({ ...base, strategy: 'least_cost', strategy_currency: 'EUR' }).action).toMatchObject({
      strategy: { kind: 'least_cost', currency: 'EUR' },
    });
    expect(
      ruleFromRow({
        ...base,
        strategy: 'score',
        strategy_currency: 'EUR',
        strategy_options: { weights: { quality: 0.7, cost: 0.3 }, minSamples: 50 },
        sender_rewrite: { sourceAddr: 'ACME' },
      }).action,
    ).toMatchObject({
      strategy: { kind: 'score', weights: { quality: 0.7, cost: 0.3 }, minSamples: 50 },
      senderRewrite: { sourceAddr: 'ACME' },
    });
    expect(ruleFromRow({ ...base, action: 'block', block_reason: 'fraud' }).action).toEqual({
      kind: 'block',
      reason: 'fraud',
    });
  });
});

describe('firewallFromRow', () => {
  const fw: FirewallRow = {
    id: 'fw1',
    kind: 'velocity_account',
    enabled: true,
    account_ids: ['acc_1'],
    account_groups: [],
    countries: [],
    reason: '',
    params: { limit: 10, windowSeconds: 60 },
  };

  it('spreads the parameters and keeps id and kind from the columns', () => {
    expect(firewallFromRow({ ...fw, params: { ...fw.params, id: 'other', kind: 'keyword' } })).toEqual({
      id: 'fw1',
      kind: 'velocity_account',
      enabled: true,
      scope: { accountIds: ['acc_1'] },
      limit: 10,
      windowSeconds: 60,
    });
  });

  it('produces rules the domain compiles, and an invalid one makes the build throw', () => {
    expect(() =>
      buildRoutingTables({
        version: 'v',
        prefixes: [],
        rules: [ruleFromRow(base)],
        firewall: [firewallFromRow(fw)],
        connectors: [],
      }),
    ).not.toThrow();
    expect(() =>
      buildRoutingTables({
        version: 'v',
        prefixes: [],
        rules: [],
        firewall: [firewallFromRow({ ...fw, kind: 'content_regex', params: { pattern: '(' } })],
        connectors: [],
      }),
    ).toThrow(/fw1/);
  });
});
