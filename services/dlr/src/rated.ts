// Rated records (billing.rated.v1) in the message's timeline: each revision of the rating becomes a 'rated'
// event, so GetMessage (and through it the HTTP API's GET /v1/messages/{id} and `hubctl messages get`)
// shows the price rating charged. Only for messages dlr knows (a record of a message purged by retention,
// or of an account's MO dlr never stored, is skipped); idempotent on (message id, revision).
import type { Pool } from '@smshub/db';
import type { ConsumedRecord } from '@smshub/kafka';
import { BillingRated } from '@smshub/contracts';
import { insertUnnest } from './sql.js';
import { TIMELINE_COLUMNS, timelineRow } from './timeline-rows.js';

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
    // The payloads travel as one binary parameter (insertUnnest), not as a bytea[] that pg would write
    // and parse as hex: one rated record per message, so this is on the hot path.
    await insertUnnest(
      this.pool,
      'dlr_timeline',
      TIMELINE_COLUMNS,
      rows,
      `WHERE EXISTS (SELECT 1 FROM dlr_messages m WHERE m.message_id = u.c0)
       ON CONFLICT (message_id, event_key) DO NOTHING`,
    );
  }
}
