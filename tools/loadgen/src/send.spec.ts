import { describe, expect, it } from 'vitest';
import { decodeUcs2, formatReceipt, type Pdu } from '@smshub/smpp';
import { SendError, contentFields, destinationFields, readReceipt, smppPort, sourceFields } from './send.js';

describe('send: submit_sm fields', () => {
  it('takes an international destination with or without +, 00 and spaces', () => {
    expect(destinationFields('+44 7400 123456')).toEqual({
      destination_addr: '447400123456',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
    });
    expect(destinationFields('00447400123456').destination_addr).toBe('447400123456');
  });

  it('refuses a destination that is not a phone number, with a sentence', () => {
    expect(() => destinationFields('12')).toThrow(SendError);
    expect(() => destinationFields('hello')).toThrow(/not an international phone number/);
  });

  it('sends alphanumeric senders as TON 5 and numbers as international', () => {
    expect(sourceFields('ACME')).toEqual({ source_addr: 'ACME', source_addr_ton: 5, source_addr_npi: 0 });
    expect(sourceFields('+447400000001')).toEqual({
      source_addr: '447400000001',
      source_addr_ton: 1,
      source_addr_npi: 1,
    });
    expect(() => sourceFields('TwelveLetters')).toThrow(/1 to 11/);
  });

  it('uses GSM 03.38 when the text fits, UCS2 otherwise or when asked, message_payload when long', () => {
    expect(contentFields('hello', false)).toMatchObject({ data_coding: 0 });
    const cyrillic = contentFields('Привет', false);
    expect(cyrillic.data_coding).toBe(8);
    expect(decodeUcs2(cyrillic.short_message as Buffer)).toBe('Привет');
    expect(contentFields('hello', true).data_coding).toBe(8);
    const long = contentFields('x'.repeat(200), false);
    expect((long.short_message as Buffer).length).toBe(0);
    expect((long.message_payload as Buffer).length).toBe(200);
    expect(() => contentFields('', false)).toThrow(/must not be empty/);
  });
});

describe('send: the SMPP port', () => {
  it('defaults to 2775 (3550 with TLS) moved up by HUB_PORT_OFFSET', () => {
    expect(smppPort(undefined, false, {})).toBe(2775);
    expect(smppPort(undefined, true, {})).toBe(3550);
    expect(smppPort(undefined, false, { HUB_PORT_OFFSET: '500' })).toBe(3275);
    expect(smppPort(undefined, true, { HUB_PORT_OFFSET: '500' })).toBe(4050);
  });

  it('takes --port over SMPP_PORT over the default', () => {
    const env = { HUB_PORT_OFFSET: '500', SMPP_PORT: '2900' };
    expect(smppPort(undefined, false, env)).toBe(2900);
    expect(smppPort('3000', false, env)).toBe(3000);
    expect(smppPort(undefined, true, env)).toBe(4050);
  });

  it('refuses a bad port or offset with a sentence', () => {
    expect(() => smppPort('70000', false, {})).toThrow(/--port "70000" is not a port/);
    expect(() => smppPort(undefined, false, { HUB_PORT_OFFSET: 'x' })).toThrow(/HUB_PORT_OFFSET must be/);
  });
});

describe('send: receipts', () => {
  const text = (stat: 'DELIVRD' | 'UNDELIV', err: string) =>
    Buffer.from(
      formatReceipt({
        id: 'abc123',
        sub: 1,
        dlvrd: stat === 'DELIVRD' ? 1 : 0,
        submitDate: new Date('2026-01-01T00:00:00Z'),
        doneDate: new Date('2026-01-01T00:00:05Z'),
        stat,
        err,
        text: 'hello',
      }),
      'latin1',
    );

  it('reads the id and status from the TLVs, else from the text', () => {
    const withTlv = {
      esm_class: 0x04,
      receipted_message_id: 'abc123',
      message_state: 2,
      short_message: text('DELIVRD', '000'),
    } as unknown as Pdu;
    expect(readReceipt(withTlv)).toEqual({ id: 'abc123', stat: 'DELIVRD', err: '000' });
    const textOnly = { esm_class: 0x04, short_message: text('UNDELIV', '001') } as unknown as Pdu;
    expect(readReceipt(textOnly)).toEqual({ id: 'abc123', stat: 'UNDELIV', err: '001' });
  });

  it('ignores mobile-originated messages', () => {
    expect(readReceipt({ esm_class: 0, short_message: Buffer.from('hi') } as unknown as Pdu)).toBeUndefined();
  });
});
