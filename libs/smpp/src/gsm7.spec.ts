import { describe, expect, it } from 'vitest';
import {
  canEncodeGsm7,
  decodeGsm7,
  encodeGsm7,
  gsm7SeptetLength,
  packSeptets,
  unpackSeptets,
} from './gsm7.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

describe('GSM 03.38', () => {
  it('packs "Hello world" to the fiorix/go-smpp vector', () => {
    expect(hex(packSeptets(encodeGsm7('Hello world')))).toBe('C8329BFD06DDDF723619');
  });

  it('packs "hellohello" to the classic 3GPP example and back', () => {
    const packed = packSeptets(encodeGsm7('hellohello'));
    expect(hex(packed)).toBe('E8329BFD4697D9EC37');
    expect(decodeGsm7(unpackSeptets(packed))).toBe('hellohello');
  });

  it('maps the default alphabet by position', () => {
    expect([...encodeGsm7('@£$¥ΔÆ¡§¿àA')]).toEqual([
      0x00, 0x01, 0x02, 0x03, 0x10, 0x1c, 0x40, 0x5f, 0x60, 0x7f, 0x41,
    ]);
  });

  it('escapes extension characters and counts them as two septets', () => {
    expect([...encodeGsm7('€[]{}^~|\\\f')]).toEqual([
      0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x3e, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x14, 0x1b, 0x3d, 0x1b, 0x40, 0x1b,
      0x2f, 0x1b, 0x0a,
    ]);
    expect(gsm7SeptetLength('a€')).toBe(3);
    expect(gsm7SeptetLength('Hello')).toBe(5);
    expect(gsm7SeptetLength('привет')).toBe(-1);
  });

  it('round-trips every encodable character unpacked and packed', () => {
    const all =
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà€[]{}^~|\\';
    expect(decodeGsm7(encodeGsm7(all))).toBe(all);
    const septets = encodeGsm7(all);
    expect(decodeGsm7(unpackSeptets(packSeptets(septets), septets.length))).toBe(all);
  });

  it('tells encodable text apart', () => {
    expect(canEncodeGsm7('Hello {world} €5')).toBe(true);
    expect(canEncodeGsm7('ç')).toBe(false); // only capital Ç is in the table
    expect(canEncodeGsm7('😀')).toBe(false);
    expect(canEncodeGsm7('')).toBe(true);
  });

  it('throws on non-GSM characters unless a replacement is given', () => {
    expect(() => encodeGsm7('a😀')).toThrow(RangeError);
    expect(decodeGsm7(encodeGsm7('a😀b', { replacement: '?' }))).toBe('a?b');
  });

  it('decodes an unknown escape as the base character and drops a trailing escape', () => {
    expect(decodeGsm7(Buffer.from([0x1b, 0x41, 0x42, 0x1b]))).toBe('AB');
  });

  it('packs with fill bits after a UDH and unpacks with the same offset', () => {
    const septets = encodeGsm7('Hi there');
    const packed = packSeptets(septets, 1);
    expect(decodeGsm7(unpackSeptets(packed, septets.length, 1))).toBe('Hi there');
  });

  it('drops the padding septet when 7 septets fill 7 octets exactly', () => {
    const packed = packSeptets(encodeGsm7('1234567'));
    expect(packed.length).toBe(7);
    expect(decodeGsm7(unpackSeptets(packed))).toBe('1234567');
  });
});
