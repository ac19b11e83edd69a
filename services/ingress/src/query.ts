import { CommandStatus as S, formatSmppTime, MessageState, type ResponseSpec } from '@smshub/smpp';

/**
 * query_sm_resp (SMPP 3.4 section 4.8.2) from what ingress knows of a message of the bound account:
 *   - final: its message_state (DELIVERED, EXPIRED, UNDELIVERABLE, REJECTED, ...), final_date (when it
 *     reached that state) and error_code (the receipt's error, 0-255);
 *   - not final yet: ENROUTE with an empty final_date and error_code 0. An intermediate ACCEPTD from a
 *     supplier's SMSC is ENROUTE too: in SMPP 3.4 (5.2.28) ACCEPTED is a final state ("manually read on
 *     behalf of the subscriber by customer service"), which the hub never knows;
 *   - unknown to the bound account (never accepted for it, another account's, or its state expired):
 *     ESME_RQUERYFAIL.
 */
export interface KnownState {
  messageState: number;
  finalDate?: Date | null;
  errorCode?: number;
}

export function queryResponse(messageId: string, state: KnownState | undefined): ResponseSpec {
  if (!state) return { status: S.ESME_RQUERYFAIL };
  const final = state.finalDate ? state.finalDate : null;
  if (!final)
    return {
      fields: { message_id: messageId, final_date: '', message_state: MessageState.ENROUTE, error_code: 0 },
    };
  return {
    fields: {
      message_id: messageId,
      final_date: formatSmppTime(final),
      message_state: state.messageState,
      error_code: Math.max(0, Math.min(255, state.errorCode ?? 0)),
    },
  };
}
