import { describe, expect, it } from 'vitest';
import { dataCodingInfo, decodeText, encodeText, encodeUcs2 } from './text.js';

describe('data_coding', () => {
  it('interprets SMPP and GSM coding groups without masking to 4 bits', () => {
    expect(dataCodingInfo(0x00).alphabet).toBe('gsm7');
    expect(dataCodingInfo(0x01).alphabet).toBe('ascii');
    expect(dataCodingInfo(0x03).alphabet).toBe('latin1');
    expect(dataCodingInfo(0x08).alphabet).toBe('ucs2');
    expect(dataCodingInfo(0x02).alphabet).toBe('binary');
    expect(dataCodingInfo(0x04).alphabet).toBe('binary');
    expect(dataCodingInfo(0xf0)).toEqual({ alphabet: 'gsm7', messageClass: 0 });
    expect(dataCodingInfo(0xf1)).toEqual({ alphabet: 'gsm7', messageClass: 1 });
    expect(dataCodingInfo(0xf5)).toEqual({ alphabet: 'binary', messageClass: 1 });
    expect(dataCodingInfo(0x18)).toEqual({ alphabet: 'ucs2', messageClass: 0 });
    expect(dataCodingInfo(0x06).unknown).toBe(true);
  });

  it('decodes each alphabet', () => {
    expect(decodeText(Buffer.from([0x48, 0x69, 0x00, 0x1b, 0x65]), 0x00)).toBe('Hi@€');
    expect(decodeText(Buffer.from('Hi', 'latin1'), 0x01)).toBe('Hi');
    expect(decodeText(Buffer.from('café', 'latin1'), 0x03)).toBe('café');
    expect(decodeText(Buffer.from('00480069', 'hex'), 0x08)).toBe('Hi');
    expect(decodeText(Buffer.from('C8329BFD06DDDF723619', 'hex'), 0x00, { packed: true })).toBe(
      'Hello world',
    );
    expect(decodeText(Buffer.from([0x41, 0x42]), 0xf1)).toBe('AB');
  });

  it('keeps surrogate pairs whole in UCS2', () => {
    const bytes = encodeUcs2('a😀');
    expect(bytes.toString('hex')).toBe('0061d83dde00');
    expect(decodeText(bytes, 0x08)).toBe('a😀');
    expect(decodeText(Buffer.concat([bytes, Buffer.from([0x00])]), 0x08)).toBe('a😀');
  });

  it('chooses GSM7 when possible, else UCS2, and honours a fitting preference', () => {
    expect(encodeText('Hello €')).toMatchObject({ dataCoding: 0x00, alphabet: 'gsm7' });
    expect(encodeText('Привет')).toMatchObject({ dataCoding: 0x08, alphabet: 'ucs2' });
    expect(encodeText('café', 'latin1')).toMatchObject({ dataCoding: 0x03, alphabet: 'latin1' });
    expect(encodeText('Hello', 'ucs2').bytes.length).toBe(10);
    expect(encodeText('Привет', 'latin1').alphabet).toBe('ucs2');
    expect(encodeText('Hello world', undefined, { packed: true }).bytes.toString('hex').toUpperCase()).toBe(
      'C8329BFD06DDDF723619',
    );
  });
});
