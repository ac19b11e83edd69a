import { createHash } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the first request with a key reserves it
 * (state pending, with the request's hash and the hub message ids it will use) BEFORE anything is
 * produced; its answer is stored when it has one. Within 24 h a request with the same key gets:
 *   - the same request, answered before      -> the first answer again, nothing created;
 *   - a different request (method, path, body) -> 422 idempotency-key-reused;
 *   - the same request, still in progress      -> waits a little, then 409 idempotency-in-progress;
 *   - the same request, its owner silent for `staleMs` (a replica that died mid-request) -> taken over
 *     with the SAME message ids: a message that reached Kafka before the crash is produced again under
 *     its own id, which every later stage treats as a redelivery, not a new message.
 * Only accepted answers (202, and batch answers) are stored: an answer that created nothing (rate limited,
 * out of credit, Kafka unavailable) releases the key, so the client's retry is a real retry.
 * Keys are per account: two customers can use the same key.
 */
export const RETENTION_MS = 24 * 3600_000;

export interface StoredKey {
  requestHash: string;
  state: 'pending' | 'done';
  messageIds: string[];
  statusCode: number | null;
  response: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export type Decision =
  | { kind: 'replay'; statusCode: number; response: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' }
  | { kind: 'take-over'; messageIds: string[] }
  | { kind: 'expired' };

/** What a request with `requestHash` does about the row already holding its key (pure). */
export function decide(row: StoredKey, requestHash: string, now: number, staleMs: number): Decision {
  if (now - row.createdAt.getTime() >= RETENTION_MS) return { kind: 'expired' };
  if (row.requestHash !== requestHash) return { kind: 'mismatch' };
  if (row.state === 'done')
    return { kind: 'replay', statusCode: row.statusCode ?? 200, response: row.response };
  if (now - row.updatedAt.getTime() >= staleMs) return { kind: 'take-over', messageIds: row.messageIds };
  return { kind: 'in-progress' };
}

/** JSON with object keys sorted, so the same body hashes the same whatever the key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

export type Reservation =
  | { kind: 'owned'; messageIds: string[] }
  | { kind: 'replay'; statusCode: number; response: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' };

export interface KeyRef {
  accountId: string;
  key: string;
}

export class IdempotencyStore {
  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly owner: string,
    private readonly staleMs = 30_000,
  ) {}

  /** Reserves the key for a request that would use `messageIds`, or says what to do instead. */
  async reserve(ref: KeyRef, hash: string, messageIds: string[]): Promise<Reservation> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const ins = await this.pool.query<{ message_ids: string[] }>(
        `INSERT INTO http_api_idempotency (account_id, idem_key, request_hash, state, message_ids, owner)
         VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (account_id, idem_key) DO NOTHING
         RETURNING message_ids`,
        [ref.accountId, ref.key, hash, messageIds, this.owner],
      );
      if (ins.rows[0]) return { kind: 'owned', messageIds };
      const row = await this.read(ref);
      if (!row) continue; // deleted in between (released or expired): try the insert again
      const d = decide(row, hash, Date.now(), this.staleMs);
      if (d.kind === 'replay' || d.kind === 'mismatch' || d.kind === 'in-progress') return d;
      if (d.kind === 'expired') {
        await this.pool.query(
          `DELETE FROM http_api_idempotency WHERE account_id = $1 AND idem_key = $2
              AND created_at < now() - make_interval(secs => $3::double precision / 1000)`,
          [ref.accountId, ref.key, RETENTION_MS],
        );
        continue;
      }
      // take-over: only one replica wins the row (the next one sees a fresh updated_at).
      const took = await this.pool.query(
        `UPDATE http_api_idempotency SET owner = $3, updated_at = now()
          WHERE account_id = $1 AND idem_key = $2 AND state = 'pending'
            AND updated_at < now() - make_interval(secs => $4::double precision / 1000)`,
        [ref.accountId, ref.key, this.owner, this.staleMs],
      );
      if (took.rowCount === 1) return { kind: 'owned', messageIds: d.messageIds };
    }
    return { kind: 'in-progress' };
  }

  /** Stores the answer of an owned key. */
  async complete(ref: KeyRef, statusCode: number, response: unknown): Promise<void> {
    await this.pool.query(
      `UPDATE http_api_idempotency SET state = 'done', status_code = $3, response = $4, updated_at = now()
        WHERE account_id = $1 AND idem_key = $2`,
      [ref.accountId, ref.key, statusCode, JSON.stringify(response)],
    );
  }

  /** Frees an owned key whose request created nothing (the client's retry runs again). */
  async release(ref: KeyRef): Promise<void> {
    await this.pool.query(
      `DELETE FROM http_api_idempotency WHERE account_id = $1 AND idem_key = $2 AND state = 'pending' AND owner = $3`,
      [ref.accountId, ref.key, this.owner],
    );
  }

  /** Deletes keys older than the retention (run now and then by one replica or all: idempotent). */
  async sweep(): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM http_api_idempotency WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [RETENTION_MS],
    );
    return r.rowCount ?? 0;
  }

  private async read(ref: KeyRef): Promise<StoredKey | undefined> {
    const { rows } = await this.pool.query<{
      request_hash: string;
      state: 'pending' | 'done';
      message_ids: string[];
      status_code: number | null;
      response: unknown;
      created_at: Date;
      updated_at: Date;
    }>(
      `SELECT request_hash, state, message_ids, status_code, response, created_at, updated_at
         FROM http_api_idempotency WHERE account_id = $1 AND idem_key = $2`,
      [ref.accountId, ref.key],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      requestHash: r.request_hash,
      state: r.state,
      messageIds: r.message_ids,
      statusCode: r.status_code,
      response: r.response,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }
}
