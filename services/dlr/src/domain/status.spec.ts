import { describe, expect, it } from 'vitest';
import {
  ALL_STATUSES,
  aggregateStatus,
  customerErr,
  errFromSmppStatus,
  fromMessageState,
  fromStatText,
  isFinal,
  normaliseReceipt,
  receiptStatus,
  toMessageState,
  toStatText,
} from './status.js';
import type { DlrStatus } from './types.js';

describe('status codes', () => {
  it('maps every status to its SMPP 3.4 message_state and stat text, and back', () => {
    const expected: [DlrStatus, number, string][] = [
      ['ENROUTE', 1, 'ENROUTE'],
      ['DELIVERED', 2, 'DELIVRD'],
      ['EXPIRED', 3, 'EXPIRED'],
      ['DELETED', 4, 'DELETED'],
      ['UNDELIVERABLE', 5, 'UNDELIV'],
      ['ACCEPTED', 6, 'ACCEPTD'],
      ['UNKNOWN', 7, 'UNKNOWN'],
      ['REJECTED', 8, 'REJECTD'],
    ];
    for (const [status, state, stat] of expected) {
      expect(toMessageState(status)).toBe(state);
      expect(toStatText(status)).toBe(stat);
      expect(fromMessageState(state)).toBe(status);
      expect(fromStatText(stat)).toBe(status);
      expect(fromStatText(stat.toLowerCase())).toBe(status);
    }
    expect(ALL_STATUSES).toHaveLength(8);
  });

  it('treats ENROUTE and ACCEPTED as intermediate and everything else as final', () => {
    expect(ALL_STATUSES.filter((s) => !isFinal(s))).toEqual(['ENROUTE', 'ACCEPTED']);
  });

  it('reads SMPP 5.0 states and long spellings', () => {
    expect(fromMessageState(0)).toBe('ENROUTE');
    expect(fromMessageState(9)).toBe('UNDELIVERABLE');
    expect(fromMessageState(42)).toBeUndefined();
    expect(fromStatText('delivered')).toBe('DELIVERED');
    expect(fromStatText('FAILED')).toBe('UNDELIVERABLE');
    expect(fromStatText('nonsense')).toBeUndefined();
  });
});

describe('receiptStatus', () => {
  it('prefers the message_state TLV over the stat text', () => {
    expect(receiptStatus(5, 'DELIVRD', '000')).toBe('UNDELIVERABLE');
    expect(receiptStatus(undefined, 'DELIVRD', '000')).toBe('DELIVERED');
    expect(receiptStatus(99, 'EXPIRED', '000')).toBe('EXPIRED');
  });

  it('falls back on err when there is no usable state', () => {
    expect(receiptStatus(undefined, undefined, '034')).toBe('UNDELIVERABLE');
    expect(receiptStatus(undefined, 'garbled', '000')).toBe('UNKNOWN');
    expect(receiptStatus(undefined, undefined, undefined)).toBe('UNKNOWN');
  });
});

describe('normaliseReceipt', () => {
  it('parses the text, prefers the TLV id and state', () => {
    const n = normaliseReceipt({
      connectorId: 'c1',
      tlvMessageId: '0A1B2C',
      tlvMessageState: 2,
      text: 'id:662316 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:UNDELIV err:000 text:',
      receivedAt: 1,
    });
    expect(n).toMatchObject({
      status: 'DELIVERED',
      idSource: 'tlv',
      supplierMessageId: '0A1B2C',
      err: '000',
      doneDate: Date.UTC(2023, 10, 22, 15, 31),
    });
  });

  it('uses the text id when there is no TLV', () => {
    const n = normaliseReceipt({ connectorId: 'c1', text: 'id:77 stat:EXPIRED err:1', receivedAt: 1 });
    expect(n).toMatchObject({ status: 'EXPIRED', idSource: 'text', supplierMessageId: '77', err: '1' });
  });
});

describe('aggregateStatus (multi-part)', () => {
  it('is DELIVERED only when every part is', () => {
    expect(aggregateStatus(['DELIVERED', 'DELIVERED', 'DELIVERED'])).toBe('DELIVERED');
    expect(aggregateStatus(['DELIVERED', 'EXPIRED', 'DELIVERED'])).toBe('EXPIRED');
  });

  it('stays intermediate while any part is pending', () => {
    expect(aggregateStatus(['DELIVERED', 'ENROUTE'])).toBe('ACCEPTED');
    expect(aggregateStatus(['REJECTED', 'ACCEPTED'])).toBe('ACCEPTED');
    expect(aggregateStatus(['ENROUTE', 'ENROUTE'])).toBe('ENROUTE');
  });

  it('applies the failure precedence REJECTED > UNDELIVERABLE > EXPIRED > DELETED > UNKNOWN', () => {
    expect(aggregateStatus(['UNKNOWN', 'DELETED', 'EXPIRED', 'UNDELIVERABLE', 'REJECTED'])).toBe('REJECTED');
    expect(aggregateStatus(['UNKNOWN', 'DELETED', 'EXPIRED', 'UNDELIVERABLE', 'DELIVERED'])).toBe(
      'UNDELIVERABLE',
    );
    expect(aggregateStatus(['UNKNOWN', 'EXPIRED', 'DELETED'])).toBe('EXPIRED');
    expect(aggregateStatus(['UNKNOWN', 'DELETED'])).toBe('DELETED');
    expect(aggregateStatus(['UNKNOWN', 'DELIVERED'])).toBe('UNKNOWN');
  });
});

describe('error codes', () => {
  it('maps the last SMPP status of a failed dispatch to a customer err', () => {
    expect(errFromSmppStatus(0x0b)).toBe('001');
    expect(errFromSmppStatus(0x51)).toBe('001');
    expect(errFromSmppStatus(0x0a)).toBe('002');
    expect(errFromSmppStatus(0x01)).toBe('003');
    expect(errFromSmppStatus(0x58)).toBe('004');
    expect(errFromSmppStatus(0x14)).toBe('004');
    expect(errFromSmppStatus(0x45)).toBe('005');
    expect(errFromSmppStatus(0xfe)).toBe('005');
    expect(errFromSmppStatus(0x62)).toBe('006');
    expect(errFromSmppStatus(undefined)).toBe('007');
    expect(errFromSmppStatus(0x0e)).toBe('008');
    expect(errFromSmppStatus(0x400)).toBe('099');
  });

  it('normalises given err codes to three characters', () => {
    expect(customerErr('1')).toBe('001');
    expect(customerErr(' 034 ')).toBe('034');
    expect(customerErr('00000123')).toBe('123');
    expect(customerErr(undefined)).toBe('000');
  });
});
