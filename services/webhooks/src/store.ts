// SQL of webhook_deliveries and webhook_attempts (0710_webhooks.sql).
import { randomBytes } from 'node:crypto';
import type { Pool } from '@smshub/db';

/** A UUIDv7 (time-ordered) in lowercase canonical text. */
export function uuidv7(time = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(time, 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const isUuid = (s: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

export interface NewDelivery {
  id: string;
  accountId: string;
  messageId: string;
  revision: number;
  eventType: string;
  url: string;
  body: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  seq: string;
  account_id: string;
  message_id: string;
  revision: number;
  event_type: string;
  url: string;
  body: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  give_up_at: Date;
  created_at: Date;
  finished_at: Date | null;
  last_error: string | null;
  replay: boolean;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  http_status: number | null;
  error: string | null;
  replay: boolean;
}

export interface AttemptOutcome {
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  error: string | null;
  /** The delivery's next state: delivered, retried at `nextAt`, or failed. */
  next: { state: 'delivered' } | { state: 'pending'; nextAt: Date } | { state: 'failed' };
}

export class DeliveryStore {
  constructor(
    private readonly pool: Pool,
    private readonly retryForMs: number,
  ) {}

  /** Stores new deliveries (an event seen again, e.g. after a rebalance, is ignored). Returns how many were new. */
  async insert(rows: readonly NewDelivery[]): Promise<number> {
    if (rows.length === 0) return 0;
    const res = await this.pool.query(
      `INSERT INTO webhook_deliveries (id, account_id, message_id, revision, event_type, url, body, give_up_at)
       SELECT u.id, u.account_id, u.message_id, u.revision, u.event_type, u.url, u.body,
              now() + make_interval(secs => $8::double precision / 1000)
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
         WITH ORDINALITY AS u(id, account_id, message_id, revision, event_type, url, body, n)
       ORDER BY u.n
       ON CONFLICT (message_id, revision) DO NOTHING`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.accountId),
        rows.map((r) => r.messageId),
        rows.map((r) => r.revision),
        rows.map((r) => r.eventType),
        rows.map((r) => r.url),
        rows.map((r) => r.body),
        this.retryForMs,
      ],
    );
    return res.rowCount ?? 0;
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs`, skipping the accounts in `busyAccounts` (at their
   * concurrency limit here) and every delivery with an earlier unfinished one of the same message (order
   * per message). Rows another replica is working (leased, locked) are skipped, not waited for.
   */
  async claim(opts: {
    limit: number;
    leaseMs: number;
    busyAccounts: readonly string[];
  }): Promise<DeliveryRow[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d
         WHERE d.state = 'pending' AND d.next_attempt_at <= now()
           AND (d.lease_until IS NULL OR d.lease_until < now())
           AND NOT (d.account_id = ANY($3::text[]))
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                           WHERE e.message_id = d.message_id AND e.state = 'pending' AND e.seq < d.seq)
         ORDER BY d.next_attempt_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries w SET lease_until = now() + make_interval(secs => $2::double precision / 1000)
       FROM due WHERE w.id = due.id
       RETURNING w.*`,
      [opts.limit, opts.leaseMs, opts.busyAccounts],
    );
    return rows.sort((a, b) => a.next_attempt_at.getTime() - b.next_attempt_at.getTime());
  }

  /** Gives claimed rows back without an attempt (this replica had no room for them after all). */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
  }

  /** Records an attempt and moves the delivery on, in one statement. */
  async record(row: DeliveryRow, o: AttemptOutcome): Promise<void> {
    const next = o.next;
    await this.pool.query(
      `WITH a AS (
         INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, duration_ms, http_status, error, replay)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8))
       UPDATE webhook_deliveries SET attempts = $3, lease_until = NULL, last_error = $7, state = $9,
         next_attempt_at = COALESCE($10, next_attempt_at),
         finished_at = CASE WHEN $9 = 'pending' THEN NULL ELSE now() END,
         replay = CASE WHEN $9 = 'pending' THEN replay ELSE false END
       WHERE id = $2`,
      [
        uuidv7(),
        row.id,
        row.attempts + 1,
        o.startedAt,
        o.durationMs,
        o.httpStatus,
        o.error,
        row.replay,
        next.state,
        next.state === 'pending' ? next.nextAt : null,
      ],
    );
  }

  /**
   * Schedules a delivery again now, with a fresh retry period: by delivery id, or by attempt id (its
   * delivery). Returns the delivery, or null when neither exists.
   */
  async replay(id: string): Promise<DeliveryRow | null> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), lease_until = NULL,
         give_up_at = now() + make_interval(secs => $2::double precision / 1000), finished_at = NULL, replay = true
       WHERE id = $1 OR id = (SELECT delivery_id FROM webhook_attempts WHERE id = $1)
       RETURNING *`,
      [id, this.retryForMs],
    );
    return rows[0] ?? null;
  }

  async deliveriesOfMessage(messageId: string): Promise<DeliveryRow[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      'SELECT * FROM webhook_deliveries WHERE message_id = $1 ORDER BY seq',
      [messageId],
    );
    return rows;
  }

  async delivery(id: string): Promise<DeliveryRow | null> {
    const { rows } = await this.pool.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = $1', [
      id,
    ]);
    return rows[0] ?? null;
  }

  async attempts(deliveryIds: readonly string[]): Promise<AttemptRow[]> {
    const { rows } = await this.pool.query<AttemptRow>(
      'SELECT * FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY started_at, attempt',
      [deliveryIds],
    );
    return rows;
  }

  /** Deletes finished deliveries (and their attempts) older than `days`. */
  async purge(days: number): Promise<number> {
    const res = await this.pool.query(
      `DELETE FROM webhook_deliveries WHERE state <> 'pending'
         AND finished_at < now() - make_interval(days => $1)`,
      [days],
    );
    return res.rowCount ?? 0;
  }
}
