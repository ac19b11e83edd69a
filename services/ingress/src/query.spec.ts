import { describe, expect, it } from 'vitest';
import { CommandStatus as S, MessageState } from '@smshub/smpp';
import { queryResponse } from './query.js';

describe('query_sm_resp from the message state', () => {
  it('answers RQUERYFAIL for a message the bound account does not have', () => {
    expect(queryResponse('m', undefined)).toEqual({ status: S.ESME_RQUERYFAIL });
  });

  it('answers ENROUTE with no final date while the message is not final (intermediate ACCEPTD included)', () => {
    for (const messageState of [MessageState.ENROUTE, MessageState.ACCEPTED])
      expect(queryResponse('m', { messageState, finalDate: null, errorCode: 0 })).toEqual({
        fields: { message_id: 'm', final_date: '', message_state: MessageState.ENROUTE, error_code: 0 },
      });
  });

  it('answers the final state, its date and the error code', () => {
    const r = queryResponse('m', {
      messageState: MessageState.UNDELIVERABLE,
      finalDate: new Date('2026-11-22T07:04:05Z'),
      errorCode: 34,
    });
    expect(r.fields).toMatchObject({ message_id: 'm', message_state: 5, error_code: 34 });
    expect(r.fields?.final_date).toMatch(/^261122070405\d00\+$/);
  });
});
