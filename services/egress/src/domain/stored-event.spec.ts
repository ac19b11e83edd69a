import { describe, expect, it } from 'vitest';
import { DispatchOutcome, SmsDispatched, topics } from '@smshub/contracts';
import { contextField, withContext } from './stored-event.js';

const event = (customerMessageId: string) =>
  SmsDispatched.fromPartial({
    context: {
      messageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f',
      accountId: 'acc_1',
      systemId: 'esme1',
      customerMessageId,
      source: { ton: 5, npi: 0, address: 'BRAND' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      dataCoding: 8,
    },
    partNumber: 2,
    partTotal: 3,
    connectorId: 'con_a',
    candidateIndex: 1,
    supplierMessageId: '0A1B2C',
    supplierMessageIdNormalised: 'a1b2c',
    attempt: 2,
    submittedAt: new Date('2026-11-22T07:00:00.123Z'),
    respondedAt: new Date('2026-11-22T07:00:01.456Z'),
    outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
    segments: 1,
    partId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f-2',
  });

describe('stored dispatch events', () => {
  it.each([
    ['a short context (one length byte)', 'c1'],
    ['a long context (a two-byte length)', 'x'.repeat(300)],
  ])('context field + the stored rest is the event encoded in one piece: %s', (_, customerId) => {
    const ev = event(customerId);
    const whole = Buffer.from(topics.dispatched.encode(ev));
    const stored = topics.dispatched.encode({ ...ev, context: undefined });
    expect(stored.length).toBe(whole.length - contextField(ev.context!).length);
    expect(withContext(stored, ev.context!).equals(whole)).toBe(true);
    expect(topics.dispatched.decode(withContext(stored, ev.context!))).toEqual(ev);
  });

  it('a row written with the whole event (before) is re-published as it is', () => {
    const ev = event('c1');
    const whole = Buffer.from(topics.dispatched.encode(ev));
    const other = { ...ev.context!, customerMessageId: 'not used' };
    expect(withContext(whole, other).equals(whole)).toBe(true);
  });
});
