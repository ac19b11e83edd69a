import { describe, expect, it } from 'vitest';
import {
  AccountBalance,
  BillingMode,
  BillingRated,
  BindType,
  ChangeAction,
  ConcatMethod,
  ConfigChange,
  DeadLetter,
  DeliveryStats,
  DeliveryStatus,
  DispatchOutcome,
  MessageState,
  RatedStatus,
  ResourceKind,
  RoutingStrategy,
  SmsDelivery,
  SmsDispatched,
  SmsMo,
  SmsPartStatus,
  SmsReceiptRaw,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  TopicKeyError,
  TrafficType,
  deadLetterSpec,
  deadLetterTopic,
  topics,
  type TopicId,
  type TopicSpec,
  type TopicValue,
} from './index.js';

const HUB_ID = '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f';
const T0 = new Date('2026-11-22T07:00:00.123Z');
const T1 = new Date('2026-11-22T07:00:01.456Z');
// Above Number.MAX_SAFE_INTEGER: a lossy `number` mapping would change it.
const BIG = 9_007_199_254_740_993n;

const eur = (minorUnits: bigint) => ({ currencyCode: 'EUR', minorUnits, scale: 6 });
const session = {
  replica: 'ingress-0',
  sessionId: '01935f3e-0000-7000-8000-000000000001',
  systemId: 'cust1',
  bindType: BindType.BIND_TYPE_TRANSCEIVER,
  remoteAddress: '10.0.0.7:40122',
  interfaceVersion: 0x34,
};
const context = {
  messageId: HUB_ID,
  accountId: 'acc_1',
  systemId: 'cust1',
  customerMessageId: 'c0ffee01',
  source: { ton: 5, npi: 0, address: 'ACME' },
  destination: { ton: 1, npi: 1, address: '447700900123' },
  registeredDelivery: 1,
  dataCoding: 8,
  trafficType: TrafficType.TRAFFIC_TYPE_OTP,
  receivedAt: T0,
  receiptText: Buffer.from([0x00, 0x48, 0x00, 0x69]),
  destinationInfo: { countryCode: 'GB', mcc: '234', mnc: '15', matchedPrefix: '4477' },
};
const submitted = SmsSubmitted.fromPartial({
  messageId: HUB_ID,
  accountId: 'acc_1',
  systemId: 'cust1',
  session,
  source: context.source,
  destination: context.destination,
  esmClass: 0x40,
  registeredDelivery: 1,
  dataCoding: 8,
  // UDH (IEI 0x00, ref 0x2a, 2 parts, part 1) followed by UCS2 "Hi".
  shortMessage: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0x48, 0x00, 0x69]),
  concat: {
    reference: 0x2a,
    total: 2,
    partNumber: 1,
    method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
    groupId: HUB_ID,
  },
  validityUntil: T1,
  validityPeriodRaw: '000001000000000R',
  tlvs: [{ tag: 0x1403, value: Buffer.from([1, 2, 3]) }],
  receivedAt: T0,
  customerMessageId: 'c0ffee01',
  trafficType: TrafficType.TRAFFIC_TYPE_OTP,
});

// One sample per registry entry; the mapped type makes a new topic without a sample a type error.
const samples: { [K in TopicId]: TopicValue<K> } = {
  submitted,
  routed: SmsRouted.fromPartial({
    message: submitted,
    candidates: [
      {
        connectorId: 'con_a',
        ruleId: 'rr_1',
        reason: 'cheapest for 234-15',
        expectedCost: eur(3450n),
        buyRateId: 'rate_b1',
      },
      {
        connectorId: 'con_b',
        ruleId: 'rr_1',
        reason: 'fallback',
        expectedCost: eur(BIG),
        buyRateId: 'rate_b2',
      },
    ],
    strategy: RoutingStrategy.ROUTING_STRATEGY_LEAST_COST,
    routedAt: T1,
  }),
  rejected: SmsRejected.fromPartial({
    message: submitted,
    ruleId: 'fw_9',
    reason: 'blocked sender',
    error: { code: 'FIREWALL_BLOCKED', receiptError: 88, message: 'Sender not allowed' },
    rejectedAt: T1,
  }),
  dispatched: SmsDispatched.fromPartial({
    context,
    partNumber: 1,
    partTotal: 1,
    connectorId: 'con_a',
    session: { ...session, replica: 'egress-1', bindType: BindType.BIND_TYPE_TRANSMITTER },
    supplierMessageId: '0A1B',
    supplierMessageIdNormalised: '2587',
    commandStatus: 0,
    attempt: 1,
    submittedAt: T0,
    respondedAt: T1,
    outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
    segments: 1,
  }),
  receiptRaw: SmsReceiptRaw.fromPartial({
    receiptId: '01935f3e-0000-7000-8000-0000000000aa',
    connectorId: 'con_a',
    receivedAt: T1,
    rawText: Buffer.from(
      'id:2587 sub:001 dlvrd:001 submit date:2611220700 done date:2611220700 stat:DELIVRD err:000',
    ),
    esmClass: 0x04,
    parsed: { id: '2587', stat: 'DELIVRD', err: '000', submitDate: '2611220700', doneTime: T1 },
    receiptedMessageId: '0A1B',
    messageState: MessageState.MESSAGE_STATE_DELIVERED,
    networkErrorCode: { networkType: 3, errorCode: 0 },
    supplierMessageIdNormalised: '2587',
    tlvs: [{ tag: 0x0427, value: Buffer.from([2]) }],
  }),
  mo: SmsMo.fromPartial({
    moId: '01935f3e-0000-7000-8000-0000000000bb',
    connectorId: 'con_a',
    receivedAt: T0,
    source: { ton: 1, npi: 1, address: '447700900123' },
    destination: { ton: 1, npi: 1, address: '447700900999' },
    shortMessage: Buffer.from('STOP'),
  }),
  partStatus: SmsPartStatus.fromPartial({
    context,
    part: {
      partNumber: 1,
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      connectorId: 'con_a',
      doneAt: T1,
    },
    partTotal: 1,
    segments: 1,
    updatedAt: T1,
  }),
  delivery: SmsDelivery.fromPartial({
    context,
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    parts: [
      {
        partNumber: 1,
        status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        supplierMessageId: '0A1B',
        doneAt: T1,
      },
    ],
    doneAt: T1,
    connectorId: 'con_a',
    segments: 1,
    revision: 2,
    updatedAt: T1,
  }),
  rated: BillingRated.fromPartial({
    messageId: HUB_ID,
    revision: 1,
    accountId: 'acc_1',
    connectorId: 'con_a',
    supplierId: 'sup_1',
    destinationCountry: 'GB',
    destinationMccMnc: '234-15',
    segments: 2,
    sell: eur(9_000n),
    buy: { currencyCode: 'USD', minorUnits: 7_000n, scale: 6 },
    buyInSellCurrency: eur(6_461n),
    margin: eur(2_539n),
    fxRate: '0.923',
    status: RatedStatus.RATED_STATUS_CHARGED,
    trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    sellRateId: 'rate_s1',
    buyRateId: 'rate_b1',
    submittedAt: T0,
    doneAt: T1,
    ratedAt: T1,
  }),
  configChanges: ConfigChange.fromPartial({
    changeId: '01935f3e-0000-7000-8000-0000000000cc',
    kind: ResourceKind.RESOURCE_KIND_ROUTING_RULE,
    resourceId: 'rr_1',
    action: ChangeAction.CHANGE_ACTION_UPDATED,
    revision: BIG,
    changedAt: T0,
    actor: 'admin@example.org',
    snapshot: {
      $case: 'routingRule',
      value: { id: 'rr_1', name: 'UK OTP', priority: 10, enabled: true, revision: BIG },
    },
  }),
  balances: AccountBalance.fromPartial({
    accountId: 'acc_1',
    billingMode: BillingMode.BILLING_MODE_PREPAID,
    balance: eur(-1_500_000n),
    creditLimit: eur(5_000_000n),
    available: eur(3_500_000n),
    revision: 42n,
    updatedAt: T1,
  }),
  deliveryStats: DeliveryStats.fromPartial({
    connectorId: 'con_a',
    destination: { $case: 'mccMnc', value: '234-15' },
    windowStart: T0,
    windowEnd: T1,
    accepted: BIG,
    delivered: 1000n,
    failed: 3n,
    deliveryRatioPpm: 997_009,
    latencyP50Ms: 1800,
    latencyP90Ms: 4200,
    latencyP99Ms: 15_000,
    computedAt: T1,
  }),
};

const ids = Object.keys(topics) as TopicId[];
const specOf = (id: TopicId) => topics[id] as TopicSpec<unknown>;

describe('topic registry', () => {
  it.each(ids)('%s round-trips encode/decode, bigint, bytes and dates included', (id) => {
    const spec = specOf(id);
    const value = samples[id];
    const bytes = spec.encode(value);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBeGreaterThan(0);
    expect(spec.decode(bytes)).toEqual(value);
  });

  it('keeps 64-bit values above 2^53 exact', () => {
    const decoded = topics.routed.decode(topics.routed.encode(samples.routed));
    expect(decoded.candidates[1]?.expectedCost?.minorUnits).toBe(BIG);
    const stats = topics.deliveryStats.decode(topics.deliveryStats.encode(samples.deliveryStats));
    expect(stats.accepted).toBe(BIG);
    const balance = topics.balances.decode(topics.balances.encode(samples.balances));
    expect(balance.balance?.minorUnits).toBe(-1_500_000n);
  });

  it('keeps message bytes as bytes, never text', () => {
    const decoded = topics.submitted.decode(topics.submitted.encode(submitted));
    expect(decoded.shortMessage).toBeInstanceOf(Uint8Array);
    expect([...decoded.shortMessage]).toEqual([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0x48, 0x00, 0x69]);
  });

  it('lets an old consumer read a record carrying a field it does not know', () => {
    const current = topics.submitted.encode(submitted);
    // Field 999, wire type 0 (varint), value 1: what a newer producer might add.
    const tag = [0xb8, 0x3e];
    const newer = Buffer.from([...current, ...tag, 0x01]);
    expect(topics.submitted.decode(newer)).toEqual(submitted);
  });

  it('uses the fixed topic names and the documented layouts', () => {
    const layout = Object.fromEntries(
      ids.map((id) => [
        specOf(id).name,
        [specOf(id).partitions, specOf(id).retentionMs, specOf(id).compacted],
      ]),
    );
    const week = 7 * 24 * 3600 * 1000;
    expect(layout).toEqual({
      'sms.submitted.v1': [6, week, false],
      'sms.routed.v1': [6, week, false],
      'sms.rejected.v1': [6, week, false],
      'sms.dispatched.v1': [6, week, false],
      'sms.receipt.raw.v1': [6, week, false],
      'sms.mo.v1': [6, week, false],
      'dlr.parts.v1': [6, week, false],
      'sms.delivery.v1': [6, week, false],
      'billing.rated.v1': [6, 30 * 24 * 3600 * 1000, false],
      'config.changes.v1': [1, null, true],
      'balances.v1': [6, null, true],
      'delivery.stats.v1': [1, null, true],
    });
  });
});

describe('record keys', () => {
  it('keys the message flow by hub message id', () => {
    expect(topics.submitted.key(samples.submitted)).toBe(HUB_ID);
    expect(topics.routed.key(samples.routed)).toBe(HUB_ID);
    expect(topics.rejected.key(samples.rejected)).toBe(HUB_ID);
    expect(topics.partStatus.key(samples.partStatus)).toBe(HUB_ID);
    expect(topics.delivery.key(samples.delivery)).toBe(HUB_ID);
    expect(topics.rated.key(samples.rated)).toBe(HUB_ID);
  });

  it('puts a dispatch and the receipt of the same supplier message under the same key', () => {
    expect(topics.dispatched.key(samples.dispatched)).toBe('con_a/2587');
    expect(topics.receiptRaw.key(samples.receiptRaw)).toBe('con_a/2587');
  });

  it('keys a dispatch without a supplier id by hub id and an unidentifiable receipt by receipt id', () => {
    const failed = {
      ...samples.dispatched,
      supplierMessageId: '',
      supplierMessageIdNormalised: '',
      commandStatus: 0x58,
    };
    expect(topics.dispatched.key(failed)).toBe(HUB_ID);
    const unparsed = { ...samples.receiptRaw, supplierMessageIdNormalised: '' };
    expect(topics.receiptRaw.key(unparsed)).toBe('01935f3e-0000-7000-8000-0000000000aa');
  });

  it('keys MO by hub number and subscriber so a conversation stays ordered', () => {
    expect(topics.mo.key(samples.mo)).toBe('447700900999/447700900123');
  });

  it('keys config changes by resource kind and id', () => {
    expect(topics.configChanges.key(samples.configChanges)).toBe('routing_rule/rr_1');
    const account = {
      ...samples.configChanges,
      kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
      resourceId: 'acc_1',
    };
    expect(topics.configChanges.key(account)).toBe('account/acc_1');
    const reload = {
      ...samples.configChanges,
      kind: ResourceKind.RESOURCE_KIND_PORTED_NUMBER,
      resourceId: '*',
      action: ChangeAction.CHANGE_ACTION_RELOAD,
    };
    expect(topics.configChanges.key(reload)).toBe('ported_number/*');
  });

  it('keys balances by account and delivery stats by connector and destination', () => {
    expect(topics.balances.key(samples.balances)).toBe('acc_1');
    expect(topics.deliveryStats.key(samples.deliveryStats)).toBe('con_a/mccmnc:234-15');
    const byPrefix = { ...samples.deliveryStats, destination: { $case: 'prefix' as const, value: '4477' } };
    expect(topics.deliveryStats.key(byPrefix)).toBe('con_a/prefix:4477');
  });

  it('refuses to key a record that lacks its key field', () => {
    expect(() => topics.submitted.key({ ...submitted, messageId: '' })).toThrow(TopicKeyError);
    expect(() => topics.routed.key({ ...samples.routed, message: undefined })).toThrow(/message\.message_id/);
    expect(() =>
      topics.configChanges.key({ ...samples.configChanges, kind: ResourceKind.RESOURCE_KIND_UNSPECIFIED }),
    ).toThrow(TopicKeyError);
    expect(() => topics.deliveryStats.key({ ...samples.deliveryStats, destination: undefined })).toThrow(
      TopicKeyError,
    );
  });
});

describe('dead letters', () => {
  it('names one dead-letter topic per consumer group', () => {
    expect(deadLetterTopic('routing')).toBe('routing.dlq');
    expect(() => deadLetterTopic('')).toThrow(TypeError);
  });

  it('round-trips the envelope and keys it by the original key', () => {
    const spec = deadLetterSpec('dlr');
    expect(spec.name).toBe('dlr.dlq');
    const letter = DeadLetter.fromPartial({
      topic: 'sms.receipt.raw.v1',
      partition: 3,
      offset: BIG,
      key: Buffer.from('con_a/2587'),
      value: Buffer.from([0xff, 0x00, 0x13]),
      headers: [{ key: 'traceparent', value: Buffer.from('00-abc-def-01') }],
      recordTime: T0,
      consumerGroup: 'dlr',
      errorType: 'DecodeError',
      errorMessage: 'invalid wire type',
      attempts: 3,
      failedAt: T1,
    });
    expect(spec.decode(spec.encode(letter))).toEqual(letter);
    expect(spec.key(letter)).toBe('con_a/2587');
    expect(spec.key({ ...letter, key: Buffer.alloc(0) })).toBe(`sms.receipt.raw.v1/3/${BIG}`);
  });
});
