import { describe, expect, it } from 'vitest';
import { ConcatMethod, SmsSubmitted } from '@smshub/contracts';
import { encodeUcs2, parseUdh, decodeGsm7 } from '@smshub/smpp';
import {
  chooseEncoding,
  concatReference,
  normaliseDestination,
  normaliseSource,
  planSubmit,
  type TranslationSettings,
} from './translate.js';

const base: TranslationSettings = {
  dataCodings: [0, 3, 8],
  gsm7Packed: false,
  segmentation: 'udh8',
  defaultSourceTon: 3,
  defaultSourceNpi: 0,
};

function msg(text: string, extra: Partial<SmsSubmitted> = {}): SmsSubmitted {
  return SmsSubmitted.fromPartial({
    messageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f',
    source: { ton: 5, npi: 0, address: 'ACME' },
    destination: { ton: 1, npi: 1, address: '447700900123' },
    dataCoding: 8,
    shortMessage: encodeUcs2(text),
    ...extra,
  });
}

describe('sender and destination normalisation', () => {
  it('sends alphanumeric senders as TON 5 NPI 0', () => {
    expect(normaliseSource({ ton: 0, npi: 0, address: 'ACME Bank' }, { ton: 3, npi: 0 })).toEqual({
      ton: 5,
      npi: 0,
      address: 'ACME Bank',
    });
  });
  it('sends international numbers as TON 1 NPI 1 without "+"', () => {
    expect(normaliseSource({ ton: 0, npi: 0, address: '+447700900001' }, { ton: 3, npi: 0 })).toEqual({
      ton: 1,
      npi: 1,
      address: '447700900001',
    });
    expect(normaliseSource({ ton: 1, npi: 0, address: '4915' }, { ton: 3, npi: 0 }).ton).toBe(1);
  });
  it('gives short codes the connector default', () => {
    expect(normaliseSource({ ton: 0, npi: 0, address: '12345' }, { ton: 3, npi: 0 })).toEqual({
      ton: 3,
      npi: 0,
      address: '12345',
    });
  });
  it('normalises destinations to E.164 digits', () => {
    expect(normaliseDestination({ ton: 0, npi: 0, address: '+447700900123' })).toEqual({
      ton: 1,
      npi: 1,
      address: '447700900123',
    });
  });
});

describe('chooseEncoding', () => {
  it('keeps the customer alphabet when supported, else falls back GSM7 -> Latin-1 -> UCS2', () => {
    expect(chooseEncoding('hello', 'ucs2', base)?.dataCoding).toBe(8);
    expect(chooseEncoding('hello', 'ucs2', { ...base, dataCodings: [0] })?.dataCoding).toBe(0);
    expect(chooseEncoding('où ¿', 'ucs2', { ...base, dataCodings: [0, 3] })?.dataCoding).toBe(0);
    expect(chooseEncoding('Ðis', 'ucs2', { ...base, dataCodings: [0, 3] })?.dataCoding).toBe(3);
    expect(chooseEncoding('Привет', 'gsm7', base)?.dataCoding).toBe(8);
    expect(chooseEncoding('Привет', 'gsm7', { ...base, dataCodings: [0, 3] })).toBeUndefined();
  });
});

describe('planSubmit', () => {
  it('sends a short text as one part with normalised addresses and a receipt request', () => {
    const r = planSubmit(msg('Hello'), { ...base, dataCodings: [0] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.parts).toHaveLength(1);
    const p = r.plan.parts[0]!;
    expect(p.data_coding).toBe(0);
    expect(p.short_message).toEqual(Buffer.from('Hello', 'latin1'));
    expect(p.source_addr_ton).toBe(5);
    expect(p.dest_addr_ton).toBe(1);
    expect(p.registered_delivery).toBe(1);
    expect((p.esm_class ?? 0) & 0x40).toBe(0);
  });

  it('packs GSM7 when the connector asks for it', () => {
    const r = planSubmit(msg('Hello world'), { ...base, dataCodings: [0], gsm7Packed: true });
    if (!r.ok) throw new Error(r.reason);
    expect(r.plan.parts[0]!.short_message!.toString('hex').toUpperCase()).toBe('C8329BFD06DDDF723619');
  });

  it('splits a long GSM7 text into 153-septet parts with an 8-bit UDH sharing one reference', () => {
    const text = 'x'.repeat(400);
    const r = planSubmit(msg(text), { ...base, dataCodings: [0] });
    if (!r.ok) throw new Error(r.reason);
    expect(r.plan.parts).toHaveLength(3);
    const udhs = r.plan.parts.map((p) => parseUdh(p.short_message!));
    const ref = concatReference('01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', 8);
    expect(udhs.every((u) => u.ok)).toBe(true);
    expect(r.plan.parts.map((p) => (p.esm_class ?? 0) & 0x40)).toEqual([0x40, 0x40, 0x40]);
    expect(r.plan.parts[0]!.short_message!.subarray(0, 6)).toEqual(Buffer.from([5, 0, 3, ref, 3, 1]));
    expect(r.plan.parts[2]!.short_message!.subarray(0, 6)).toEqual(Buffer.from([5, 0, 3, ref, 3, 3]));
    const body = r.plan.parts.map((p) => decodeGsm7(p.short_message!.subarray(6))).join('');
    expect(body).toBe(text);
  });

  it('uses a 16-bit reference for udh16 and SAR TLVs for sar', () => {
    const text = 'Ω'.repeat(100); // UCS2 only: 67 per part -> 2 parts
    const r16 = planSubmit(msg(text), { ...base, segmentation: 'udh16' });
    if (!r16.ok) throw new Error(r16.reason);
    expect(r16.plan.parts).toHaveLength(2);
    expect(r16.plan.parts[0]!.short_message!.subarray(0, 3)).toEqual(Buffer.from([6, 8, 4]));
    const sar = planSubmit(msg(text), { ...base, segmentation: 'sar' });
    if (!sar.ok) throw new Error(sar.reason);
    expect(sar.plan.parts.map((p) => [p.sar_total_segments, p.sar_segment_seqnum])).toEqual([
      [2, 1],
      [2, 2],
    ]);
    expect((sar.plan.parts[0]!.esm_class ?? 0) & 0x40).toBe(0);
  });

  it('puts a long message in one message_payload part for payload connectors, short ones in short_message', () => {
    const long = planSubmit(msg('y'.repeat(300)), { ...base, segmentation: 'payload', dataCodings: [0] });
    if (!long.ok) throw new Error(long.reason);
    expect(long.plan.parts).toHaveLength(1);
    expect(long.plan.parts[0]!.message_payload!.length).toBe(300);
    expect(long.plan.parts[0]!.short_message!.length).toBe(0);
    const short = planSubmit(msg('hi'), { ...base, segmentation: 'payload', dataCodings: [0] });
    if (!short.ok) throw new Error(short.reason);
    expect(short.plan.parts[0]!.message_payload).toBeUndefined();
  });

  it('forwards a customer-split part unchanged, re-attaching SAR fields', () => {
    const udhPart = Buffer.from([5, 0, 3, 0x2a, 2, 1, 0, 0x48]);
    const r = planSubmit(
      msg('', {
        esmClass: 0x40,
        shortMessage: udhPart,
        concat: {
          reference: 0x2a,
          total: 2,
          partNumber: 1,
          method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
          groupId: '',
        },
      }),
      base,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.plan.parts).toHaveLength(1);
    expect(r.plan.parts[0]!.short_message).toEqual(udhPart);
    expect(r.plan.parts[0]!.esm_class).toBe(0x40);
    const sar = planSubmit(
      msg('ab', {
        concat: {
          reference: 7,
          total: 3,
          partNumber: 2,
          method: ConcatMethod.CONCAT_METHOD_SAR,
          groupId: '',
        },
      }),
      base,
    );
    if (!sar.ok) throw new Error(sar.reason);
    expect([
      sar.plan.parts[0]!.sar_msg_ref_num,
      sar.plan.parts[0]!.sar_total_segments,
      sar.plan.parts[0]!.sar_segment_seqnum,
    ]).toEqual([7, 3, 2]);
  });

  it('refuses text no supported coding can carry', () => {
    const r = planSubmit(msg('Привет'), { ...base, dataCodings: [0] });
    expect(r.ok).toBe(false);
  });

  it('keeps binary data and its data_coding', () => {
    const bin = Buffer.alloc(200, 0xab);
    const r = planSubmit(msg('', { dataCoding: 4, shortMessage: bin }), { ...base, dataCodings: [0, 4, 8] });
    if (!r.ok) throw new Error(r.reason);
    expect(r.plan.dataCoding).toBe(4);
    expect(r.plan.parts).toHaveLength(2);
    expect(r.plan.parts[0]!.short_message!.length).toBe(6 + 134);
  });
});
