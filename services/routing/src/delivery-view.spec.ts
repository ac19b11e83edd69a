import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel, TrafficType, topics } from '@smshub/contracts';
import { decodeDeliveryView, deliveryViewCodec, type DeliveryView } from './delivery-view.js';

const T = Date.parse('2026-12-07T04:00:00.123Z');

/** What routing reads of a full SmsDelivery (the view's fields; context and times only when it teaches). */
function expected(d: SmsDelivery): DeliveryView {
  const base = { final: d.final, status: d.status, connectorId: d.connectorId };
  if (!d.final || d.connectorId === '') return base;
  const c = d.context;
  const info = c?.destinationInfo;
  return {
    ...base,
    doneAt: d.doneAt,
    updatedAt: d.updatedAt,
    context: c && {
      messageId: c.messageId,
      channel: c.channel,
      trafficType: c.trafficType,
      receivedAt: c.receivedAt,
      destinationInfo: info && { countryCode: info.countryCode, mcc: info.mcc, mnc: info.mnc },
    },
  };
}

const full = (over: Partial<SmsDelivery> = {}): SmsDelivery =>
  SmsDelivery.fromPartial({
    context: {
      messageId: '01939a4e-0000-7000-8000-000000000001',
      accountId: 'acc_1',
      systemId: 'bank',
      customerMessageId: 'c-1',
      source: { address: 'BANK', ton: 5, npi: 0 },
      destination: { address: '447911123456', ton: 1, npi: 1 },
      registeredDelivery: 1,
      dataCoding: 8,
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
      receivedAt: new Date(T - 4_321),
      concat: { reference: 7, total: 2, partNumber: 1 },
      destinationInfo: { countryCode: 'GB', mcc: '234', mnc: '015', matchedPrefix: '4479', ported: true },
      receiptText: Buffer.from('Your code is 1234'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
      validityUntil: new Date(T + 86_400_000),
      callbackUrl: 'https://example.com/cb',
      clientReference: 'ref',
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    error: { code: 'X', receiptError: 1, message: 'x' },
    parts: [
      {
        partNumber: 1,
        status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        connectorId: 'con_a',
        doneAt: new Date(T),
      },
      {
        partNumber: 2,
        status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        connectorId: 'con_a',
        supplierMessageId: 's',
      },
    ],
    doneAt: new Date(T),
    connectorId: 'con_a',
    segments: 2,
    revision: 3,
    updatedAt: new Date(T + 17),
    reroutedFromConnectorId: 'con_b',
    ...over,
  });

const enc = (d: SmsDelivery) => Buffer.from(SmsDelivery.encode(d).finish());

function same(bytes: Uint8Array): void {
  expect(decodeDeliveryView(bytes)).toEqual(expected(SmsDelivery.decode(bytes)));
}

describe('decodeDeliveryView (routing reads sms.delivery.v1 without the rest of the record)', () => {
  it('gives what the generated decoder gives for every field routing uses', () => {
    same(enc(full()));
    same(enc(full({ status: DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE })));
    same(enc(full({ context: { ...full().context!, channel: SubmitChannel.SUBMIT_CHANNEL_PROBE } })));
    same(enc(full({ context: { ...full().context!, destinationInfo: undefined, receivedAt: undefined } })));
    same(enc(full({ context: undefined })));
    same(enc(full({ doneAt: undefined, updatedAt: undefined })));
    same(enc(full({ doneAt: new Date(0) }))); // an explicit epoch: a Timestamp message with no fields
    same(enc(SmsDelivery.fromPartial({})));
    const v = decodeDeliveryView(enc(full()));
    expect(v.context?.destinationInfo).toEqual({ countryCode: 'GB', mcc: '234', mnc: '015' });
    expect(v.doneAt?.getTime()).toBe(T);
    expect(v.context?.receivedAt?.getTime()).toBe(T - 4_321);
  });

  it('leaves out the context and times of a record that teaches nothing (not final, or no connector)', () => {
    for (const d of [
      full({ final: false, status: DeliveryStatus.DELIVERY_STATUS_ACCEPTED }),
      full({ connectorId: '' }),
    ]) {
      same(enc(d));
      expect(decodeDeliveryView(enc(d)).context).toBeUndefined();
    }
  });

  it('takes the last of a repeated field and skips unknown fields, as the generated decoder does', () => {
    const first = enc(full({ connectorId: 'con_x', status: DeliveryStatus.DELIVERY_STATUS_EXPIRED }));
    const second = enc(
      SmsDelivery.fromPartial({
        connectorId: 'con_y',
        context: { messageId: 'm2', destinationInfo: { mcc: '262' } },
      }),
    );
    same(Buffer.concat([first, second]));
    // Unknown fields of every wire type: 40 varint (a 10-byte one), 41 fixed64, 42 bytes, 43 fixed32.
    const unknown = Buffer.from([
      0xc0, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xc9, 0x02, 1, 2, 3, 4, 5, 6, 7,
      8, 0xd2, 0x02, 3, 0x61, 0x62, 0x63, 0xdd, 0x02, 1, 2, 3, 4,
    ]);
    same(Buffer.concat([unknown, first, unknown]));
    // A known field with another wire type (status as bytes) is skipped like an unknown one.
    same(Buffer.concat([first, Buffer.from([0x12, 2, 0x08, 0x01])]));
  });

  it('hands what it does not read cheaply to the generated decoder (negative times and enums, invalid UTF-8)', () => {
    same(enc(full({ doneAt: new Date(-86_400_000 - 5) })));
    same(enc(full({ status: -3 as DeliveryStatus })));
    same(enc(full({ context: { ...full().context!, receivedAt: new Date(T + 0.5) } })));
    const bad = enc(full({ connectorId: 'con_é' }));
    const at = bad.indexOf(Buffer.from('con_é'));
    bad[at + 4] = 0xff; // an invalid UTF-8 sequence in the connector id
    same(bad);
  });

  it('fails on a record cut short as the generated decoder does', () => {
    const bytes = enc(full());
    for (const cut of [1, 5, 20, bytes.length - 3]) {
      const part = bytes.subarray(0, cut);
      let generated: unknown;
      try {
        generated = SmsDelivery.decode(part);
      } catch (err) {
        generated = err;
      }
      if (generated instanceof Error) expect(() => decodeDeliveryView(part)).toThrow();
      else same(part);
    }
  });

  it('agrees with the generated decoder on random records', () => {
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    const pick = <X>(xs: X[]) => xs[rnd(xs.length)]!;
    for (let i = 0; i < 2_000; i++) {
      const base = full();
      const d = SmsDelivery.fromPartial({
        ...base,
        final: rnd(4) !== 0,
        status: rnd(10) as DeliveryStatus,
        connectorId: pick(['', 'c', 'con_long_name_with_ünïcode']),
        doneAt: rnd(3) === 0 ? undefined : new Date(T + rnd(100_000) - 50_000),
        updatedAt: rnd(3) === 0 ? undefined : new Date(rnd(2 ** 30) * 1_000 + rnd(1_000)),
        context:
          rnd(8) === 0
            ? undefined
            : {
                ...base.context!,
                messageId: pick(['', 'm', '01939a4e-0000-7000-8000-00000000000f']),
                trafficType: rnd(4) as TrafficType,
                channel: rnd(6) as SubmitChannel,
                receivedAt: rnd(4) === 0 ? undefined : new Date(T - rnd(10_000_000)),
                destinationInfo:
                  rnd(4) === 0
                    ? undefined
                    : { countryCode: pick(['', 'DE']), mcc: pick(['', '262']), mnc: pick(['', '01']) },
              },
      });
      same(enc(d));
    }
  });

  it('is the sms.delivery.v1 codec for reading, under the topic name', () => {
    const codec = deliveryViewCodec(topics.delivery);
    expect(codec.name).toBe('sms.delivery.v1');
    expect(codec.decode(enc(full()))).toEqual(expected(full()));
    expect(codec.key(full() as DeliveryView)).toBe(full().context!.messageId);
  });
});
