// SQL of scheduler_held (0803_scheduler_held.sql). The scheduler owns the table; nothing else writes it.
import type { Pool, PoolClient } from '@smshub/db';
import type { HeldRow } from './hold.js';

export type HeldState = 'held' | 'released' | 'cancelled' | 'expired';

/** A row as the lookups (query/cancel/replace) see it. */
export interface HeldStatus {
  messageId: string;
  customerMessageId: string;
  state: HeldState;
  dueAt: Date;
  doneAt: Date | null;
}

/** A due row taken for release (locked by the transaction that took it). */
export interface DueRow {
  messageId: string;
  record: Buffer;
  /** Its validity ended before it could be released. */
  expired: boolean;
}

export class HeldStore {
  constructor(private readonly pool: Pool) {}

  /** Stores consumed held messages; a redelivered one (same message id) is left as it is. */
  async insert(rows: readonly HeldRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const r = await this.pool.query(
      `INSERT INTO scheduler_held (message_id, account_id, system_id, customer_message_id, source, destination,
                                   service_type, due_at, validity_until, reason, record)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::timestamptz[], $9::timestamptz[], $10::smallint[], $11::bytea[])
       ON CONFLICT (message_id) DO NOTHING`,
      [
        rows.map((r) => r.messageId),
        rows.map((r) => r.accountId),
        rows.map((r) => r.systemId),
        rows.map((r) => r.customerMessageId),
        rows.map((r) => r.source),
        rows.map((r) => r.destination),
        rows.map((r) => r.serviceType),
        rows.map((r) => r.dueAt),
        rows.map((r) => r.validityUntil),
        rows.map((r) => r.reason),
        rows.map((r) => r.record),
      ],
    );
    return r.rowCount ?? 0;
  }

  /**
   * Takes up to `limit` due rows (by due time) that no other transaction holds, locked until `client`
   * commits or rolls back. The database's clock decides what is due, so every replica agrees.
   */
  async takeDue(client: PoolClient, limit: number): Promise<DueRow[]> {
    const r = await client.query<{ message_id: string; record: Buffer; expired: boolean }>(
      `SELECT message_id, record, coalesce(validity_until <= now(), false) AS expired
         FROM scheduler_held
        WHERE state = 'held' AND due_at <= now()
        ORDER BY due_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return r.rows.map((x) => ({ messageId: x.message_id, record: x.record, expired: x.expired }));
  }

  /** Milliseconds until the next held row is due by the database's clock (0 if one is due); undefined = none. */
  async msUntilNextDue(): Promise<number | undefined> {
    // Not greatest(0, ...) in SQL: GREATEST ignores NULL, so "nothing held" came back as 0 ("due now") and
    // an idle scheduler ran a release transaction every millisecond.
    const r = await this.pool.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM min(due_at) - now()) * 1000)::float8 AS ms
         FROM scheduler_held WHERE state = 'held'`,
    );
    const ms = r.rows[0]?.ms;
    return ms === null || ms === undefined ? undefined : Math.max(0, Number(ms));
  }

  /** Marks taken rows released / expired (in the transaction that took them). */
  async markDone(client: PoolClient, released: string[], expired: string[], by: string): Promise<void> {
    await client.query(
      `UPDATE scheduler_held
          SET state = CASE WHEN message_id = ANY($2::text[]) THEN 'expired' ELSE 'released' END,
              done_at = now(), done_by = $3
        WHERE message_id = ANY($1::text[])`,
      [[...released, ...expired], expired, by],
    );
  }

  /** The held message of an account by the id its customer holds (or the hub id). */
  async status(systemId: string, id: string): Promise<HeldStatus | undefined> {
    const r = await this.pool.query<{
      message_id: string;
      customer_message_id: string;
      state: HeldState;
      due_at: Date;
      done_at: Date | null;
    }>(
      `SELECT message_id, customer_message_id, state, due_at, done_at FROM scheduler_held
        WHERE system_id = $1 AND (customer_message_id = $2 OR message_id = $2)
        ORDER BY held_at DESC LIMIT 1`,
      [systemId, id],
    );
    const x = r.rows[0];
    return x
      ? {
          messageId: x.message_id,
          customerMessageId: x.customer_message_id,
          state: x.state,
          dueAt: x.due_at,
          doneAt: x.done_at,
        }
      : undefined;
  }

  /**
   * Cancels held messages: one by id, or every held message of the account to `destination` (from
   * `source` when given, of `serviceType` when given). A row being released right now is locked: the
   * UPDATE waits for that release to commit and then no longer finds it held. Returns the cancelled ids.
   */
  async cancel(args: {
    systemId: string;
    id?: string;
    source?: string;
    destination?: string;
    serviceType?: string;
    by: string;
  }): Promise<string[]> {
    const r = args.id
      ? await this.pool.query<{ message_id: string }>(
          `UPDATE scheduler_held SET state = 'cancelled', done_at = now(), done_by = $3
            WHERE system_id = $1 AND (customer_message_id = $2 OR message_id = $2) AND state = 'held'
              AND ($4::text IS NULL OR source = $4) AND ($5::text IS NULL OR destination = $5)
          RETURNING message_id`,
          [args.systemId, args.id, args.by, args.source ?? null, args.destination ?? null],
        )
      : await this.pool.query<{ message_id: string }>(
          `UPDATE scheduler_held SET state = 'cancelled', done_at = now(), done_by = $3
            WHERE system_id = $1 AND destination = $2 AND state = 'held'
              AND ($4::text IS NULL OR source = $4) AND ($5::text IS NULL OR service_type = $5)
          RETURNING message_id`,
          [args.systemId, args.destination ?? '', args.by, args.source ?? null, args.serviceType ?? null],
        );
    return r.rows.map((x) => x.message_id);
  }

  /**
   * Applies `change` to a held message's record under its row lock; undefined when it is not held
   * (released, cancelled, expired, unknown). `change` gets the record and returns the new one and due time.
   */
  async replace(
    systemId: string,
    id: string,
    source: string | undefined,
    change: (record: Buffer) => { record: Buffer; dueAt?: Date; validityUntil?: Date },
  ): Promise<string | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query<{ message_id: string; record: Buffer }>(
        `SELECT message_id, record FROM scheduler_held
          WHERE system_id = $1 AND (customer_message_id = $2 OR message_id = $2) AND state = 'held'
            AND ($3::text IS NULL OR source = $3)
          FOR UPDATE`,
        [systemId, id, source ?? null],
      );
      const row = r.rows[0];
      if (!row) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const next = change(row.record);
      await client.query(
        `UPDATE scheduler_held SET record = $2, due_at = coalesce($3, due_at),
                validity_until = coalesce($4, validity_until), replaced = replaced + 1
          WHERE message_id = $1`,
        [row.message_id, next.record, next.dueAt ?? null, next.validityUntil ?? null],
      );
      await client.query('COMMIT');
      return row.message_id;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Held rows (for metrics and the bench). */
  async heldCount(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM scheduler_held WHERE state = 'held'`,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Deletes finished rows older than `olderThanMs`. */
  async purge(olderThanMs: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM scheduler_held WHERE state <> 'held' AND done_at < now() - make_interval(secs => $1)`,
      [olderThanMs / 1000],
    );
    return r.rowCount ?? 0;
  }
}
