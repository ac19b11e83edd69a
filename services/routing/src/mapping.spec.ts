import { describe, expect, it } from 'vitest';
import {
  ConcatMethod,
  NumberLookupSource,
  RoutingStrategy,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  TrafficType,
} from '@smshub/contracts';
import { encodeUcs2 } from '@smshub/smpp';
import { reject } from './domain/customer-error.js';
import { PrefixTable } from './domain/prefix-table.js';
import {
  encodeRejected,
  encodeRouted,
  segmentCount,
  toRejected,
  toRouted,
  toRoutingRequest,
} from './mapping.js';

const receivedAt = new Date('2026-11-22T07:00:00Z');
const now = new Date('2026-11-22T07:00:01Z');
const prefixes = new PrefixTable([{ prefix: '4477', country: 'GB', mcc: '234', mnc: '30', operator: 'EE' }]);

const msg = (p: Partial<SmsSubmitted> = {}) =>
  SmsSubmitted.fromPartial({
    messageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f',
    accountId: 'acc_1',
    source: { ton: 5, npi: 0, address: 'ACME' },
    destination: { ton: 1, npi: 1, address: '447712345678' },
    dataCoding: 0,
    shortMessage: Buffer.from('hello', 'ascii'),
    receivedAt,
    trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    ...p,
  });

describe('toRoutingRequest', () => {
  it('decodes textual messages (UDH removed) for content rules and maps the fields', () => {
    const udh = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]);
    const r = toRoutingRequest(
      msg({
        esmClass: 0x40,
        dataCoding: 8,
        shortMessage: Buffer.concat([udh, encodeUcs2('Casino ✓')]),
        concat: {
          reference: 0x2a,
          total: 2,
          partNumber: 1,
          groupId: 'g',
          method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
        },
      }),
      'gold',
    );
    expect(r).toMatchObject({
      accountId: 'acc_1',
      accountGroup: 'gold',
      sourceAddr: 'ACME',
      sourceTon: 5,
      destinationAddr: '447712345678',
      destTon: 1,
      trafficType: 'OTP',
      text: 'Casino ✓',
      segments: 1,
      receivedAt,
    });
  });

  it('gives binary messages no text (content rules are skipped)', () => {
    expect(
      toRoutingRequest(msg({ dataCoding: 4, shortMessage: Buffer.from([1, 2, 3]) }), undefined).text,
    ).toBeNull();
  });

  it('counts the segments of a long message in one submit', () => {
    expect(segmentCount(msg(), Buffer.alloc(160))).toBe(1);
    expect(segmentCount(msg(), Buffer.alloc(161))).toBe(2);
    expect(segmentCount(msg({ dataCoding: 8 }), Buffer.alloc(140))).toBe(1);
    expect(segmentCount(msg({ dataCoding: 8 }), Buffer.alloc(270))).toBe(3);
  });
});

describe('toRouted / toRejected', () => {
  it('keeps the message, orders candidates and applies a sender rewrite to the copy', () => {
    const m = msg();
    const r = toRouted(
      m,
      {
        kind: 'routed',
        destination: { e164: '+447712345678', country: 'GB', mccMnc: '234-30' },
        candidates: [
          { connectorId: 'con_b', reason: 'cheapest', expectedCost: { amountMinor: 4000n, currency: 'EUR' } },
          { connectorId: 'con_a', reason: 'next' },
        ],
        strategy: 'least_cost',
        ruleId: 'r1',
        senderRewrite: { sourceAddr: 'BRAND', sourceTon: 5, sourceNpi: 0 },
      },
      prefixes,
      now,
    );
    expect(r.candidates).toEqual([
      {
        connectorId: 'con_b',
        ruleId: 'r1',
        reason: 'cheapest',
        expectedCost: { currencyCode: 'EUR', minorUnits: 4000n, scale: 6 },
        buyRateId: '',
      },
      { connectorId: 'con_a', ruleId: 'r1', reason: 'next', buyRateId: '' },
    ]);
    expect(r.strategy).toBe(RoutingStrategy.ROUTING_STRATEGY_LEAST_COST);
    expect(r.message?.source).toEqual({ address: 'BRAND', ton: 5, npi: 0 });
    expect(m.source?.address).toBe('ACME');
    expect(r.message?.shortMessage).toBe(m.shortMessage);
    expect(r.destinationInfo).toEqual({
      countryCode: 'GB',
      mcc: '234',
      mnc: '30',
      matchedPrefix: '4477',
      ported: false,
      source: NumberLookupSource.NUMBER_LOOKUP_SOURCE_PREFIX_TABLE,
    });
    expect(r.routedAt).toEqual(now);
  });

  it('gives the customer a code and receipt error without internal names', () => {
    const r = toRejected(msg(), reject('no_route', '', 'no rule for acc_1 to GB'), prefixes, now);
    expect(r.error).toEqual({ code: 'NO_ROUTE', receiptError: 10, message: 'No route to this destination' });
    expect(r.ruleId).toBe('');
    expect(r.reason).toBe('no rule for acc_1 to GB');
    expect(r.destinationInfo).toBeUndefined();
    expect(r.rejectedAt).toEqual(now);
  });
});

describe('encodeRouted / encodeRejected', () => {
  it('write the consumed message bytes where the codec would encode the message: same bytes', () => {
    const long = 'x'.repeat(200); // a message longer than 127 bytes: a two-byte length
    for (const text of ['hello', long]) {
      const bytes = SmsSubmitted.encode(msg({ shortMessage: Buffer.from(text, 'ascii') })).finish();
      const m = SmsSubmitted.decode(bytes);
      const routed = toRouted(
        m,
        {
          kind: 'routed',
          destination: { e164: '+447712345678', country: 'GB', mccMnc: '234-30' },
          candidates: [{ connectorId: 'con_a', reason: 'cheapest' }],
          strategy: 'least_cost',
          ruleId: 'r1',
        },
        prefixes,
        now,
      );
      expect(encodeRouted(routed, bytes)).toEqual(Buffer.from(SmsRouted.encode(routed).finish()));
      expect(SmsRouted.decode(encodeRouted(routed, bytes))).toEqual(routed);
      const rejected = toRejected(m, reject('no_route', '', 'none'), prefixes, now);
      expect(encodeRejected(rejected, bytes)).toEqual(Buffer.from(SmsRejected.encode(rejected).finish()));
      expect(encodeRejected(rejected, undefined)).toEqual(Buffer.from(SmsRejected.encode(rejected).finish()));
    }
  });
});
