import { describe, expect, it } from 'vitest';
import { HeldState } from '@smshub/contracts';
import { CommandStatus as S, MessageState, type Pdu, type PduFields } from '@smshub/smpp';
import { cancelRequest, heldQueryResponse, RecentlyHeld, replaceRequest } from './held.js';

const NOW = new Date('2026-12-06T12:00:00Z');
/** A decoded request with these fields (the header does not matter here). */
const pdu = (f: PduFields): Pdu => ({ command: 'cancel_sm', ...f }) as unknown as Pdu;
const held = (state: HeldState, doneAt?: Date) => ({
  messageId: 'hub-1',
  customerMessageId: 'c1',
  state,
  dueAt: new Date('2026-12-06T13:00:00Z'),
  ...(doneAt ? { doneAt } : {}),
});

describe('query_sm of a held message', () => {
  it('is SCHEDULED on a 5.0 bind and ENROUTE on a 3.4 bind while held', () => {
    expect(heldQueryResponse('c1', held(HeldState.HELD_STATE_HELD), 0x50)?.fields?.message_state).toBe(
      MessageState.SCHEDULED,
    );
    expect(heldQueryResponse('c1', held(HeldState.HELD_STATE_HELD), 0x34)?.fields?.message_state).toBe(
      MessageState.ENROUTE,
    );
  });

  it('is DELETED (final, dated) once cancelled, EXPIRED once expired; released ones are answered by ingress', () => {
    const c = heldQueryResponse('c1', held(HeldState.HELD_STATE_CANCELLED, NOW), 0x34)!.fields!;
    expect(c.message_state).toBe(MessageState.DELETED);
    expect(c.final_date).toBe('261206120000000+');
    expect(
      heldQueryResponse('c1', held(HeldState.HELD_STATE_EXPIRED, NOW), 0x34)?.fields?.message_state,
    ).toBe(MessageState.EXPIRED);
    expect(heldQueryResponse('c1', held(HeldState.HELD_STATE_RELEASED, NOW), 0x34)).toBeUndefined();
    expect(heldQueryResponse('c1', undefined, 0x34)).toBeUndefined();
  });
});

describe('cancel_sm fields', () => {
  it('by message_id, or by destination (with service_type) without one', () => {
    expect(cancelRequest(pdu({ message_id: 'c1', source_addr: 'ACME' }), 'esme')).toMatchObject({
      systemId: 'esme',
      messageId: 'c1',
      source: 'ACME',
      serviceType: '',
    });
    expect(
      cancelRequest(pdu({ message_id: '', destination_addr: '+447700900123', service_type: 'CMT' }), 'esme'),
    ).toMatchObject({ messageId: '', destination: '447700900123', serviceType: 'CMT' });
    expect(cancelRequest(pdu({ message_id: '' }), 'esme')).toBe(S.ESME_RINVDSTADR);
  });
});

describe('replace_sm fields', () => {
  it('takes a new text, a relative schedule counted from now and the registered_delivery', () => {
    const r = replaceRequest(
      pdu({
        message_id: 'c1',
        short_message: Buffer.from('new'),
        schedule_delivery_time: '000000000500000R',
        registered_delivery: 1,
      }),
      'esme',
      NOW,
    );
    expect(r).toMatchObject({ messageId: 'c1', registeredDelivery: 1 });
    if (typeof r === 'number') throw new Error('refused');
    expect(Buffer.from(r.shortMessage!).toString()).toBe('new');
    expect(r.dueAt?.toISOString()).toBe('2026-12-06T12:05:00.000Z');
    expect(r.validityUntil).toBeUndefined();
  });

  it('a schedule in the past means now; an empty text leaves the text', () => {
    const r = replaceRequest(
      pdu({ message_id: 'c1', schedule_delivery_time: '200101000000000+' }),
      'esme',
      NOW,
    );
    if (typeof r === 'number') throw new Error('refused');
    expect(r.dueAt).toEqual(NOW);
    expect(r.shortMessage).toBeUndefined();
  });

  it('refuses bad times and flags with their own status', () => {
    expect(replaceRequest(pdu({ message_id: 'c1', schedule_delivery_time: 'x' }), 'e', NOW)).toBe(
      S.ESME_RINVSCHED,
    );
    expect(replaceRequest(pdu({ message_id: 'c1', validity_period: '200101000000000+' }), 'e', NOW)).toBe(
      S.ESME_RINVEXPIRY,
    );
    expect(
      replaceRequest(
        pdu({
          message_id: 'c1',
          schedule_delivery_time: '000000020000000R',
          validity_period: '000000010000000R',
        }),
        'e',
        NOW,
      ),
    ).toBe(S.ESME_RINVSCHED);
    expect(replaceRequest(pdu({ message_id: 'c1', registered_delivery: 3 }), 'e', NOW)).toBe(
      S.ESME_RINVREGDLVFLG,
    );
    expect(replaceRequest(pdu({ message_id: '' }), 'e', NOW)).toBe(S.ESME_RINVMSGID);
  });
});

describe('RecentlyHeld (a cancel or replace right after the submit waits for the scheduler)', () => {
  it('retries a recent id until the scheduler has it, and answers at once for other ids', async () => {
    const recent = new RecentlyHeld(2_000);
    recent.add('sys', 'c1');
    let calls = 0;
    const found = await recent.retry(
      'sys',
      'c1',
      () => Promise.resolve(++calls >= 3 ? ['hub-1'] : []),
      (r) => r.length > 0,
      5,
    );
    expect(found).toEqual(['hub-1']);
    expect(calls).toBe(3);
    let other = 0;
    const none = await recent.retry(
      'sys',
      'c2',
      () => {
        other++;
        return Promise.resolve([] as string[]);
      },
      (r) => r.length > 0,
      5,
    );
    expect(none).toEqual([]);
    expect(other).toBe(1);
  });

  it('gives up when the window ends, and forgets expired ids', async () => {
    const recent = new RecentlyHeld(30);
    recent.add('sys', 'c1');
    let calls = 0;
    const r = await recent.retry(
      'sys',
      'c1',
      () => Promise.resolve(++calls && undefined),
      (x) => !!x,
      5,
    );
    expect(r).toBeUndefined();
    expect(calls).toBeGreaterThan(1);
    expect(recent.deadline('sys', 'c1', Date.now() + 31)).toBe(0);
  });

  it('keeps at most its bound, dropping expired and then the oldest entries', () => {
    const recent = new RecentlyHeld(1_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) recent.add('sys', id, 0);
    expect(recent.deadline('sys', 'd', 1)).toBe(1_000);
    expect(['a', 'b', 'c'].filter((id) => recent.deadline('sys', id, 1) > 0).length).toBeLessThan(3);
  });
});
