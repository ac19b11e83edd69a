import { describe, expect, it } from 'vitest';
import {
  AccountState,
  BillingMode,
  FirewallAction,
  RateDirection,
  RouteStrategy,
  type Account,
  type FirewallRule,
  type RoutingRule,
} from '@smshub/contracts';
import { accountFromRow, accountValues } from './accounts.js';
import { accountBalance, toMinor } from './balances.js';
import { connectorValues } from './connectors.js';
import { firewallValues } from './firewall.js';
import { importedRateId, rateFromCsv } from './imports.js';
import { ruleValues } from './routing-rules.js';

const account: Account = {
  id: '',
  name: 'ACME',
  state: AccountState.ACCOUNT_STATE_SUSPENDED,
  billingMode: BillingMode.BILLING_MODE_POSTPAID,
  currencyCode: 'EUR',
  smppCredentials: [
    {
      systemId: 'acme',
      password: 'pw',
      passwordHash: 'ignored',
      allowedCidrs: ['10.0.0.0/8'],
      maxBinds: 0,
      maxSubmitRate: 0,
      windowSize: 5,
    },
  ],
  defaultTrafficType: 1,
  allowedSources: ['^ACME$'],
  receiptIncludeText: true,
  messageIdFormat: 'hex',
  revision: 0n,
  routingGroup: '',
  defaultCountry: 'GB',
  pricePlanId: '',
  defaultValiditySeconds: 0,
  chargeOn: 0,
};

describe('accounts', () => {
  it('maps an Account to the columns ingress, routing and rating read, with defaults', () => {
    const { values, password } = accountValues(account, true);
    expect(password).toBe('pw');
    expect(values).toMatchObject({
      state: 'suspended',
      billingMode: 'postpaid',
      systemId: 'acme',
      maxBinds: 1,
      tpsLimit: 10,
      maxWindow: 5,
      defaultTrafficType: 'OTP',
      routingGroup: null,
      defaultCountry: 'GB',
      defaultValiditySeconds: 172_800,
      chargeOn: 'submit',
      // Unset on create: new accounts refuse unpriced traffic.
      refuseUnrated: true,
    });
    expect(accountValues({ ...account, refuseUnrated: false }, true).values.refuseUnrated).toBe(false);
    expect(values.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('names the field of a bad value', () => {
    expect(() => accountValues({ ...account, smppCredentials: [] }, true)).toThrow(
      /^account\.smpp_credentials: must hold exactly one/,
    );
    expect(() => accountValues({ ...account, id: 'acc_1' }, true)).toThrow(/^account\.id: must be a UUID/);
    expect(() => accountValues({ ...account, allowedSources: ['('] }, true)).toThrow(
      /^account\.allowed_sources\[0\]/,
    );
    expect(() => accountValues({ ...account, defaultCountry: 'gb' }, true)).toThrow(
      /^account\.default_country/,
    );
  });

  it('never returns password hashes', () => {
    const a = accountFromRow({
      id: 'x',
      name: '',
      state: 'active',
      billing_mode: 'prepaid',
      currency: 'EUR',
      system_id: 's',
      allowed_cidrs: [],
      max_binds: 1,
      tps_limit: 1,
      max_window: 1,
      default_traffic_type: 'UNSPECIFIED',
      allowed_sources: [],
      receipt_include_text: false,
      message_id_format: '',
      routing_group: null,
      default_country: null,
      price_plan_id: null,
      default_validity_seconds: 60,
      charge_on: 'delivery',
      refuse_unrated: true,
      mo_reassemble: true,
      credit_limit_minor: '0',
      revision: '4',
      created_at: new Date(0),
      updated_at: new Date(0),
    });
    expect(a.smppCredentials[0]!.passwordHash).toBe('');
    expect(a.revision).toBe(4n);
    expect(a.state).toBe(AccountState.ACCOUNT_STATE_ACTIVE);
  });
});

describe('routing and firewall rules', () => {
  const rule: RoutingRule = {
    id: 'rr_1',
    name: '',
    priority: 0,
    enabled: true,
    accountIds: ['a'],
    destinationPrefixes: ['+44'],
    mccMncs: ['23415'],
    trafficTypes: [1, 3],
    strategy: RouteStrategy.ROUTE_STRATEGY_QUALITY,
    targets: [{ connectorId: 'c1', weight: 0 }],
    revision: 0n,
    accountGroups: [],
    countries: ['GB'],
    strategyCurrency: '',
    block: false,
    blockReason: '',
    senders: [],
  };

  it('writes routing vocabulary: prefixes without +, "mcc-mnc", traffic names, strategy names', () => {
    expect(ruleValues(rule)).toMatchObject({
      destinationPrefixes: ['44'],
      mccMncs: ['234-15'],
      trafficTypes: ['OTP', 'MARKETING'],
      strategy: 'best_quality',
      targets: [{ connectorId: 'c1', weight: 1 }],
      action: 'route',
    });
    expect(() => ruleValues({ ...rule, accountGroups: ['g'] })).toThrow(
      /^routing_rule\.account_groups: cannot be combined/,
    );
    expect(() => ruleValues({ ...rule, targets: [] })).toThrow(/^routing_rule\.targets:/);
    expect(ruleValues({ ...rule, targets: [], block: true }).action).toBe('block');
  });

  const fw: FirewallRule = {
    id: 'fw',
    name: '',
    priority: 0,
    enabled: true,
    action: FirewallAction.FIREWALL_ACTION_BLOCK,
    accountIds: [],
    sourcePatterns: ['BANK*'],
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

  it('derives firewall kinds from the pattern fields and refuses what routing does not support', () => {
    expect(firewallValues(fw)).toMatchObject({
      kind: 'sender_deny',
      params: { patterns: [{ glob: 'BANK*' }] },
    });
    expect(firewallValues({ ...fw, sourcePatterns: [], contentPatterns: ['casino'] })).toMatchObject({
      kind: 'keyword',
      params: { keywords: ['casino'] },
    });
    expect(() => firewallValues({ ...fw, trafficTypes: [1] })).toThrow(/^firewall_rule\.traffic_types/);
    expect(() => firewallValues({ ...fw, destinationPrefixes: ['44'] })).toThrow(/set exactly one/);
    expect(() => firewallValues({ ...fw, kind: 'duplicate', paramsJson: '[1]' })).toThrow(
      /must be a JSON object/,
    );
    expect(firewallValues({ ...fw, kind: 'duplicate', paramsJson: '{"windowSeconds":30}' }).params).toEqual({
      windowSeconds: 30,
    });
  });
});

describe('connectors', () => {
  const bind = {
    host: '10.1.2.3',
    port: 2775,
    tls: true,
    systemId: 'hub',
    password: 'pw',
    passwordSecretRef: '',
    systemType: 'SMS',
    interfaceVersion: 0x50,
    sessions: 0,
    transceiver: false,
  };
  const con = {
    id: 'con_x',
    name: 'X',
    supplierId: '',
    enabled: true,
    binds: [bind],
    windowSize: 0,
    maxSubmitRate: 20,
    responseTimeoutMs: 0,
    messageIdFormat: 0,
    receiptTimeZone: '',
    supportsMessagePayload: true,
    currencyCode: '',
    revision: 0n,
  };

  it('maps a Connector to egress_connectors columns with their defaults', () => {
    expect(connectorValues(con, true)).toMatchObject({
      interfaceVersion: 80,
      bindType: 'transmitter_receiver',
      sessions: 1,
      windowSize: 10,
      responseTimeoutMs: 30_000,
      messageIdFormat: 'unspecified',
      receiptTimeZone: 'UTC',
      payload: true,
      password: 'pw',
      supplierId: null,
    });
  });

  it('needs a secret on create, one kind of secret, and a supplier TPS', () => {
    expect(() => connectorValues({ ...con, binds: [{ ...bind, password: '' }] }, true)).toThrow(
      /password: is required/,
    );
    expect(connectorValues({ ...con, binds: [{ ...bind, password: '' }] }, false).password).toBeUndefined();
    expect(() =>
      connectorValues({ ...con, binds: [{ ...bind, passwordSecretRef: 'file:/run/s' }] }, true),
    ).toThrow(/not both/);
    expect(() =>
      connectorValues({ ...con, binds: [{ ...bind, password: '', passwordSecretRef: '/run/s' }] }, true),
    ).toThrow(/password_secret_ref: must be "file:\/path"/);
    expect(() => connectorValues({ ...con, maxSubmitRate: 0 }, true)).toThrow(/^connector\.max_submit_rate/);
    expect(() => connectorValues({ ...con, binds: [] }, true)).toThrow(
      /^connector\.binds: must hold exactly one/,
    );
  });
});

describe('money', () => {
  it('converts amounts to the account currency minor units without losing precision', () => {
    expect(toMinor('amount', { currencyCode: 'EUR', minorUnits: 1050n, scale: 2 }, 'EUR')).toBe(1050n);
    expect(toMinor('amount', { currencyCode: 'EUR', minorUnits: 105n, scale: 1 }, 'EUR')).toBe(1050n);
    expect(toMinor('amount', { currencyCode: 'JPY', minorUnits: 5000n, scale: 2 }, 'JPY')).toBe(50n);
    expect(() => toMinor('amount', { currencyCode: 'EUR', minorUnits: 1n, scale: 3 }, 'EUR')).toThrow(
      /more decimals/,
    );
    expect(() => toMinor('amount', { currencyCode: 'USD', minorUnits: 1n, scale: 2 }, 'EUR')).toThrow(
      /^amount\.currency_code/,
    );
  });

  it('computes the balances.v1 record like rating: spendable <= 0 is blocked', () => {
    const prepaid = { id: 'a', billing_mode: 'prepaid', credit_limit_minor: '1000', currency: 'EUR' };
    expect(accountBalance(prepaid, undefined).blocked).toBe(true);
    const row = { balance_minor: '-200', revision: '7', updated_at: new Date(0), currency: 'EUR' };
    const post = accountBalance({ ...prepaid, billing_mode: 'postpaid' }, row);
    expect(post.available).toEqual({ currencyCode: 'EUR', minorUnits: 800n, scale: 2 });
    expect(post.blocked).toBe(false);
    expect(post.revision).toBe(7n);
  });

  it('gives an imported rate a stable id from its party, destination and start', () => {
    const line = {
      direction: 'SELL',
      party_id: '0190f5b4-0000-7000-8000-000000000001',
      destination_prefix: '44',
      mcc_mnc: '',
      traffic_type: '',
      price: '0.01',
      currency: 'EUR',
      valid_from: '2026-01-01T00:00:00Z',
      valid_until: '',
    };
    const a = rateFromCsv(line);
    expect(a.id).toBe(rateFromCsv({ ...line, price: '0.02' }).id);
    expect(a.id).not.toBe(rateFromCsv({ ...line, destination_prefix: '33' }).id);
    expect(a.id).toBe(importedRateId(a));
    expect(a).toMatchObject({ ownerKind: 'account', priceAmount: 1n, priceScale: 2 });
    expect(() => rateFromCsv({ ...line, direction: 'both' })).toThrow(/^direction: must be sell or buy/);
    expect(RateDirection.RATE_DIRECTION_SELL).toBe(1);
  });
});
