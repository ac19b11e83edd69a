import { describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  DispatchOutcome,
  MessageContext,
  SmsDispatched,
  SmsReceiptRaw,
} from '@smshub/contracts';
import {
  customerError,
  destKeyOf,
  errOf,
  fromProtoStatus,
  mergeContext,
  toDispatch,
  toProtoStatus,
  toReceipt,
} from './mapping.js';
import { ALL_STATUSES } from './domain/status.js';

const T = new Date('2026-11-22T07:00:00Z');

describe('status mapping', () => {
  it('round-trips every domain status and reads FAILED as UNDELIVERABLE', () => {
    for (const s of ALL_STATUSES) expect(fromProtoStatus(toProtoStatus(s))).toBe(s);
    expect(fromProtoStatus(DeliveryStatus.DELIVERY_STATUS_FAILED)).toBe('UNDELIVERABLE');
    expect(fromProtoStatus(DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED)).toBeUndefined();
  });

  it('gives failures a customer error with the 3-digit err, and nothing for delivered', () => {
    expect(customerError('DELIVERED', '000')).toBeUndefined();
    expect(customerError('UNDELIVERABLE', '021')).toMatchObject({ code: 'UNDELIVERABLE', receiptError: 21 });
    expect(errOf({ code: 'FIREWALL_BLOCKED', receiptError: 88, message: '' })).toBe('088');
    expect(errOf({ code: 'X', receiptError: 0, message: '' })).toBe('099');
  });
});

describe('dispatch', () => {
  const base = {
    context: { messageId: 'm' },
    partNumber: 2,
    partTotal: 3,
    connectorId: 'c',
    attempt: 1,
    respondedAt: T,
  };

  it('reads an accepted attempt as a pending part with its supplier id', () => {
    const d = toDispatch(
      SmsDispatched.fromPartial({
        ...base,
        supplierMessageId: ' 0A1B ',
        outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
      }),
      'm',
      0,
    );
    expect(d).toMatchObject({ status: 'ENROUTE', err: '000' });
    expect(d.dispatch).toMatchObject({
      partIndex: 1,
      partsTotal: 3,
      accepted: true,
      supplierMessageId: '0A1B',
      time: T.getTime(),
    });
  });

  it('reads a final failure as UNDELIVERABLE with the err of its command_status, no response as UNKNOWN 007', () => {
    const rejected = toDispatch(
      SmsDispatched.fromPartial({
        ...base,
        outcome: DispatchOutcome.DISPATCH_OUTCOME_REJECTED,
        commandStatus: 0x0b,
        finalFailure: true,
      }),
      'm',
      0,
    );
    expect(rejected).toMatchObject({ status: 'UNDELIVERABLE', err: '001' });
    const timeout = toDispatch(
      SmsDispatched.fromPartial({
        ...base,
        outcome: DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT,
        finalFailure: true,
      }),
      'm',
      0,
    );
    // no submit_sm_resp: the supplier may have the message, so the outcome is unknown, not undeliverable
    expect(timeout).toMatchObject({ status: 'UNKNOWN', err: '007' });
    const retried = toDispatch(
      SmsDispatched.fromPartial({
        ...base,
        outcome: DispatchOutcome.DISPATCH_OUTCOME_REJECTED,
        commandStatus: 0x58,
      }),
      'm',
      0,
    );
    expect(retried.status).toBe('ENROUTE');
  });
});

describe('receipt', () => {
  it('takes the TLVs, the parsed fields and the text of a raw receipt', () => {
    const r = toReceipt(
      SmsReceiptRaw.fromPartial({
        receiptId: 'r1',
        connectorId: 'c',
        receivedAt: T,
        rawText: Buffer.from('id:2587 stat:DELIVRD err:000'),
        receiptedMessageId: '0A1B',
        messageState: 2,
        networkErrorCode: { networkType: 3, errorCode: 1 },
      }),
      0,
    );
    expect(r).toEqual({
      connectorId: 'c',
      receiptId: 'r1',
      receivedAt: T.getTime(),
      tlvMessageId: '0A1B',
      tlvMessageState: 2,
      networkErrorCode: '03:0001',
      text: 'id:2587 stat:DELIVRD err:000',
    });
  });
});

describe('context', () => {
  it('keeps what is known and fills gaps from later events', () => {
    const a = MessageContext.fromPartial({ messageId: 'm', accountId: 'acc' });
    const b = MessageContext.fromPartial({
      messageId: 'm',
      accountId: 'other',
      destinationInfo: { mcc: '234', mnc: '15', matchedPrefix: '4477' },
    });
    const merged = mergeContext(a, b);
    expect(merged.accountId).toBe('acc');
    expect(destKeyOf(merged)).toBe('mccmnc:234-15');
    expect(destKeyOf(MessageContext.fromPartial({ destinationInfo: { matchedPrefix: '4477' } }))).toBe(
      'prefix:4477',
    );
    expect(destKeyOf(a)).toBeUndefined();
  });
});
