// Routing rules' sender patterns, time window, strategy options and sender rewrite over real gRPC, Postgres
// and Kafka: written to the routing_rules jsonb columns in routing's vocabulary, read back, changed through
// update masks, announced in the change snapshot, and refused (INVALID_ARGUMENT naming the field) when
// routing could not compile them.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeAction,
  MessageIdFormat,
  ResourceKind,
  RouteStrategy,
  type RoutingRule,
} from '@smshub/contracts';
import { AdminHarness } from './harness.js';

const h = new AdminHarness();
beforeAll(async () => {
  await h.setup();
  await h.call('createConnector', {
    connector: {
      id: 'con_o',
      name: 'Supplier O',
      supplierId: 'sup_o',
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
          sessions: 1,
          transceiver: true,
        },
      ],
      windowSize: 0,
      maxSubmitRate: 10,
      responseTimeoutMs: 0,
      messageIdFormat: MessageIdFormat.MESSAGE_ID_FORMAT_VERBATIM,
      receiptTimeZone: '',
      supportsMessagePayload: false,
      currencyCode: 'EUR',
      revision: 0n,
    },
  });
});
afterAll(() => h.teardown());

function rule(id: string, over: Partial<RoutingRule> = {}): RoutingRule {
  return {
    id,
    name: 'options',
    priority: 0,
    enabled: true,
    accountIds: [],
    destinationPrefixes: ['49'],
    mccMncs: [],
    trafficTypes: [],
    strategy: RouteStrategy.ROUTE_STRATEGY_PRIORITY,
    targets: [{ connectorId: 'con_o', weight: 1 }],
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

const glob = (value: string) => ({ pattern: { $case: 'glob' as const, value } });
const regex = (value: string, flags?: string) => ({
  pattern: { $case: 'regex' as const, value },
  ...(flags === undefined ? {} : { flags }),
});

const full: Partial<RoutingRule> = {
  strategy: RouteStrategy.ROUTE_STRATEGY_SCORE,
  strategyCurrency: 'EUR',
  senders: [glob('ACME*'), regex('^\\d{5}$')],
  timeWindow: {
    timeZone: 'Europe/Berlin',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    ranges: [{ from: '08:00', to: '20:00' }],
  },
  strategyOptions: {
    minSamples: 50,
    prior: { deliveryRatio: 0.85, p50LatencyMs: 4000 },
    weights: { quality: 0.6, cost: 0.3, latency: 0.1 },
  },
  senderRewrite: { sourceAddr: 'ACME', sourceTon: 5, sourceNpi: 0, onlyIfSender: [regex('^acme', '')] },
};

async function columns(id: string) {
  const { rows } = await h.pool.query(
    'SELECT strategy, senders, time_window, strategy_options, sender_rewrite FROM routing_rules WHERE id = $1',
    [id],
  );
  return rows[0];
}

describe('routing rule options', () => {
  it('writes each option to its column in routing vocabulary and reads it back on get, list and the change', async () => {
    const { routingRule: r } = await h.call('createRoutingRule', { routingRule: rule('rr_full', full) });
    expect(r).toMatchObject(full);
    expect(await columns('rr_full')).toEqual({
      strategy: 'score',
      senders: [{ glob: 'ACME*' }, { regex: '^\\d{5}$' }],
      time_window: {
        timeZone: 'Europe/Berlin',
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        ranges: [{ from: '08:00', to: '20:00' }],
      },
      strategy_options: {
        minSamples: 50,
        prior: { deliveryRatio: 0.85, p50LatencyMs: 4000 },
        weights: { quality: 0.6, cost: 0.3, latency: 0.1 },
      },
      sender_rewrite: {
        sourceAddr: 'ACME',
        sourceTon: 5,
        sourceNpi: 0,
        onlyIfSender: [{ regex: '^acme', flags: '' }],
      },
    });
    const { routingRule: got } = await h.call('getRoutingRule', { id: 'rr_full' });
    expect(got).toMatchObject(full);
    const list = await h.call('listRoutingRules', { pageSize: 10, pageToken: '', accountId: '' });
    expect(list.routingRules.find((x) => x.id === 'rr_full')).toMatchObject(full);
    const ev = await h.change(
      (c) => c.kind === ResourceKind.RESOURCE_KIND_ROUTING_RULE && c.resourceId === 'rr_full',
    );
    expect(ev.snapshot?.$case === 'routingRule' && ev.snapshot.value).toMatchObject(full);

    const { routingRule: plain } = await h.call('createRoutingRule', { routingRule: rule('rr_plain') });
    expect(plain!.senders).toEqual([]);
    expect(plain!.timeWindow).toBeUndefined();
    expect(plain!.strategyOptions).toBeUndefined();
    expect(plain!.senderRewrite).toBeUndefined();
    expect(await columns('rr_plain')).toMatchObject({
      senders: [],
      time_window: null,
      strategy_options: {},
      sender_rewrite: null,
    });
  });

  it('changes only the masked options and clears one masked while unset', async () => {
    const { routingRule: before } = await h.call('createRoutingRule', { routingRule: rule('rr_mask', full) });
    const { routingRule: a } = await h.call('updateRoutingRule', {
      routingRule: { ...rule('rr_mask'), senders: [glob('BANK?')], senderRewrite: undefined },
      updateMask: ['senders'],
      expectedRevision: before!.revision,
    });
    expect(a!.senders).toEqual([glob('BANK?')]);
    expect(a).toMatchObject({
      timeWindow: full.timeWindow,
      strategyOptions: full.strategyOptions,
      senderRewrite: full.senderRewrite,
    });

    const { routingRule: b } = await h.call('updateRoutingRule', {
      routingRule: {
        ...rule('rr_mask'),
        timeWindow: { timeZone: 'UTC', days: [], ranges: [{ from: '22:00', to: '06:00' }] },
        strategyOptions: { minSamples: 0 },
        senderRewrite: { sourceAddr: '+4930123456', onlyIfSender: [] },
      },
      updateMask: ['time_window', 'strategy_options', 'sender_rewrite'],
      expectedRevision: 0n,
    });
    expect(b!.senders).toEqual([glob('BANK?')]);
    expect(b!.timeWindow).toEqual({ timeZone: 'UTC', days: [], ranges: [{ from: '22:00', to: '06:00' }] });
    expect(b!.strategyOptions).toEqual({ minSamples: 0 });
    expect(b!.senderRewrite).toEqual({ sourceAddr: '+4930123456', onlyIfSender: [] });
    expect(await columns('rr_mask')).toMatchObject({
      strategy: 'score',
      strategy_options: { minSamples: 0 },
      sender_rewrite: { sourceAddr: '+4930123456' },
    });

    const { routingRule: c } = await h.call('updateRoutingRule', {
      routingRule: rule('rr_mask'),
      updateMask: ['time_window', 'sender_rewrite', 'strategy_options'],
      expectedRevision: 0n,
    });
    expect(c!.timeWindow).toBeUndefined();
    expect(c!.senderRewrite).toBeUndefined();
    expect(c!.strategyOptions).toBeUndefined();
    expect(await columns('rr_mask')).toMatchObject({
      time_window: null,
      strategy_options: {},
      sender_rewrite: null,
    });
    await h.change(
      (x) =>
        x.resourceId === 'rr_mask' &&
        x.action === ChangeAction.CHANGE_ACTION_UPDATED &&
        x.revision === c!.revision,
    );
  });

  it('refuses values routing could not compile with INVALID_ARGUMENT naming the field, on create and update', async () => {
    const cases: Array<[Partial<RoutingRule>, RegExp]> = [
      [{ senders: [glob('A*'), regex('(unclosed')] }, /^routing_rule\.senders\[1\]\.regex: is not valid/],
      [{ senders: [regex('a', 'x')] }, /^routing_rule\.senders\[0\]\.flags:/],
      [{ senders: [{}] }, /^routing_rule\.senders\[0\]: set glob or regex/],
      [
        { timeWindow: { timeZone: 'Mars/Olympus', days: [], ranges: [] } },
        /^routing_rule\.time_window\.time_zone:.*not a known IANA time zone/,
      ],
      [
        { timeWindow: { timeZone: 'UTC', days: ['mon', 'funday'], ranges: [] } },
        /^routing_rule\.time_window\.days\[1\]:/,
      ],
      [
        { timeWindow: { timeZone: 'UTC', days: [], ranges: [{ from: '08:00', to: '8pm' }] } },
        /^routing_rule\.time_window\.ranges\[0\]\.to: must be HH:MM/,
      ],
      [
        { strategyOptions: { prior: { deliveryRatio: 1.2, p50LatencyMs: 1000 } } },
        /^routing_rule\.strategy_options\.prior\.delivery_ratio:/,
      ],
      [
        { strategyOptions: { weights: { quality: 0, cost: 0, latency: 0 } } },
        /^routing_rule\.strategy_options\.weights: need a positive sum/,
      ],
      [
        { strategyOptions: { weights: { quality: 1, cost: -0.5, latency: 0 } } },
        /^routing_rule\.strategy_options\.weights\.cost:/,
      ],
      [
        { senderRewrite: { sourceAddr: 'ACME', sourceTon: 256, onlyIfSender: [] } },
        /^routing_rule\.sender_rewrite\.source_ton:/,
      ],
      [
        { senderRewrite: { sourceAddr: 'ACME', sourceNpi: 999, onlyIfSender: [] } },
        /^routing_rule\.sender_rewrite\.source_npi:/,
      ],
      [
        { senderRewrite: { sourceAddr: 'ACMEBANKLTD1', onlyIfSender: [] } },
        /^routing_rule\.sender_rewrite\.source_addr: an alphanumeric sender id/,
      ],
      [
        { senderRewrite: { sourceAddr: '', onlyIfSender: [] } },
        /^routing_rule\.sender_rewrite\.source_addr: is required/,
      ],
      [
        { senderRewrite: { sourceAddr: 'ACME', onlyIfSender: [regex('[')] } },
        /^routing_rule\.sender_rewrite\.only_if_sender\[0\]\.regex:/,
      ],
      [
        { strategy: RouteStrategy.ROUTE_STRATEGY_SCORE },
        /^routing_rule\.strategy_currency: is required for .*ROUTE_STRATEGY_SCORE/,
      ],
    ];
    await h.call('createRoutingRule', { routingRule: rule('rr_bad_base') });
    for (const [over, message] of cases) {
      const created = await h.fail('createRoutingRule', { routingRule: rule('rr_bad', over) });
      expect(created.code, message.source).toBe(grpc.status.INVALID_ARGUMENT);
      expect(created.details).toMatch(message);
      const updated = await h.fail('updateRoutingRule', {
        routingRule: rule('rr_bad_base', over),
        updateMask: Object.keys(over).map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)),
        expectedRevision: 0n,
      });
      expect(updated.code, message.source).toBe(grpc.status.INVALID_ARGUMENT);
      expect(updated.details).toMatch(message);
    }
    expect((await h.fail('getRoutingRule', { id: 'rr_bad' })).code).toBe(grpc.status.NOT_FOUND);
    expect(await columns('rr_bad_base')).toMatchObject({
      strategy: 'priority',
      senders: [],
      time_window: null,
      strategy_options: {},
      sender_rewrite: null,
    });
  });

  it('stores demote_suspected (unset = NULL: routing decides by traffic type) and changes it by mask', async () => {
    const { routingRule: r } = await h.call('createRoutingRule', {
      routingRule: { ...rule('rr_demote'), demoteSuspected: false },
    });
    expect(r!.demoteSuspected).toBe(false);
    const stored = async () =>
      (await h.pool.query('SELECT demote_suspected FROM routing_rules WHERE id = $1', ['rr_demote'])).rows[0];
    expect(await stored()).toEqual({ demote_suspected: false });
    await h.call('updateRoutingRule', {
      routingRule: { ...rule('rr_demote'), demoteSuspected: true },
      updateMask: ['demote_suspected'],
      expectedRevision: 0n,
    });
    expect(await stored()).toEqual({ demote_suspected: true });
    const { routingRule: plain } = await h.call('createRoutingRule', {
      routingRule: rule('rr_demote_unset'),
    });
    expect(plain!.demoteSuspected).toBeUndefined();
    // A mask names it on a rule that has it unset too (the console's rule form does), and sets it back.
    await h.call('updateRoutingRule', {
      routingRule: { ...rule('rr_demote_unset'), demoteSuspected: true },
      updateMask: ['demote_suspected'],
      expectedRevision: 0n,
    });
    const unset = async () =>
      (await h.pool.query('SELECT demote_suspected FROM routing_rules WHERE id = $1', ['rr_demote_unset']))
        .rows[0];
    expect(await unset()).toEqual({ demote_suspected: true });
    await h.call('updateRoutingRule', {
      routingRule: rule('rr_demote_unset'),
      updateMask: ['demote_suspected'],
      expectedRevision: 0n,
    });
    expect(await unset()).toEqual({ demote_suspected: null });
  });
});
