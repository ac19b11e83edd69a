// Connectors, routing rules, firewall rules, rates and number data over real gRPC, Postgres and Kafka.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountState,
  BillingMode,
  ChangeAction,
  FirewallAction,
  MessageIdFormat,
  RateDirection,
  ResourceKind,
  RouteStrategy,
  type Connector,
  type FirewallRule,
  type Rate,
  type RoutingRule,
} from '@smshub/contracts';
import { openSecret } from '@smshub/secrets';
import { AdminHarness, CONNECTOR_KEY } from './harness.js';

const h = new AdminHarness();
beforeAll(() => h.setup());
afterAll(() => h.teardown());

function connector(id: string, over: Partial<Connector> = {}): Connector {
  return {
    id,
    name: `Supplier ${id}`,
    supplierId: 'sup_voda',
    enabled: true,
    binds: [
      {
        host: 'smsc.example.net',
        port: 2775,
        tls: false,
        systemId: 'hub1',
        password: 'pw123',
        passwordSecretRef: '',
        systemType: '',
        interfaceVersion: 0,
        sessions: 2,
        transceiver: true,
      },
    ],
    windowSize: 0,
    maxSubmitRate: 100,
    responseTimeoutMs: 0,
    messageIdFormat: MessageIdFormat.MESSAGE_ID_FORMAT_HEX_RESP_DECIMAL_RECEIPT,
    receiptTimeZone: 'Europe/London',
    supportsMessagePayload: false,
    currencyCode: 'EUR',
    revision: 0n,
    ...over,
  };
}

function rule(id: string, over: Partial<RoutingRule> = {}): RoutingRule {
  return {
    id,
    name: 'UK traffic',
    priority: 10,
    enabled: true,
    accountIds: [],
    destinationPrefixes: ['44'],
    mccMncs: ['234-15'],
    trafficTypes: [],
    strategy: RouteStrategy.ROUTE_STRATEGY_PRIORITY,
    targets: [{ connectorId: 'con_a', weight: 1 }],
    revision: 0n,
    accountGroups: [],
    countries: [],
    strategyCurrency: '',
    block: false,
    blockReason: '',
    senders: [],
    ...over,
  };
}

const created = (kind: ResourceKind, id: string, action = ChangeAction.CHANGE_ACTION_CREATED) =>
  h.change((c) => c.kind === kind && c.resourceId === id && c.action === action);

describe('connectors', () => {
  it('stores the password sealed under the connector key (AAD = id) and never returns it', async () => {
    const { connector: c } = await h.call('createConnector', { connector: connector('con_a') });
    expect(c!.binds[0]!.password).toBe('');
    expect(c!.revision).toBe(1n);
    expect(c!.supplierId).toBe('sup_voda');
    const row = await h.pool.query(
      'SELECT password_sealed, window_size, message_id_format, interface_version FROM egress_connectors WHERE id = $1',
      ['con_a'],
    );
    expect(openSecret(CONNECTOR_KEY, row.rows[0].password_sealed, 'con_a')).toBe('pw123');
    expect(row.rows[0].window_size).toBe(10);
    expect(row.rows[0].message_id_format).toBe('hex_resp_decimal_receipt');
    expect(row.rows[0].interface_version).toBe(52);
    const ev = await created(ResourceKind.RESOURCE_KIND_CONNECTOR, 'con_a');
    expect(ev.snapshot?.$case === 'connector' && ev.snapshot.value.binds[0]!.password).toBe('');

    const { connector: upd } = await h.call('updateConnector', {
      connector: { ...c!, name: 'Renamed' },
      updateMask: ['name'],
      expectedRevision: 1n,
    });
    expect(upd!.name).toBe('Renamed');
    const after = await h.pool.query('SELECT password_sealed FROM egress_connectors WHERE id = $1', [
      'con_a',
    ]);
    expect(openSecret(CONNECTOR_KEY, after.rows[0].password_sealed, 'con_a')).toBe('pw123');
    await created(ResourceKind.RESOURCE_KIND_CONNECTOR, 'con_a', ChangeAction.CHANGE_ACTION_UPDATED);

    const list = await h.call('listConnectors', { pageSize: 10, pageToken: '', supplierId: 'sup_voda' });
    expect(list.connectors.map((x) => x.id)).toEqual(['con_a']);
    const dup = await h.fail('createConnector', { connector: connector('con_a') });
    expect(dup.code).toBe(grpc.status.ALREADY_EXISTS);
  });

  it('refuses bad input naming the field', async () => {
    const e1 = await h.fail('createConnector', {
      connector: connector('con_bad', { binds: [{ ...connector('x').binds[0]!, port: 70000 }] }),
    });
    expect(e1.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e1.details).toMatch(/^connector\.binds\[0\]\.port:/);
    const e2 = await h.fail('createConnector', { connector: connector('bad id!') });
    expect(e2.details).toMatch(/^connector\.id:/);
    const e3 = await h.fail('createConnector', {
      connector: connector('con_nopw', { binds: [{ ...connector('x').binds[0]!, password: '' }] }),
    });
    expect(e3.details).toMatch(/password.*required/);
    const e4 = await h.fail('createConnector', {
      connector: connector('con_tz', { receiptTimeZone: 'Mars/Base' }),
    });
    expect(e4.details).toMatch(/^connector\.receipt_time_zone:/);
  });
});

describe('routing rules', () => {
  it('creates a rule with its candidates, refuses unknown connectors, and blocks deleting a used connector', async () => {
    const { routingRule: r } = await h.call('createRoutingRule', { routingRule: rule('rr_uk') });
    expect(r!.targets).toEqual([{ connectorId: 'con_a', weight: 1 }]);
    const cand = await h.pool.query(
      'SELECT connector_id, position FROM routing_rule_candidates WHERE rule_id = $1',
      ['rr_uk'],
    );
    expect(cand.rows).toEqual([{ connector_id: 'con_a', position: 0 }]);
    const mm = await h.pool.query('SELECT mcc_mncs, strategy FROM routing_rules WHERE id = $1', ['rr_uk']);
    expect(mm.rows[0]).toEqual({ mcc_mncs: ['234-15'], strategy: 'priority' });
    await created(ResourceKind.RESOURCE_KIND_ROUTING_RULE, 'rr_uk');

    const unknown = await h.fail('createRoutingRule', {
      routingRule: rule('rr_x', { targets: [{ connectorId: 'con_nope', weight: 1 }] }),
    });
    expect(unknown.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(unknown.details).toMatch(/con_nope/);

    const lc = await h.fail('createRoutingRule', {
      routingRule: rule('rr_lc', { strategy: RouteStrategy.ROUTE_STRATEGY_LEAST_COST }),
    });
    expect(lc.details).toMatch(/^routing_rule\.strategy_currency:/);

    const used = await h.fail('deleteConnector', { id: 'con_a', expectedRevision: 0n });
    expect(used.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(used.details).toMatch(/rr_uk/);

    const { routingRule: blocked } = await h.call('updateRoutingRule', {
      routingRule: { ...r!, block: true, blockReason: 'fraud' },
      updateMask: ['block', 'block_reason'],
      expectedRevision: 0n,
    });
    expect(blocked!.block).toBe(true);
    expect(blocked!.targets).toEqual([]);
    await created(ResourceKind.RESOURCE_KIND_ROUTING_RULE, 'rr_uk', ChangeAction.CHANGE_ACTION_UPDATED);

    await h.call('deleteRoutingRule', { id: 'rr_uk', expectedRevision: 0n });
    await created(ResourceKind.RESOURCE_KIND_ROUTING_RULE, 'rr_uk', ChangeAction.CHANGE_ACTION_DELETED);
    await h.call('deleteConnector', { id: 'con_a', expectedRevision: 0n });
    await created(ResourceKind.RESOURCE_KIND_CONNECTOR, 'con_a', ChangeAction.CHANGE_ACTION_DELETED);
    expect((await h.fail('getConnector', { id: 'con_a' })).code).toBe(grpc.status.NOT_FOUND);
    const supplier = await h.pool.query('SELECT 1 FROM rating_connectors WHERE connector_id = $1', ['con_a']);
    expect(supplier.rowCount).toBe(0);
  });
});

describe('firewall rules', () => {
  const base: FirewallRule = {
    id: 'fw_1',
    name: 'premium block',
    priority: 0,
    enabled: true,
    action: FirewallAction.FIREWALL_ACTION_BLOCK,
    accountIds: [],
    sourcePatterns: [],
    senders: [],
    destinationPrefixes: ['44909'],
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

  it('maps the pattern shorthand and explicit kinds to routing rows', async () => {
    const { firewallRule: f } = await h.call('createFirewallRule', { firewallRule: base });
    expect(f!.kind).toBe('destination_block');
    const row = await h.pool.query('SELECT kind, params FROM routing_firewall_rules WHERE id = $1', ['fw_1']);
    expect(row.rows[0]).toEqual({ kind: 'destination_block', params: { prefixes: ['44909'] } });
    await created(ResourceKind.RESOURCE_KIND_FIREWALL_RULE, 'fw_1');

    const { firewallRule: v } = await h.call('createFirewallRule', {
      firewallRule: {
        ...base,
        id: 'fw_vel',
        destinationPrefixes: [],
        kind: 'velocity_account',
        paramsJson: '{"limit":100,"windowSeconds":60}',
      },
    });
    expect(JSON.parse(v!.paramsJson)).toEqual({ limit: 100, windowSeconds: 60 });

    const { firewallRule: allow } = await h.call('createFirewallRule', {
      firewallRule: {
        ...base,
        id: 'fw_allow',
        destinationPrefixes: [],
        sourcePatterns: ['ACME*'],
        action: FirewallAction.FIREWALL_ACTION_ALLOW,
      },
    });
    expect(allow!.kind).toBe('sender_allow');
    expect(allow!.sourcePatterns).toEqual(['ACME*']);

    const { firewallRule: upd } = await h.call('updateFirewallRule', {
      firewallRule: { ...f!, destinationPrefixes: ['44908', '44909'] },
      updateMask: ['destination_prefixes'],
      expectedRevision: 1n,
    });
    expect(upd!.destinationPrefixes).toEqual(['44908', '44909']);
    await h.call('deleteFirewallRule', { id: 'fw_vel', expectedRevision: 0n });
    await created(ResourceKind.RESOURCE_KIND_FIREWALL_RULE, 'fw_vel', ChangeAction.CHANGE_ACTION_DELETED);
  });

  it('refuses parameters routing could not compile', async () => {
    const e1 = await h.fail('createFirewallRule', {
      firewallRule: {
        ...base,
        id: 'fw_re',
        destinationPrefixes: [],
        kind: 'content_regex',
        paramsJson: '{"pattern":"(unclosed"}',
      },
    });
    expect(e1.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e1.details).toMatch(/^firewall_rule\.params_json:.*regular expression/);
    const e2 = await h.fail('createFirewallRule', {
      firewallRule: { ...base, id: 'fw_k', destinationPrefixes: [], kind: 'teleport', paramsJson: '{}' },
    });
    expect(e2.details).toMatch(/^firewall_rule\.kind:/);
    const e3 = await h.fail('createFirewallRule', {
      firewallRule: {
        ...base,
        id: 'fw_b',
        destinationPrefixes: [],
        kind: 'sequential_burst',
        paramsJson: '{"count":1,"windowSeconds":5,"varyingDigits":2}',
      },
    });
    expect(e3.details).toMatch(/"count"/);
  });
});

describe('rates and number data', () => {
  it('creates sell and buy rates against existing parties only', async () => {
    const { account } = await h.call('createAccount', {
      account: {
        id: '',
        name: 'Rated',
        state: AccountState.ACCOUNT_STATE_ACTIVE,
        billingMode: BillingMode.BILLING_MODE_PREPAID,
        currencyCode: 'EUR',
        smppCredentials: [
          {
            systemId: 'rated1',
            password: 'pw',
            passwordHash: '',
            allowedCidrs: [],
            maxBinds: 0,
            maxSubmitRate: 0,
            windowSize: 0,
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
      },
    });
    const rate: Rate = {
      id: 'rt_uk_sell',
      direction: RateDirection.RATE_DIRECTION_SELL,
      partyId: account!.id,
      destinationPrefix: '44',
      mccMnc: '',
      trafficType: 0,
      price: { currencyCode: 'EUR', minorUnits: 3450n, scale: 6 },
      validFrom: new Date('2026-01-01T00:00:00Z'),
      revision: 0n,
      countryCode: '',
      pricePlanId: '',
      inbound: false,
    };
    const { rate: r } = await h.call('createRate', { rate });
    expect(r!.price).toEqual({ currencyCode: 'EUR', minorUnits: 3450n, scale: 6 });
    const row = await h.pool.query(
      'SELECT owner_kind, owner_id, price_amount, price_scale FROM rating_rates WHERE id = $1',
      ['rt_uk_sell'],
    );
    expect(row.rows[0]).toEqual({
      owner_kind: 'account',
      owner_id: account!.id,
      price_amount: '3450',
      price_scale: 6,
    });
    await created(ResourceKind.RESOURCE_KIND_RATE, 'rt_uk_sell');

    const buy = await h.fail('createRate', {
      rate: { ...rate, id: 'rt_buy', direction: RateDirection.RATE_DIRECTION_BUY, partyId: 'con_missing' },
    });
    expect(buy.code).toBe(grpc.status.FAILED_PRECONDITION);
    const two = await h.fail('createRate', { rate: { ...rate, id: 'rt_two', mccMnc: '234-15' } });
    expect(two.details).toMatch(/^rate\.destination_prefix: exactly one/);

    // an inbound (MO) sell rate is stored and read back as such; a buy rate cannot be inbound
    const { rate: mo } = await h.call('createRate', {
      rate: { ...rate, id: 'rt_fr_mo', destinationPrefix: '33', inbound: true },
    });
    expect(mo!.inbound).toBe(true);
    expect(r!.inbound).toBe(false);
    const moRow = await h.pool.query('SELECT inbound FROM rating_rates WHERE id = $1', ['rt_fr_mo']);
    expect(moRow.rows[0]).toEqual({ inbound: true });
    const inboundBuy = await h.fail('createRate', {
      rate: {
        ...rate,
        id: 'rt_buy_mo',
        direction: RateDirection.RATE_DIRECTION_BUY,
        partyId: 'x',
        inbound: true,
      },
    });
    expect(inboundBuy.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(inboundBuy.details).toMatch(/^rate\.inbound: is only for SELL rates/);
    await h.call('deleteRate', { id: 'rt_fr_mo', expectedRevision: 1n });

    const { rate: up } = await h.call('updateRate', {
      rate: { ...r!, price: { currencyCode: 'EUR', minorUnits: 4000n, scale: 6 } },
      updateMask: ['price'],
      expectedRevision: 1n,
    });
    expect(up!.revision).toBe(2n);
    const listed = await h.call('listRates', {
      pageSize: 0,
      pageToken: '',
      direction: RateDirection.RATE_DIRECTION_SELL,
      partyId: account!.id,
      destinationPrefix: '4',
      validAt: new Date('2026-06-01T00:00:00Z'),
    });
    expect(listed.rates.map((x) => x.id)).toEqual(['rt_uk_sell']);
    const used = await h.fail('deleteAccount', { id: account!.id, expectedRevision: 0n });
    expect(used.code).toBe(grpc.status.FAILED_PRECONDITION);
    await h.call('deleteRate', { id: 'rt_uk_sell', expectedRevision: 2n });
    await created(ResourceKind.RESOURCE_KIND_RATE, 'rt_uk_sell', ChangeAction.CHANGE_ACTION_DELETED);
  });

  it('manages number prefixes and ported numbers, paging in id order', async () => {
    for (const p of ['4477', '4478', '4479']) {
      await h.call('createNumberPrefix', {
        numberPrefix: {
          prefix: p,
          countryCode: 'GB',
          mcc: '234',
          mnc: '15',
          networkName: 'Vodafone UK',
          revision: 0n,
        },
      });
    }
    const page1 = await h.call('listNumberPrefixes', {
      pageSize: 2,
      pageToken: '',
      prefixStartsWith: '447',
      countryCode: '',
    });
    expect(page1.numberPrefixes.map((p) => p.prefix)).toEqual(['4477', '4478']);
    const page2 = await h.call('listNumberPrefixes', {
      pageSize: 2,
      pageToken: page1.nextPageToken,
      prefixStartsWith: '447',
      countryCode: '',
    });
    expect(page2.numberPrefixes.map((p) => p.prefix)).toEqual(['4479']);
    expect(page2.nextPageToken).toBe('');
    const other = await h.fail('listNumberPrefixes', {
      pageSize: 2,
      pageToken: page1.nextPageToken,
      prefixStartsWith: '',
      countryCode: '',
    });
    expect(other.details).toMatch(/^page_token:/);
    await created(ResourceKind.RESOURCE_KIND_NUMBER_PREFIX, '4479');
    const bad = await h.fail('createNumberPrefix', {
      numberPrefix: {
        prefix: '4470',
        countryCode: 'GBR',
        mcc: '234',
        mnc: '15',
        networkName: '',
        revision: 0n,
      },
    });
    expect(bad.details).toMatch(/^number_prefix\.country_code:/);

    const { portedNumber } = await h.call('createPortedNumber', {
      portedNumber: { msisdn: '+447700900123', mcc: '234', mnc: '30', source: 'NPDB', revision: 0n },
    });
    expect(portedNumber!.msisdn).toBe('447700900123');
    const ev = await created(ResourceKind.RESOURCE_KIND_PORTED_NUMBER, '447700900123');
    expect(ev.snapshot?.$case).toBe('portedNumber');
    const { portedNumber: moved } = await h.call('updatePortedNumber', {
      portedNumber: { ...portedNumber!, mnc: '20' },
      updateMask: ['mnc'],
      expectedRevision: 0n,
    });
    expect(moved!.mnc).toBe('20');
    const row = await h.pool.query('SELECT mnc FROM routing_ported_numbers WHERE e164 = $1', [
      '447700900123',
    ]);
    expect(row.rows[0].mnc).toBe('20');
    await h.call('deletePortedNumber', { msisdn: '447700900123', expectedRevision: 0n });
    expect((await h.fail('getPortedNumber', { msisdn: '447700900123' })).code).toBe(grpc.status.NOT_FOUND);
  });
});
