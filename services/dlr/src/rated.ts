// Rated records (billing.rated.v1) in the message's timeline: each revision of the rating becomes a 'rated'
// event, so GetMessage (and through it the HTTP API's GET /v1/messages/{id} and `hubctl messages get`)
// shows the price rating charged. Only for messages dlr knows (a record of a message purged by retention,
// or of an account's MO dlr never stored, is skipped); idempotent on (message id, revision).
import type { Pool } from '@smshub/db';
import type { ConsumedRecord } from '@smshub/kafka';
import { BillingRated } from '@smshub/contracts';
import { timelineRow } from './timeline-rows.js';

export class RatedRecorder {
  constructor(
    private readonly pool: Pool,
    private readonly topic: string,
  ) {}

  async onRated(records: ConsumedRecord<BillingRated>[]): Promise<void> {
    const rows = records
      .filter((r) => r.value.messageId)
      .map((r) => {
        const v = r.value;
        const at = (v.ratedAt ?? v.doneAt ?? new Date()).getTime();
        const bytes = r.bytes ?? Buffer.from(BillingRated.encode(v).finish());
        return timelineRow(v.messageId, `rated/${v.revision}`, 'rated', this.topic, at, bytes);
      });
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO dlr_timeline (message_id, event_key, topic, kind, event_time, flow_order, payload)
       SELECT t.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
         $6::smallint[], $7::bytea[]) AS t(message_id, event_key, topic, kind, event_time, flow_order, payload)
       WHERE EXISTS (SELECT 1 FROM dlr_messages m WHERE m.message_id = t.message_id)
       ON CONFLICT (message_id, event_key) DO NOTHING`,
      [0, 1, 2, 3, 4, 5, 6].map((i) => rows.map((r) => r[i])),
    );
  }
}
