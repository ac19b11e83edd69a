// Inbound messages (MO, sms.inbound.v1) in the message store: each becomes a dlr_messages row of its own
// (the MO's hub id, the account, the subscriber as source and the hub number as destination, status
// ACCEPTED and final: the hub received it; its delivery to the customer is ingress's store and forward)
// with an 'inbound' timeline event, so `hubctl messages get <id>` and ListMessages show it. Idempotent on
// the message id: a re-read record changes nothing.
import type { Pool } from '@smshub/db';
import type { ConsumedRecord } from '@smshub/kafka';
import { DeliveryStatus, MessageContext, SmsInbound } from '@smshub/contracts';
import { timelineRow } from './timeline-rows.js';

/** The MessageContext an MO is listed with (its own addresses, as received). */
export function inboundContext(m: SmsInbound): MessageContext {
  return MessageContext.fromPartial({
    messageId: m.messageId,
    accountId: m.accountId,
    source: m.source,
    destination: m.destination,
    dataCoding: m.dataCoding,
    ...(m.receivedAt ? { receivedAt: m.receivedAt } : {}),
  });
}

export class InboundRecorder {
  constructor(
    private readonly pool: Pool,
    private readonly topic: string,
  ) {}

  async onInbound(records: ConsumedRecord<SmsInbound>[]): Promise<void> {
    const ms = records.filter((r) => r.value.messageId && r.value.accountId);
    if (ms.length === 0) return;
    const now = Date.now();
    const rows = ms.map((r) => {
      const m = r.value;
      const at = (m.receivedAt ?? m.publishedAt ?? new Date(now)).getTime();
      const bytes = r.bytes ?? Buffer.from(SmsInbound.encode(m).finish());
      return {
        m,
        at: new Date(at),
        context: Buffer.from(MessageContext.encode(inboundContext(m)).finish()),
        timeline: timelineRow(m.messageId, 'inbound', 'inbound', this.topic, at, bytes),
      };
    });
    await this.pool.query(
      `INSERT INTO dlr_messages (message_id, account_id, destination, status, final, parts_total, segments,
         received_at, done_at, context, state)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::smallint[], $5::boolean[], $6::integer[],
         $7::integer[], $8::timestamptz[], $9::timestamptz[], $10::bytea[], $11::jsonb[])
       ON CONFLICT (message_id) DO NOTHING`,
      [
        rows.map((r) => r.m.messageId),
        rows.map((r) => r.m.accountId),
        rows.map((r) => r.m.destination?.address ?? ''),
        rows.map(() => DeliveryStatus.DELIVERY_STATUS_ACCEPTED),
        rows.map(() => true),
        rows.map((r) => Math.max(1, r.m.parts)),
        rows.map((r) => Math.max(1, r.m.parts)),
        rows.map((r) => r.at),
        rows.map((r) => r.at),
        rows.map((r) => r.context),
        rows.map(() => JSON.stringify({ inbound: true })),
      ],
    );
    await this.pool.query(
      `INSERT INTO dlr_timeline (message_id, event_key, topic, kind, event_time, flow_order, payload)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::smallint[],
         $7::bytea[])
       ON CONFLICT (message_id, event_key) DO NOTHING`,
      [0, 1, 2, 3, 4, 5, 6].map((i) => rows.map((r) => r.timeline[i])),
    );
  }
}
