import { describe, expect, it } from 'vitest';
import { SmsInbound } from '@smshub/contracts';
import { inboundBody } from './inbound-payload.js';

const base = SmsInbound.fromPartial({
  messageId: '01935f3e-0000-7000-8000-0000000000bb',
  accountId: 'acc_1',
  source: { ton: 1, npi: 1, address: '447700900123' },
  destination: { ton: 1, npi: 1, address: '447700900555' },
  shortMessage: Buffer.from('STOP'),
  text: 'STOP',
  parts: 1,
  receivedAt: new Date('2026-12-06T10:00:00Z'),
});

describe('message.inbound body', () => {
  it('carries the text, the numbers and the account', () => {
    const b = inboundBody('d1', base, new Date('2026-12-06T10:00:01Z'));
    expect(b).toMatchObject({
      id: 'd1',
      type: 'message.inbound',
      data: { from: '447700900123', to: '447700900555', text: 'STOP', data_base64: null, part: null },
    });
  });

  it('gives binary user data and lone parts (with their UDH) in base64', () => {
    const bin = inboundBody(
      'd2',
      { ...base, dataCoding: 4, text: '', shortMessage: Buffer.from([1, 2]) },
      new Date(),
    );
    expect(bin.data.text).toBeNull();
    expect(bin.data.data_base64).toBe('AQI=');
    const part = inboundBody(
      'd3',
      { ...base, esmClass: 0x40, concat: { reference: 7, total: 2, partNumber: 1, method: 1, groupId: '' } },
      new Date(),
    );
    expect(part.data.part).toEqual({ reference: 7, total: 2, number: 1 });
    expect(part.data.text).toBe('STOP');
  });
});
