import { describe, expect, it } from 'vitest';
import {
  NumberLookupSource,
  RoutingStrategy,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  TrafficType,
} from '@smshub/contracts';
import { encodeRejectedWith, encodeRoutedWith } from './event-encoder.js';

const T = Date.parse('2026-12-07T04:30:00.456Z');

const submitted = SmsSubmitted.fromPartial({
  messageId: '01939a4e-0000-7000-8000-000000000001',
  accountId: 'acc_1',
  source: { address: 'BANK', ton: 5 },
  destination: { address: '447911123456', ton: 1, npi: 1 },
  shortMessage: Buffer.from('Your code is 123456'),
  trafficType: TrafficType.TRAFFIC_TYPE_OTP,
  receivedAt: new Date(T - 20),
});
const submittedBytes = SmsSubmitted.encode(submitted).finish();

const routed = (over: Partial<SmsRouted> = {}): SmsRouted =>
  SmsRouted.fromPartial({
    message: submitted,
    candidates: [
      {
        connectorId: 'con_a',
        ruleId: 'r1',
        reason: 'cheapest for 234-15',
        expectedCost: { currencyCode: 'EUR', minorUnits: 3450n, scale: 6 },
      },
      { connectorId: 'con_b', ruleId: 'r1', reason: '' },
    ],
    strategy: RoutingStrategy.ROUTING_STRATEGY_LEAST_COST,
    destinationInfo: {
      countryCode: 'GB',
      mcc: '234',
      mnc: '15',
      matchedPrefix: '4479',
      ported: true,
      source: NumberLookupSource.NUMBER_LOOKUP_SOURCE_PORTED_NUMBERS,
    },
    routedAt: new Date(T),
    reroute: { failures: ['UNDELIV', 'REJECTD'], exceptErrors: ['', '011'], windowMs: 60_000, ruleId: 'r1' },
    ...over,
  });

const rejected = (over: Partial<SmsRejected> = {}): SmsRejected =>
  SmsRejected.fromPartial({
    message: submitted,
    ruleId: 'fw_kw',
    reason: 'keyword "casino"',
    error: { code: 'FIREWALL_CONTENT', receiptError: 88, message: 'The message content is not allowed' },
    destinationInfo: { countryCode: 'GB', mcc: '234', mnc: '15' },
    rejectedAt: new Date(T),
    ...over,
  });

/** Compared as hex (vitest compares Buffers element by element: slow for large ones). */
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function sameRouted(v: SmsRouted, bytes: Uint8Array = submittedBytes): void {
  expect(hex(encodeRoutedWith(v, bytes))).toBe(hex(SmsRouted.encode(v).finish()));
}
function sameRejected(v: SmsRejected): void {
  expect(hex(encodeRejectedWith(v, submittedBytes))).toBe(hex(SmsRejected.encode(v).finish()));
}

describe('encodeRoutedWith / encodeRejectedWith (the routed and rejected events around the consumed bytes)', () => {
  it('write byte for byte what the generated encoder writes', () => {
    sameRouted(routed());
    sameRouted(
      routed({ candidates: [], reroute: undefined, destinationInfo: undefined, routedAt: undefined }),
    );
    sameRouted(routed({ strategy: RoutingStrategy.ROUTING_STRATEGY_UNSPECIFIED, routedAt: new Date(0) }));
    sameRouted(routed({ routedAt: new Date(999) })); // no seconds, only nanos
    sameRouted(routed({ reroute: { failures: [], exceptErrors: [], windowMs: 0, ruleId: '' } }));
    sameRejected(rejected());
    sameRejected(
      rejected({ error: undefined, destinationInfo: undefined, rejectedAt: undefined, reason: '' }),
    );
    sameRejected(rejected({ error: { code: '', receiptError: 0, message: '' } }));
    expect(SmsRouted.decode(encodeRoutedWith(routed(), submittedBytes))).toEqual(routed());
  });

  it('handles non-ASCII text, lone surrogates and nested lengths of two bytes or more', () => {
    const long = 'quality 97.2 % ✓ über '.repeat(40); // > 127 bytes: the length prefix takes two bytes
    sameRouted(
      routed({ candidates: [{ connectorId: 'con_é', ruleId: 'r', reason: long, buyRateId: 'br' }] }),
    );
    sameRouted(
      routed({ candidates: [{ connectorId: 'bad\ud800', ruleId: 'r', reason: '', buyRateId: '' }] }),
    );
    const huge = 'x'.repeat(40_000); // longer than the scratch buffer: it grows, the length takes three bytes
    sameRejected(rejected({ reason: huge }));
    sameRouted(
      routed({
        candidates: Array.from({ length: 300 }, (_, i) => ({
          connectorId: `c${i}`,
          ruleId: long,
          reason: long,
          buyRateId: '',
        })),
      }),
    );
    sameRouted(routed()); // after growing
  });

  it('gives values it does not write cheaply to the generated encoder, with the same bytes or the same error', () => {
    sameRouted(
      routed({
        candidates: [
          {
            connectorId: 'c',
            ruleId: 'r',
            reason: '',
            buyRateId: '',
            expectedCost: { currencyCode: 'EUR', minorUnits: -5n, scale: 6 },
          },
        ],
      }),
    );
    sameRouted(
      routed({
        candidates: [
          {
            connectorId: 'c',
            ruleId: 'r',
            reason: '',
            buyRateId: '',
            expectedCost: { currencyCode: 'EUR', minorUnits: 2n ** 60n, scale: 6 },
          },
        ],
      }),
    );
    sameRouted(routed({ strategy: -1 as RoutingStrategy }));
    sameRouted(routed({ routedAt: new Date(-1_500) }));
    sameRejected(rejected({ rejectedAt: new Date(-86_400_000) }));
    expect(() => encodeRoutedWith(routed({ routedAt: new Date(Number.NaN) }), submittedBytes)).toThrow();
    expect(() => SmsRouted.encode(routed({ routedAt: new Date(Number.NaN) }))).toThrow();
  });

  it('puts a submitted message of any size in field 1', () => {
    for (const n of [0, 1, 120, 200, 20_000]) {
      const m = SmsSubmitted.fromPartial({ ...submitted, shortMessage: Buffer.alloc(n, 0x41) });
      const bytes = SmsSubmitted.encode(m).finish();
      sameRouted(routed({ message: m }), bytes);
    }
  });

  it('agrees with the generated encoder on random events', () => {
    let seed = 11;
    const rnd = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    const str = () => ['', 'a', 'con_long_name', 'ünï ✓', 'x'.repeat(rnd(300))][rnd(5)]!;
    for (let i = 0; i < 2_000; i++) {
      sameRouted(
        SmsRouted.fromPartial({
          message: submitted,
          candidates: Array.from({ length: rnd(5) }, () => ({
            connectorId: str(),
            ruleId: str(),
            reason: str(),
            buyRateId: str(),
            ...(rnd(2)
              ? {
                  expectedCost: {
                    currencyCode: str(),
                    minorUnits: BigInt(rnd(2 ** 30)) * BigInt(rnd(3)),
                    scale: rnd(20),
                  },
                }
              : {}),
          })),
          strategy: rnd(6),
          ...(rnd(3)
            ? {
                destinationInfo: {
                  countryCode: str(),
                  mcc: str(),
                  mnc: str(),
                  matchedPrefix: str(),
                  ported: rnd(2) === 1,
                  source: rnd(4),
                },
              }
            : {}),
          ...(rnd(4) ? { routedAt: new Date(rnd(2 ** 30) * 1_000 * rnd(3) + rnd(1_000)) } : {}),
          ...(rnd(2)
            ? {
                reroute: {
                  failures: Array.from({ length: rnd(3) }, str),
                  exceptErrors: Array.from({ length: rnd(3) }, str),
                  windowMs: rnd(2) * rnd(2 ** 31),
                  ruleId: str(),
                },
              }
            : {}),
        }),
      );
      sameRejected(
        SmsRejected.fromPartial({
          message: submitted,
          ruleId: str(),
          reason: str(),
          ...(rnd(2) ? { error: { code: str(), receiptError: rnd(1_000), message: str() } } : {}),
          ...(rnd(2) ? { rejectedAt: new Date(rnd(2 ** 30) * 1_000) } : {}),
        }),
      );
    }
  });
});
