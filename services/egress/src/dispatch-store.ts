import type { Pool } from '@smshub/db';
import type { PartRecord, PartState } from './domain/dedupe.js';

/** A Postgres failure while recording a part: retried by the consumer (the record is redelivered). */
export class DispatchStoreError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DispatchStoreError';
  }
}

export interface PartKey {
  messageId: string;
  partNumber: number;
}

/** egress_part_dispatch: the persisted dedupe record (domain/dedupe.ts explains the states). */
export class DispatchStore {
  constructor(
    private readonly pool: Pool,
    private readonly replica: string,
  ) {}

  private async q(sql: string, params: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    try {
      return await this.pool.query(sql, params);
    } catch (err) {
      throw new DispatchStoreError(`egress_part_dispatch: ${(err as Error).message}`, { cause: err });
    }
  }

  async get(key: PartKey): Promise<PartRecord | undefined> {
    const { rows } = await this.q(
      'SELECT state, attempt, event, connector_id FROM egress_part_dispatch WHERE message_id = $1 AND part_number = $2',
      [key.messageId, key.partNumber],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      state: r['state'] as PartState,
      attempt: Number(r['attempt']),
      event: (r['event'] as Buffer | null) ?? null,
      connectorId: r['connector_id'] as string,
    };
  }

  /** Written right before the submit_sm goes on the wire. */
  async markSending(key: PartKey, partTotal: number, attempt: number, connectorId: string): Promise<void> {
    await this.q(
      `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica)
       VALUES ($1, $2, $3, 'sending', $4, $5, $6)
       ON CONFLICT (message_id, part_number) DO UPDATE SET state = 'sending', attempt = EXCLUDED.attempt,
         connector_id = EXCLUDED.connector_id, replica = EXCLUDED.replica, event = NULL`,
      [key.messageId, key.partNumber, partTotal, attempt, connectorId, this.replica],
    );
  }

  /** The attempt ended without acceptance and another will follow (or none could be made yet). */
  async markPending(
    key: PartKey,
    partTotal: number,
    attempt: number,
    connectorId: string,
    commandStatus: number,
  ): Promise<void> {
    await this.q(
      `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica, command_status)
       VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7)
       ON CONFLICT (message_id, part_number) DO UPDATE SET state = 'pending', attempt = EXCLUDED.attempt,
         connector_id = EXCLUDED.connector_id, replica = EXCLUDED.replica, command_status = EXCLUDED.command_status, event = NULL`,
      [key.messageId, key.partNumber, partTotal, attempt, connectorId, this.replica, commandStatus],
    );
  }

  /** Final: sent (accepted), failed (gave up) or unknown (in flight when a previous owner died). */
  async markFinal(
    key: PartKey,
    partTotal: number,
    state: 'sent' | 'failed' | 'unknown',
    attempt: number,
    connectorId: string,
    supplierMessageId: string,
    commandStatus: number,
    event: Uint8Array,
  ): Promise<void> {
    await this.q(
      `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica,
         supplier_message_id, command_status, event)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (message_id, part_number) DO UPDATE SET state = EXCLUDED.state, attempt = EXCLUDED.attempt,
         connector_id = EXCLUDED.connector_id, replica = EXCLUDED.replica, supplier_message_id = EXCLUDED.supplier_message_id,
         command_status = EXCLUDED.command_status, event = EXCLUDED.event`,
      [
        key.messageId,
        key.partNumber,
        partTotal,
        state,
        attempt,
        connectorId,
        this.replica,
        supplierMessageId || null,
        commandStatus,
        Buffer.from(event),
      ],
    );
  }

  /** Deletes records older than `olderThanMs` (beyond the routed topic's retention nothing can be redelivered). */
  async purge(olderThanMs: number): Promise<number> {
    const { rows } = await this.q(
      `WITH d AS (DELETE FROM egress_part_dispatch WHERE created_at < now() - ($1::bigint * interval '1 millisecond') RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [olderThanMs],
    );
    return Number(rows[0]?.['n'] ?? 0);
  }
}
