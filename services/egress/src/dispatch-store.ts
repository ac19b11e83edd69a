import { arrayLiteral, arrayLiteralOf, packBytes, type Pool } from '@smshub/db';
import { Coalescer } from './domain/coalescer.js';
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

/** One row of egress_part_dispatch as written (the state machine is in domain/dedupe.ts). */
export interface PartWrite extends PartKey {
  partTotal: number;
  state: PartState;
  attempt: number;
  connectorId: string;
  /** Accepted parts: the supplier's id as received. */
  supplierMessageId?: string;
  /** submit_sm_resp status of the attempt (pending, failed); omitted for a claim. */
  commandStatus?: number;
  /** The encoded SmsDispatched: required for the final states (sent, failed, unknown). */
  event?: Uint8Array;
}

/** Map key of a part in getMany's answer. */
export function partKey(k: PartKey): string {
  return `${k.messageId.toLowerCase()}/${k.partNumber}`;
}

/** Rows written by one statement at most (each row is ten array elements). */
const MAX_ROWS_PER_STATEMENT = 1000;

/**
 * The rows of a write: one array per column, the events as one binary parameter ($10, cut out by the
 * starts and lengths $11 and $12: libs/db packBytes), not a bytea[] pg would write and PostgreSQL parse as hex.
 */
const ROWS = `SELECT u.m, u.p, u.t, u.s, u.a, u.c, u.r, u.sm, u.cs, substring($10::bytea FROM u.es FOR u.el)
  FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
    $9::bigint[], $11::int[], $12::int[]) AS u(m, p, t, s, a, c, r, sm, cs, es, el)`;

const UPSERT = `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica,
    supplier_message_id, command_status, event)
  ${ROWS}
  ON CONFLICT (message_id, part_number) DO UPDATE SET state = EXCLUDED.state, attempt = EXCLUDED.attempt,
    connector_id = EXCLUDED.connector_id, replica = EXCLUDED.replica, supplier_message_id = EXCLUDED.supplier_message_id,
    command_status = EXCLUDED.command_status, event = EXCLUDED.event, updated_at = now()`;

/**
 * The "sending" claim, conditional: a part is claimed only when it has no row yet, or its row is "pending"
 * at an earlier attempt (the last attempt was answered with an error or timed out, and will be retried).
 * A row another replica (or an earlier copy of the record) already holds as "sending", or has finished
 * (sent, failed, unknown), is left as it is and not returned: that part is not sent by this caller. Two
 * replicas claiming the same part at once (a partition moved while its old owner is still sending) are
 * serialised by the primary key: the second sees the first's committed row and loses. The update changes
 * no indexed column, so it stays HOT (0201). Used for retries (attempt > 1) and when a first claim meets a
 * row (FIRST_CLAIM below).
 */
const CLAIM = `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica,
    supplier_message_id, command_status, event)
  ${ROWS}
  ON CONFLICT (message_id, part_number) DO UPDATE SET state = EXCLUDED.state, attempt = EXCLUDED.attempt,
    connector_id = EXCLUDED.connector_id, replica = EXCLUDED.replica, supplier_message_id = EXCLUDED.supplier_message_id,
    command_status = EXCLUDED.command_status, event = EXCLUDED.event, updated_at = now()
    WHERE egress_part_dispatch.state = 'pending' AND egress_part_dispatch.attempt < EXCLUDED.attempt
  RETURNING message_id::text AS message_id, part_number`;

/**
 * First claims (attempt 1: the batch's read found no row): a plain insert. A part that has a row by now
 * (another replica claimed it since the read, or the same message came twice) makes the whole statement
 * fail with a unique violation, inserting nothing; its rows then go through CLAIM, which decides each one.
 * Two replicas inserting the same fresh parts at once in different orders can also deadlock (each waits for
 * the other's uncommitted row; PostgreSQL ends one statement after deadlock_timeout): that one falls back
 * to CLAIM as well, and the parts the other inserted are lost to it.
 * Without ON CONFLICT, PostgreSQL inserts each row once, not speculatively (no confirmation WAL record, no
 * speculative-insertion lock, no RETURNING): every part's first claim takes this path.
 */
const FIRST_CLAIM = `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica,
    supplier_message_id, command_status, event)
  ${ROWS}`;

/** PostgreSQL's unique_violation and deadlock_detected: FIRST_CLAIM inserted nothing, CLAIM decides. */
const FIRST_CLAIM_FALLBACK = new Set(['23505', '40P01']);

/**
 * Outcomes (pending, sent, failed, unknown) of parts that have a row, nearly all of them (a claim came
 * first): an update of the rows, HOT (no indexed column changes: 0201), instead of an upsert, which first
 * locks the row it conflicts with (a WAL record of its own). The statement's row count tells whether every
 * row was found; the rows of parts that never had one (failed before any claim: expired, no bound
 * candidate) are then written by OUTCOME_MISSING.
 */
const OUTCOME = `UPDATE egress_part_dispatch d SET state = u.s, attempt = u.a, connector_id = u.c, replica = $6,
    supplier_message_id = u.sm, command_status = u.cs, event = substring($9::bytea FROM u.es FOR u.el), updated_at = now()
  FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $7::text[], $8::bigint[], $10::int[],
    $11::int[]) AS u(m, p, s, a, c, sm, cs, es, el)
  WHERE d.message_id = u.m AND d.part_number = u.p`;

/** OUTCOME's rows not found: upserted, as every outcome was before. */
const OUTCOME_MISSING = `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica,
    supplier_message_id, command_status, event)
  SELECT * FROM (${ROWS}) AS n(m, p, t, s, a, c, r, sm, cs, e)
  WHERE NOT EXISTS (SELECT 1 FROM egress_part_dispatch d WHERE d.message_id = n.m AND d.part_number = n.p)
  ON CONFLICT (message_id, part_number) DO UPDATE SET state = EXCLUDED.state, attempt = EXCLUDED.attempt,
    connector_id = EXCLUDED.connector_id, replica = EXCLUDED.replica, supplier_message_id = EXCLUDED.supplier_message_id,
    command_status = EXCLUDED.command_status, event = EXCLUDED.event, updated_at = now()`;

/**
 * How claims and outcomes are written: 'plain' (default: FIRST_CLAIM and OUTCOME, falling back as above)
 * or 'upsert' (CLAIM and UPSERT for every row, the shape before session 13), kept for the benches to
 * compare (bench/store-writes.ts; bench/flow.ts with EGRESS_FLOW_WRITES=upsert).
 */
export type DispatchWriteShape = 'plain' | 'upsert';

/** A claim row in flight through the group commit; `won` is set by the statement that carried it. */
type ClaimRow = PartWrite & { won?: boolean };

/** The read being gathered in this event-loop turn (see getMany). */
interface PendingRead {
  keys: PartKey[];
  result: Promise<Map<string, PartRecord>>;
}

export interface DispatchStoreOptions {
  /** Aborted by shutdown/crash: queued rows are not written (their parts are interrupted). */
  signal?: AbortSignal;
  /** A replica whose egress_replicas heartbeat is older than this is dead (ReplicaRegistryOptions.staleMs). */
  ownerStaleMs?: number;
  /** See DispatchWriteShape; 'plain' unless a bench compares. */
  writeShape?: DispatchWriteShape;
}

/**
 * egress_part_dispatch: the persisted dedupe record (domain/dedupe.ts explains the states).
 *
 * Reads are one statement per event-loop turn (`getMany`), shared by the batches that ask in it. Writes are group-committed: `claim` (the
 * "sending" row, right before a submit_sm is written) and `record` (every other state) each queue the row
 * and resolve once the multi-row statement carrying it has committed; rows arriving while a statement runs
 * share the next one. So a part still never goes on the wire before its own "sending" row is durable, but
 * a full window of parts costs one statement instead of one each.
 */
export class DispatchStore {
  private readonly claims: Coalescer<ClaimRow>;
  private readonly outcomes: Coalescer<PartWrite>;
  private pendingRead: PendingRead | undefined;
  private readonly ownerStaleMs: number;
  private readonly writeShape: DispatchWriteShape;

  constructor(
    private readonly pool: Pool,
    private readonly replica: string,
    opts: DispatchStoreOptions = {},
  ) {
    this.ownerStaleMs = opts.ownerStaleMs ?? 6_000;
    this.writeShape = opts.writeShape ?? 'plain';
    const common = {
      maxBatch: MAX_ROWS_PER_STATEMENT,
      keyOf: partKey,
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    // Claims have their own statement stream so a part about to be sent never waits behind outcome rows.
    this.claims = new Coalescer<ClaimRow>((rows) => this.claimMany(rows), common);
    this.outcomes = new Coalescer<PartWrite>((rows) => this.upsertMany(rows), common);
  }

  private async q(
    sql: string,
    params: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> {
    try {
      return await this.pool.query(sql, params);
    } catch (err) {
      throw new DispatchStoreError(`egress_part_dispatch: ${(err as Error).message}`, { cause: err });
    }
  }

  async get(key: PartKey): Promise<PartRecord | undefined> {
    return (await this.getMany([key])).get(partKey(key));
  }

  /**
   * The records of many parts, by `partKey`; parts never recorded are absent. The reads asked for in one
   * event-loop turn (the batches of the partitions being consumed at once) share one statement, and each
   * caller gets the records of all of them: it looks up its own parts.
   */
  getMany(keys: PartKey[]): Promise<Map<string, PartRecord>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    if (!this.pendingRead) {
      const read: PendingRead = { keys: [], result: Promise.resolve(new Map()) };
      read.result = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.pendingRead = undefined;
        return this.readMany(read.keys);
      });
      this.pendingRead = read;
    }
    this.pendingRead.keys.push(...keys);
    return this.pendingRead.result;
  }

  private async readMany(keys: PartKey[]): Promise<Map<string, PartRecord>> {
    const found = new Map<string, PartRecord>();
    const { rows } = await this.q(
      `SELECT d.message_id::text AS message_id, d.part_number, d.state, d.attempt, d.event, d.connector_id,
         (d.state = 'sending' AND d.replica <> $3 AND EXISTS (SELECT 1 FROM egress_replicas r
           WHERE r.replica_id = d.replica
             AND r.heartbeat_at > now() - make_interval(secs => $4::double precision / 1000))) AS held
       FROM egress_part_dispatch d JOIN unnest($1::uuid[], $2::int[]) AS k(message_id, part_number)
         ON d.message_id = k.message_id AND d.part_number = k.part_number`,
      [
        arrayLiteral(keys, (k) => k.messageId),
        arrayLiteral(keys, (k) => k.partNumber),
        this.replica,
        this.ownerStaleMs,
      ],
    );
    for (const r of rows) {
      found.set(partKey({ messageId: r['message_id'] as string, partNumber: Number(r['part_number']) }), {
        state: r['state'] as PartState,
        attempt: Number(r['attempt']),
        event: (r['event'] as Buffer | null) ?? null,
        connectorId: r['connector_id'] as string,
        ...(r['held'] === true ? { heldByLiveReplica: true } : {}),
      });
    }
    return found;
  }

  /**
   * The "sending" row, written right before the submit_sm goes on the wire; resolves once committed, with
   * true when this caller won the part (see CLAIM) and may send it, false when the row was already held.
   */
  async claim(row: Omit<PartWrite, 'state'>): Promise<boolean> {
    // One literal, not a spread of `row` (see Sender.finish).
    const item: ClaimRow = {
      messageId: row.messageId,
      partNumber: row.partNumber,
      partTotal: row.partTotal,
      state: 'sending',
      attempt: row.attempt,
      connectorId: row.connectorId,
      supplierMessageId: row.supplierMessageId,
      commandStatus: row.commandStatus,
      event: row.event,
      won: false,
    };
    await this.claims.push(item);
    return item.won === true;
  }

  /** Any other state (pending, sent, failed, unknown); resolves once committed. */
  record(row: PartWrite): Promise<void> {
    return this.outcomes.push(row);
  }

  /**
   * Claims rows now (no two rows of the same part); marks each row won or not. A group of first claims only goes
   * in one plain insert (FIRST_CLAIM); a group with any other claim, and first claims that meet a row, through
   * the conditional CLAIM. Always one statement that decides the whole group: were first claims inserted by a
   * statement of their own and the next one failed, the group would be rejected with their rows committed, and
   * the redelivered parts would be taken for a crash after the claim (reported, never sent).
   */
  async claimMany(rows: ClaimRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.writeShape === 'plain' && rows.every((r) => r.attempt === 1)) {
      try {
        await this.q(FIRST_CLAIM, this.params(rows));
        for (const r of rows) r.won = true;
        return;
      } catch (err) {
        if (!FIRST_CLAIM_FALLBACK.has((err as { cause?: { code?: string } }).cause?.code ?? '')) throw err;
        // nothing was inserted: every row is decided by CLAIM
      }
    }
    const { rows: won } = await this.q(CLAIM, this.params(rows));
    const keys = new Set(
      won.map((r) => partKey({ messageId: r['message_id'] as string, partNumber: Number(r['part_number']) })),
    );
    for (const r of rows) r.won = keys.has(partKey(r));
  }

  /** Writes rows now (no two rows of the same part): an update of the rows found, then an upsert of the rest. */
  async upsertMany(rows: PartWrite[]): Promise<void> {
    if (rows.length === 0) return;
    const params = this.params(rows);
    if (this.writeShape === 'upsert') {
      await this.q(UPSERT, params);
      return;
    }
    // OUTCOME's parameters: the same but part_total (not updated) and the replica as one value
    const { rowCount } = await this.q(OUTCOME, [
      params[0],
      params[1],
      params[3],
      params[4],
      params[5],
      this.replica,
      params[7],
      params[8],
      params[9],
      params[10],
      params[11],
    ]);
    if (rowCount !== rows.length) await this.q(OUTCOME_MISSING, params);
  }

  private params(rows: PartWrite[]): unknown[] {
    const events = packBytes(rows.map((r) => r.event ?? null));
    // array literals built in one pass (libs/db arrayLiteral), not arrays pg escapes element by element
    return [
      arrayLiteral(rows, (r) => r.messageId),
      arrayLiteral(rows, (r) => r.partNumber),
      arrayLiteral(rows, (r) => r.partTotal),
      arrayLiteral(rows, (r) => r.state),
      arrayLiteral(rows, (r) => r.attempt),
      arrayLiteral(rows, (r) => r.connectorId),
      arrayLiteral(rows, () => this.replica),
      arrayLiteral(rows, (r) => r.supplierMessageId || null),
      arrayLiteral(rows, (r) => r.commandStatus ?? null),
      events.bytes,
      arrayLiteralOf(events.starts),
      arrayLiteralOf(events.lengths),
    ];
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
