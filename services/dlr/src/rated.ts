// Rated records (billing.rated.v1) in the message's timeline: each revision of the rating becomes a 'rated'
// event, so GetMessage (and through it the HTTP API's GET /v1/messages/{id} and `hubctl messages get`)
// shows the price rating charged. Idempotent on (message id, revision).
//
// Written whether or not dlr has the message's row yet: rating charges at submit, so its record can be
// handled before the batch that creates the row is committed (the two topics are separate batches), and
// a check per row (`EXISTS` on dlr_messages, until session 7) dropped those entries. A row of a message
// dlr never stores is never shown (GetMessage starts from dlr_messages) and goes with the retention, by
// its event time, like every timeline row.
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
    // and parse as hex: one rated record per message, so this is on the hot path. One statement per
    // batch, no lookup per row.
    await insertUnnest(
      this.pool,
      'dlr_timeline',
      TIMELINE_COLUMNS,
      rows,
      'ON CONFLICT (message_id, event_key) DO NOTHING',
    );
  }
}
