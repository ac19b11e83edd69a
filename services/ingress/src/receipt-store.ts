import type { Pool } from 'pg';
import { arrayLiteral, arrayLiteralOf, packBytes } from '@smshub/db';
import { MessageState } from '@smshub/smpp';
import type { PendingReceipt } from './receipts.js';

/** A claimed row of ingress_pending_receipts. */
export interface ClaimedReceipt extends PendingReceipt {
  attempts: number;
}

interface Row {
  message_id: string;
  status: number;
  system_id: string;
  customer_message_id: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
  dest_addr_ton: number;
  dest_addr_npi: number;
  dest_addr: string;
  data_coding: number;
  short_message: Buffer;
  message_state: number;
  network_error_code: Buffer | null;
  expires_at: Date;
  attempts: number;
  esm_class: number;
}

/** One message's latest state, for query_sm (a row of ingress_message_state). */
export interface MessageStateUpdate {
  systemId: string;
  customerMessageId: string;
  messageId: string;
  messageState: number;
  finalDate: Date | null;
  errorCode: number;
  revision: number;
  expiresAt: Date;
}

export interface MessageStateRow {
  messageId: string;
  messageState: number;
  finalDate: Date | null;
  errorCode: number;
}

/** The key of a receipt row (primary key message_id, status) as `insertMany` reports claimed rows. */
export function receiptKey(r: { messageId: string; status: number }): string {
  return `${r.messageId.toLowerCase()}/${r.status}`;
}

/** Postgres-level errors that a retry can cure (connection lost, server shutting down, too many clients). */
export function isTransientDbError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code ?? '';
  return (
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === '53300' ||
    code === '40001' ||
    code === '40P01' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) ||
    /timeout|terminated|Connection/i.test(e?.message ?? '')
  );
}

/** The SQL of ingress's own tables (libs/db/migrations/0100_ingress_receipts.sql). */
/** What an acknowledged receipt's row becomes (INGRESS_RECEIPT_ACK). */
export type ReceiptAck = 'delete' | 'mark';

export class ReceiptStore {
  /**
   * `ack`: what an acknowledged receipt's row becomes: `delete` (default), or `mark` (kept, marked sent, as an
   * ingress before session 13 did and still expects: INGRESS_RECEIPT_ACK for a rolling upgrade or a rollback).
   */
  constructor(
    private readonly pool: Pool,
    private readonly ack: ReceiptAck = 'delete',
  ) {}

  /**
   * Stores receipts, one statement for a consumed batch of sms.delivery.v1. Idempotent on
   * (message_id, status): a redelivered event does not make a second receipt. Returns how many rows were new.
   *
   * With `claim`, the rows whose `claim.mine[i]` is true are inserted already claimed by `claim.replica` for
   * `claim.leaseMs` (their first attempt), as `claim()` would leave them: this replica has a receiver of
   * theirs bound and sends them at once, without a claim statement. `claimed` lists the keys
   * (`receiptKey`) of those actually inserted (a redelivered event's row exists already and is left to
   * whoever holds it). Only unclaimed new rows notify the other replicas (migration 0121).
   */
  async insertMany(
    rs: readonly PendingReceipt[],
    claim?: ReceiptClaim,
  ): Promise<{ inserted: number; claimed: Set<string> }> {
    return this.storeBatch([], rs, claim);
  }

  /**
   * A consumed fetch in one statement (one commit): the states (`upsertStates`) and the receipts
   * (`insertMany`, with `claim`), as two data-modifying parts of one WITH. Same rows as the two apart.
   */
  async storeBatch(
    states: readonly MessageStateUpdate[],
    rs: readonly PendingReceipt[],
    claim?: ReceiptClaim,
  ): Promise<{ inserted: number; claimed: Set<string> }> {
    const claimed = new Set<string>();
    const st = statesUpsert(states, 0);
    if (rs.length === 0) {
      if (st) await this.pool.query(st.sql, st.params);
      return { inserted: 0, claimed };
    }
    const ins = receiptsInsert(rs, claim, st ? st.params.length : 0);
    const res = await this.pool.query<{ n: number; claimed: string[] | null }>(
      `WITH ${st ? `st AS (${st.sql}), ` : ''}ins AS (${ins.sql})
       SELECT count(*)::int AS n, array_agg(message_id::text || '/' || status) FILTER (WHERE mine) AS claimed
         FROM ins`,
      st ? [...st.params, ...ins.params] : ins.params,
    );
    const row = res.rows[0];
    for (const k of row?.claimed ?? []) claimed.add(k);
    return { inserted: row?.n ?? 0, claimed };
  }

  /** Claims due receipts of these system_ids for `leaseMs`; rows another replica holds are skipped. */
  async claim(
    systemIds: string[],
    replica: string,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedReceipt[]> {
    if (systemIds.length === 0) return [];
    const { rows } = await this.pool.query<Row>(
      `UPDATE ingress_pending_receipts p
          SET claimed_by = $2, claim_until = now() + make_interval(secs => $3::double precision / 1000),
              attempts = p.attempts + 1
        WHERE (p.message_id, p.status) IN (
          SELECT message_id, status FROM ingress_pending_receipts
           WHERE system_id = ANY($1) AND sent_at IS NULL AND next_attempt_at <= now() AND expires_at > now()
             AND (claim_until IS NULL OR claim_until < now())
           ORDER BY next_attempt_at
           LIMIT $4
           FOR UPDATE SKIP LOCKED)
        RETURNING p.*`,
      [systemIds, replica, leaseMs, limit],
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      status: r.status,
      systemId: r.system_id,
      customerMessageId: r.customer_message_id,
      sourceTon: r.source_addr_ton,
      sourceNpi: r.source_addr_npi,
      source: r.source_addr,
      destTon: r.dest_addr_ton,
      destNpi: r.dest_addr_npi,
      dest: r.dest_addr,
      dataCoding: r.data_coding,
      shortMessage: r.short_message,
      messageState: r.message_state,
      networkErrorCode: r.network_error_code ?? undefined,
      expiresAt: r.expires_at,
      attempts: r.attempts,
      esmClass: r.esm_class,
    }));
  }

  /**
   * The customer acknowledged them. A receipt's row is deleted: its message's state row, written in the
   * same statement as the receipt and kept at least as long (`stateExpiry`), keeps a redelivered event from
   * inserting it again (`receiptsInsert`). An inbound message's row (`inbound`) has no state row: it is kept,
   * marked sent, until it expires (so a redelivered MO is a no-op). The mark was an UPDATE of every receipt,
   * never HOT (`sent_at` is in the due index's predicate): a new row version and a primary-key entry per
   * receipt, kept until the receipt's validity ended.
   */
  async deliveredMany(
    acks: readonly { messageId: string; status: number; inbound?: boolean }[],
    replica: string,
  ): Promise<void> {
    const receipts = this.ack === 'delete' ? acks.filter((a) => a.inbound !== true) : [];
    const inbound = this.ack === 'delete' ? acks.filter((a) => a.inbound === true) : acks;
    const del = `DELETE FROM ingress_pending_receipts p USING unnest($1::uuid[], $2::smallint[]) AS d(message_id, status)
        WHERE p.message_id = d.message_id AND p.status = d.status AND p.claimed_by = $3`;
    const mark = (n: number): string =>
      `UPDATE ingress_pending_receipts p SET sent_at = now(), claimed_by = NULL, claim_until = NULL
         FROM unnest($${n}::uuid[], $${n + 1}::smallint[]) AS d(message_id, status)
        WHERE p.message_id = d.message_id AND p.status = d.status AND p.claimed_by = $3`;
    const ids = (xs: typeof acks): string => arrayLiteral(xs, (a) => a.messageId);
    const statuses = (xs: typeof acks): string => arrayLiteral(xs, (a) => a.status);
    if (inbound.length === 0) {
      if (receipts.length > 0) await this.pool.query(del, [ids(receipts), statuses(receipts), replica]);
      return;
    }
    if (receipts.length === 0) {
      await this.pool.query(mark(1), [ids(inbound), statuses(inbound), replica]);
      return;
    }
    await this.pool.query(`WITH gone AS (${del}) ${mark(4)}`, [
      ids(receipts),
      statuses(receipts),
      replica,
      ids(inbound),
      statuses(inbound),
    ]);
  }

  /**
   * Acknowledged, but their "sent" mark could not be written: extends this replica's lease on them by
   * `leaseMs` from now, so that no other replica claims and resends them while the mark is retried.
   * Returns how many rows were still this replica's (the others' lease had already passed to another).
   */
  async renewMany(
    acks: readonly { messageId: string; status: number }[],
    replica: string,
    leaseMs: number,
  ): Promise<number> {
    if (acks.length === 0) return 0;
    const res = await this.pool.query(
      `UPDATE ingress_pending_receipts p
          SET claim_until = now() + make_interval(secs => $4::double precision / 1000)
         FROM unnest($1::uuid[], $2::smallint[]) AS d(message_id, status)
        WHERE p.message_id = d.message_id AND p.status = d.status AND p.claimed_by = $3 AND p.sent_at IS NULL`,
      [acks.map((a) => a.messageId), acks.map((a) => a.status), replica, leaseMs],
    );
    return res.rowCount ?? 0;
  }

  /** Not acknowledged: try again after `retryInMs` (on whichever replica then has a receiver bound). */
  async retryLater(
    messageId: string,
    status: number,
    replica: string,
    retryInMs: number,
    error: string,
  ): Promise<void> {
    await this.pool.query(
      `UPDATE ingress_pending_receipts
          SET claimed_by = NULL, claim_until = NULL, last_error = $4,
              next_attempt_at = now() + make_interval(secs => $5::double precision / 1000)
        WHERE message_id = $1 AND status = $2 AND claimed_by = $3`,
      [messageId, status, replica, error.slice(0, 500), retryInMs],
    );
  }

  /** Claimed but not sent (the session went away before): free it at once, without counting an attempt. */
  async release(messageId: string, status: number, replica: string): Promise<void> {
    await this.pool.query(
      `UPDATE ingress_pending_receipts SET claimed_by = NULL, claim_until = NULL, attempts = greatest(attempts - 1, 0)
        WHERE message_id = $1 AND status = $2 AND claimed_by = $3`,
      [messageId, status, replica],
    );
  }

  /** Drops receipts whose validity ended; returns how many had not been sent. */
  async expire(): Promise<number> {
    const res = await this.pool.query(
      `WITH gone AS (DELETE FROM ingress_pending_receipts WHERE expires_at <= now() RETURNING sent_at)
       SELECT count(*)::int AS n FROM gone WHERE sent_at IS NULL`,
    );
    await this.pool.query(`DELETE FROM ingress_message_state WHERE expires_at <= now()`);
    return (res.rows[0] as { n: number } | undefined)?.n ?? 0;
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ingress_pending_receipts WHERE sent_at IS NULL`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Records the latest state of each message for query_sm, one statement for many events; an older revision
   * never overwrites a newer one. Several events of one message in the list keep the highest revision (the
   * first of equal ones), as applying them one by one would.
   */
  async upsertStates(states: readonly MessageStateUpdate[]): Promise<void> {
    await this.storeBatch(states, []);
  }

  /**
   * Records accepted messages as ENROUTE with revision 0, one statement for many: a delivery event (revision
   * 1 and up) always overwrites the row, and a row already written by one is left as it is.
   */
  async insertAccepted(
    accepted: readonly { systemId: string; customerMessageId: string; messageId: string; expiresAt: Date }[],
  ): Promise<void> {
    if (accepted.length === 0) return;
    const states = [...accepted].sort(byStateKey);
    await this.pool.query(
      `INSERT INTO ingress_message_state (system_id, customer_message_id, message_id, message_state, final_date,
         error_code, revision, expires_at)
       SELECT s, c, m, $5, NULL, 0, 0, e
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[]) AS t(s, c, m, e)
       ON CONFLICT (system_id, customer_message_id) DO NOTHING`,
      [
        arrayLiteral(states, (st) => st.systemId),
        arrayLiteral(states, (st) => st.customerMessageId),
        arrayLiteral(states, (st) => st.messageId),
        arrayLiteral(states, (st) => st.expiresAt.toISOString()),
        MessageState.ENROUTE,
      ],
    );
  }

  async queryState(systemId: string, customerMessageId: string): Promise<MessageStateRow | undefined> {
    const { rows } = await this.pool.query<{
      message_id: string;
      message_state: number;
      final_date: Date | null;
      error_code: number;
    }>(
      `SELECT message_id::text, message_state, final_date, error_code FROM ingress_message_state
        WHERE system_id = $1 AND customer_message_id = $2`,
      [systemId, customerMessageId],
    );
    const r = rows[0];
    return r
      ? {
          messageId: r.message_id,
          messageState: r.message_state,
          finalDate: r.final_date,
          errorCode: r.error_code,
        }
      : undefined;
  }
}

/** Receipts inserted claimed by `replica` (`mine[i]`), see `ReceiptStore.insertMany`. */
export interface ReceiptClaim {
  replica: string;
  leaseMs: number;
  mine: readonly boolean[];
}

/** SQL and parameters numbered from `$(offset + 1)`. */
interface Part {
  sql: string;
  params: unknown[];
}

/**
 * A state's expires_at moves only when the new one is more than this much later: an update that leaves every
 * indexed column as it was can be HOT (a new row version on the same page, no new index entries; migration
 * 0122 leaves the room for it), and the accepted row's expiry and its final state's are usually seconds
 * apart. So a state is kept for its retention after its last change, less up to an hour.
 */
export const EXPIRY_SLACK_SECONDS = 3600;

/**
 * When a message's state row may go: after `retentionEnd`, and not before its receipt's row would have
 * expired (plus the slack the upsert may keep it short by). An acknowledged receipt's row is deleted, and
 * this row, with the revision, is what keeps a redelivered event from making the receipt again.
 */
export function stateExpiry(retentionEnd: number, receipt?: { expiresAt: Date }): Date {
  if (!receipt) return new Date(retentionEnd);
  return new Date(Math.max(retentionEnd, receipt.expiresAt.getTime() + EXPIRY_SLACK_SECONDS * 1000));
}

/**
 * The order in which both writers of ingress_message_state (the accepted ENROUTE rows and the delivery
 * states) take its rows: the same order in both, so two statements over the same messages wait for each
 * other instead of deadlocking (each had locked some rows the other wanted: PostgreSQL cancelled one after
 * its 1 s deadlock_timeout and the batch was retried).
 */
export function byStateKey(
  a: { systemId: string; customerMessageId: string },
  b: { systemId: string; customerMessageId: string },
): number {
  if (a.systemId !== b.systemId) return a.systemId < b.systemId ? -1 : 1;
  if (a.customerMessageId === b.customerMessageId) return 0;
  return a.customerMessageId < b.customerMessageId ? -1 : 1;
}

/**
 * The upsert of the latest state of each message (an older revision never overwrites a newer one; several
 * events of one message keep the highest revision, the first of equal ones); null when there is none.
 */
function statesUpsert(states: readonly MessageStateUpdate[], offset: number): Part | null {
  const latest = new Map<string, MessageStateUpdate>();
  for (const st of states) {
    const key = `${st.systemId}\u0000${st.customerMessageId}`;
    const seen = latest.get(key);
    if (!seen || st.revision > seen.revision) latest.set(key, st);
  }
  const ss = [...latest.values()].sort(byStateKey);
  if (ss.length === 0) return null;
  const $ = (n: number): string => `$${n + offset}`;
  return {
    sql: `INSERT INTO ingress_message_state (system_id, customer_message_id, message_id, message_state, final_date,
         error_code, revision, expires_at)
       SELECT * FROM unnest(${$(1)}::text[], ${$(2)}::text[], ${$(3)}::uuid[], ${$(4)}::smallint[],
         ${$(5)}::timestamptz[], ${$(6)}::smallint[], ${$(7)}::integer[], ${$(8)}::timestamptz[])
       ON CONFLICT (system_id, customer_message_id) DO UPDATE
         SET message_state = EXCLUDED.message_state, final_date = EXCLUDED.final_date,
             error_code = EXCLUDED.error_code, revision = EXCLUDED.revision,
             expires_at = CASE WHEN EXCLUDED.expires_at > ingress_message_state.expires_at + interval '${EXPIRY_SLACK_SECONDS} seconds'
               THEN EXCLUDED.expires_at ELSE ingress_message_state.expires_at END,
             updated_at = now()
       WHERE ingress_message_state.revision < EXCLUDED.revision`,
    // array parameters as literals built in one pass (libs/db arrayLiteral), not arrays pg escapes element
    // by element; dates as ISO text
    params: [
      arrayLiteral(ss, (st) => st.systemId),
      arrayLiteral(ss, (st) => st.customerMessageId),
      arrayLiteral(ss, (st) => st.messageId),
      arrayLiteral(ss, (st) => st.messageState),
      arrayLiteral(ss, (st) => st.finalDate?.toISOString() ?? null),
      arrayLiteral(ss, (st) => st.errorCode),
      arrayLiteral(ss, (st) => st.revision),
      arrayLiteral(ss, (st) => st.expiresAt.toISOString()),
    ],
  };
}

/** The receipts' insert, RETURNING message_id, status and whether the row was inserted claimed (`mine`). */
function receiptsInsert(
  rs: readonly PendingReceipt[],
  claim: ReceiptClaim | undefined,
  offset: number,
): Part {
  // byte strings as one binary parameter each (libs/db packBytes), not a bytea[] pg would write and
  // PostgreSQL parse as hex
  const texts = packBytes(rs.map((r) => r.shortMessage));
  const errors = packBytes(rs.map((r) => r.networkErrorCode ?? null));
  const $ = (n: number): string => `$${n + offset}`;
  return {
    sql: `INSERT INTO ingress_pending_receipts (message_id, status, system_id, customer_message_id,
         source_addr_ton, source_addr_npi, source_addr, dest_addr_ton, dest_addr_npi, dest_addr,
         data_coding, short_message, message_state, network_error_code, expires_at, esm_class,
         claimed_by, claim_until, attempts)
       SELECT u.c1, u.c2, u.c3, u.c4, u.c5, u.c6, u.c7, u.c8, u.c9, u.c10, u.c11,
         substring(${$(12)}::bytea FROM u.ts FOR u.tl), u.c13, substring(${$(14)}::bytea FROM u.ns FOR u.nl),
         u.c15, u.c16,
         CASE WHEN u.mine THEN ${$(22)}::text END,
         CASE WHEN u.mine THEN now() + make_interval(secs => ${$(23)}::double precision / 1000) END,
         CASE WHEN u.mine THEN 1 ELSE 0 END
       FROM unnest(${$(1)}::uuid[], ${$(2)}::smallint[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::smallint[],
         ${$(6)}::smallint[], ${$(7)}::text[], ${$(8)}::smallint[], ${$(9)}::smallint[], ${$(10)}::text[],
         ${$(11)}::smallint[], ${$(17)}::int[], ${$(18)}::int[], ${$(13)}::smallint[], ${$(19)}::int[],
         ${$(20)}::int[], ${$(15)}::timestamptz[], ${$(16)}::smallint[], ${$(21)}::boolean[], ${$(24)}::integer[])
         AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, ts, tl, c13, ns, nl, c15, c16, mine, rev)
       WHERE u.rev IS NULL OR NOT EXISTS (
         SELECT 1 FROM ingress_message_state s
          WHERE s.system_id = u.c3 AND s.customer_message_id = u.c4 AND s.revision >= u.rev)
       ON CONFLICT (message_id, status) DO NOTHING
       RETURNING message_id, status, claimed_by IS NOT NULL AS mine`,
    params: [
      arrayLiteral(rs, (r) => r.messageId),
      arrayLiteral(rs, (r) => r.status),
      arrayLiteral(rs, (r) => r.systemId),
      arrayLiteral(rs, (r) => r.customerMessageId),
      arrayLiteral(rs, (r) => r.sourceTon),
      arrayLiteral(rs, (r) => r.sourceNpi),
      arrayLiteral(rs, (r) => r.source),
      arrayLiteral(rs, (r) => r.destTon),
      arrayLiteral(rs, (r) => r.destNpi),
      arrayLiteral(rs, (r) => r.dest),
      arrayLiteral(rs, (r) => r.dataCoding),
      texts.bytes,
      arrayLiteral(rs, (r) => r.messageState),
      errors.bytes,
      arrayLiteral(rs, (r) => r.expiresAt.toISOString()),
      arrayLiteral(rs, (r) => r.esmClass ?? 0x04),
      arrayLiteralOf(texts.starts),
      arrayLiteralOf(texts.lengths),
      arrayLiteralOf(errors.starts),
      arrayLiteralOf(errors.lengths),
      arrayLiteralOf(rs.map((_, i) => claim?.mine[i] === true)),
      claim?.replica ?? null,
      claim?.leaseMs ?? 0,
      arrayLiteral(rs, (r) => r.revision ?? null),
    ],
  };
}
