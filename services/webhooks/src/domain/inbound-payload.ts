import type { SmsInbound } from '@smshub/contracts';

/**
 * The JSON body of an inbound-message webhook (`message.inbound`), built once from an sms.inbound.v1
 * record. `text` is the message decoded as received (GSM7, Latin-1, UCS2); a binary message has `text`
 * null and its octets in `data_base64`. A part passed on alone (the account does not reassemble, or its
 * siblings never came) carries `part` {reference, total, number}; `data_base64` then holds the UDH too.
 */
export interface InboundWebhookBody {
  id: string;
  type: 'message.inbound';
  created_at: string;
  data: {
    message_id: string;
    account_id: string;
    from: string;
    to: string;
    text: string | null;
    data_coding: number;
    data_base64: string | null;
    parts: number;
    part: { reference: number; total: number; number: number } | null;
    keyword: string | null;
    received_at: string | null;
  };
}

export function inboundBody(id: string, m: SmsInbound, now: Date): InboundWebhookBody {
  // The inbound stage leaves `text` empty for binary data codings (user data that is not text).
  const notText = m.text === '' && m.shortMessage.length > 0;
  const binary = notText || (m.esmClass & 0x40) !== 0;
  return {
    id,
    type: 'message.inbound',
    created_at: now.toISOString(),
    data: {
      message_id: m.messageId,
      account_id: m.accountId,
      from: m.source?.address ?? '',
      to: m.destination?.address ?? '',
      text: notText ? null : m.text,
      data_coding: m.dataCoding,
      data_base64: binary ? Buffer.from(m.shortMessage).toString('base64') : null,
      parts: m.parts,
      part: m.concat
        ? { reference: m.concat.reference, total: m.concat.total, number: m.concat.partNumber }
        : null,
      keyword: m.keyword || null,
      received_at: m.receivedAt ? m.receivedAt.toISOString() : null,
    },
  };
}
