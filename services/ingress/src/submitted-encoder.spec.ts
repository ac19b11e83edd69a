import { describe, expect, it } from 'vitest';
import { BindType, ConcatMethod, SmsSubmitted, SubmitChannel, TrafficType, topics } from '@smshub/contracts';
import { prng } from '@smshub/smpp/testing';
import { encodeSubmitted, SUBMITTED_FIELDS } from './submitted-encoder.js';

const seed = Number(process.env.INGRESS_ENCODER_SEED ?? 20261129);

/** Random events that reach every branch: defaults, long nested messages, wide characters, edge numbers. */
function randomEvent(rand: () => number): SmsSubmitted {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (max: number): number => Math.floor(rand() * (max + 1));
  const str = (): string => {
    const len = pick([0, 0, 1, 5, 36, 127, 128, 300]);
    const alphabet = pick(['abc0123456789', 'é€😀ü', 'x']);
    let s = '';
    while (s.length < len) s += alphabet[int(alphabet.length - 1)];
    return s;
  };
  const bytes = (): Buffer =>
    Buffer.from(Array.from({ length: pick([0, 1, 127, 128, 140, 600]) }, () => int(255)));
  const num = (): number => pick([0, 1, 127, 128, 255, 16384, 0xffffffff, int(0xffff)]);
  const date = (): Date | undefined =>
    pick([undefined, new Date(0), new Date(999), new Date(1_764_442_800_123), new Date(int(2 ** 42))]);
  const address = () => (rand() < 0.1 ? undefined : { ton: num(), npi: num(), address: str() });
  return SmsSubmitted.fromPartial({
    messageId: str(),
    accountId: str(),
    systemId: str(),
    session:
      rand() < 0.1
        ? undefined
        : {
            replica: str(),
            sessionId: str(),
            systemId: str(),
            bindType: pick([0, BindType.BIND_TYPE_TRANSMITTER, BindType.BIND_TYPE_TRANSCEIVER]),
            remoteAddress: str(),
            interfaceVersion: num(),
          },
    source: address(),
    destination: address(),
    esmClass: num(),
    protocolId: num(),
    priority: num(),
    registeredDelivery: num(),
    dataCoding: num(),
    shortMessage: bytes(),
    fromMessagePayload: rand() < 0.5,
    concat:
      rand() < 0.5
        ? undefined
        : {
            reference: num(),
            total: num(),
            partNumber: num(),
            method: pick([0, ConcatMethod.CONCAT_METHOD_SAR, ConcatMethod.CONCAT_METHOD_UDH_16BIT]),
            groupId: str(),
          },
    serviceType: str(),
    validityUntil: date(),
    validityPeriodRaw: str(),
    scheduleAt: date(),
    scheduleDeliveryTimeRaw: str(),
    tlvs: Array.from({ length: pick([0, 1, 3]) }, () => ({ tag: num(), value: bytes() })),
    receivedAt: date(),
    customerMessageId: str(),
    trafficType: pick([0, TrafficType.TRAFFIC_TYPE_UNSPECIFIED, 2]),
    replaceIfPresent: num(),
    smDefaultMsgId: num(),
    channel: pick([0, SubmitChannel.SUBMIT_CHANNEL_SMPP]),
    callbackUrl: str(),
    clientReference: str(),
    holdUntil: rand() < 0.5 ? undefined : date(),
    holdReason: pick([0, 1, 2]),
    releasedAt: rand() < 0.5 ? undefined : date(),
  });
}

describe('encodeSubmitted', () => {
  it(`gives the topic codec's exact bytes for 3,000 random events (seed ${seed})`, () => {
    const rand = prng(seed);
    const earlier: Array<{ bytes: Buffer; copy: Buffer }> = [];
    for (let i = 0; i < 3000; i++) {
      const event = randomEvent(rand);
      const bytes = encodeSubmitted(event);
      const expected = Buffer.from(topics.submitted.encode(event));
      if (!bytes.equals(expected))
        throw new Error(
          `random event ${i} encodes differently (reproduce with INGRESS_ENCODER_SEED=${seed})`,
        );
      if (i % 100 === 0) earlier.push({ bytes, copy: Buffer.from(bytes) });
    }
    // Each result is its own: encoding later events did not change earlier ones.
    for (const e of earlier) expect(e.bytes.equals(e.copy)).toBe(true);
  });

  it('hands values it does not write itself to the generated encoder: same bytes, same errors', () => {
    const base = SmsSubmitted.fromPartial({ messageId: 'm1', receivedAt: new Date(0) });
    for (const event of [
      { ...base, receivedAt: new Date(-1_500) }, // before 1970: negative seconds and nanos
      { ...base, trafficType: -1 as TrafficType },
      { ...base, concat: { reference: 1, total: 2, partNumber: 1, method: -2, groupId: 'g' } },
    ])
      expect(encodeSubmitted(event).equals(Buffer.from(topics.submitted.encode(event)))).toBe(true);
    const bad = { ...base, esmClass: -1 };
    expect(() => topics.submitted.encode(bad)).toThrow();
    expect(() => encodeSubmitted(bad)).toThrow();
    // The next event is not disturbed by the abandoned one.
    expect(encodeSubmitted(base).equals(Buffer.from(topics.submitted.encode(base)))).toBe(true);
  });

  it('writes every field the contract has (a new field must be added here too)', () => {
    expect(Object.keys(SmsSubmitted.fromPartial({})).sort()).toEqual([...SUBMITTED_FIELDS].sort());
  });
});
