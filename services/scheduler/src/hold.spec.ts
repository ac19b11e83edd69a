import { describe, expect, it } from 'vitest';
import { HoldReason, SmsSubmitted } from '@smshub/contracts';
import { heldRow, releasedRecord, replacedRecord } from './hold.js';

const DUE = new Date('2026-12-06T13:00:00Z');
const base = SmsSubmitted.fromPartial({
  messageId: 'hub-1',
  accountId: 'a1',
  systemId: 'esme',
  customerMessageId: '42',
  source: { ton: 5, npi: 0, address: 'ACME' },
  destination: { ton: 1, npi: 1, address: '447700900123' },
  shortMessage: Buffer.from('hello'),
  scheduleAt: DUE,
  scheduleDeliveryTimeRaw: '000000010000000R',
  holdUntil: DUE,
  holdReason: HoldReason.HOLD_REASON_QUIET_HOURS,
});

describe('held messages', () => {
  it('a row is due at hold_until (schedule_at for producers without it), keyed by the customer id too', () => {
    const r = heldRow(base, new Date(0));
    expect(r).toMatchObject({ messageId: 'hub-1', customerMessageId: '42', destination: '447700900123' });
    expect(r.dueAt).toEqual(DUE);
    expect(r.reason).toBe(HoldReason.HOLD_REASON_QUIET_HOURS);
    expect(heldRow({ ...base, holdUntil: undefined }, new Date(0)).dueAt).toEqual(DUE);
    const now = new Date(5);
    expect(heldRow({ ...base, holdUntil: undefined, scheduleAt: undefined }, now).dueAt).toBe(now);
  });

  it('the release carries released_at and no raw schedule (egress must not forward it)', () => {
    const at = new Date('2026-12-06T13:00:00.120Z');
    const out = SmsSubmitted.decode(releasedRecord(heldRow(base, at).record, at));
    expect(out.releasedAt).toEqual(at);
    expect(out.scheduleDeliveryTimeRaw).toBe('');
    expect(out.holdUntil).toEqual(DUE);
    expect(Buffer.from(out.shortMessage).toString()).toBe('hello');
  });

  it('replace_sm changes text, time and validity, keeping everything else', () => {
    const due = new Date('2026-12-06T14:00:00Z');
    const out = SmsSubmitted.decode(
      replacedRecord(heldRow(base, DUE).record, {
        shortMessage: Buffer.from('changed'),
        dueAt: due,
        registeredDelivery: 1,
      }),
    );
    expect(Buffer.from(out.shortMessage).toString()).toBe('changed');
    expect(out.holdUntil).toEqual(due);
    expect(out.registeredDelivery).toBe(1);
    expect(out.destination?.address).toBe('447700900123');
  });
});
