// The firewall's duplicate and velocity windows in PostgreSQL (migration 0310), shared by every routing
// replica and kept over restarts. One transaction per consumed batch, whatever its size:
//   1. lock and read: upsert the batch's velocity keys (current bucket), duplicate keys and message ids,
//      sorted, as no-op updates returning the rows: a row another replica's batch holds is waited for, so
//      two batches on one key are decided one after the other (exact limits across replicas);
//   2. decide in memory (decideStateful, first come first served in batch order);
//   3. write: the admitted counts, the new first messages, the admitted ids; commit.
// Four round trips per batch (BEGIN, lock and read, write, COMMIT), none per message. A deadlock (a cleanup
// against a batch) is retried here; any other database error fails the batch, which the consumer retries
// (StoreError says whether a retry can help), so nothing is decided without the shared windows.

import { store, withTransaction, type Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import {
  batchKeys,
  decideStateful,
  VELOCITY_BUCKETS,
  windowKey,
  type SharedFirewallWindows,
  type StatefulCheck,
} from './domain/shared-windows.js';
import type { RejectedDecision } from './domain/types.js';

// Locks and reads in one statement. The upserts' RETURNING gives each locked row's latest committed
// version (what a batch holding it before committed); the older buckets of a window come from the
// statement's snapshot: only a replica whose clock is in an older bucket writes those (see "Precision").
// Admitted ids are locked the same way, with placeholder rows (expires_at_ms 0 = not admitted).
const LOCK_AND_READ = `
WITH c AS (
  INSERT INTO routing_firewall_counters AS t (rule_key, key, bucket, n, expires_at_ms)
  SELECT r, k, b, 0, e FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS u(r, k, b, e, o)
   ORDER BY o
  ON CONFLICT (rule_key, key, bucket) DO UPDATE SET n = t.n
  RETURNING t.rule_key, t.key, t.bucket, t.n
), d AS (
  INSERT INTO routing_firewall_duplicates AS t (rule_key, key, first_message_id, expires_at_ms)
  SELECT r, k, NULL, 0 FROM unnest($5::text[], $6::text[]) WITH ORDINALITY AS u(r, k, o) ORDER BY o
  ON CONFLICT (rule_key, key) DO UPDATE SET expires_at_ms = t.expires_at_ms
  RETURNING t.rule_key, t.key, t.first_message_id, t.expires_at_ms
), a AS (
  INSERT INTO routing_firewall_admitted AS t (hub_message_id, expires_at_ms)
  SELECT id, 0 FROM unnest($7::text[]) WITH ORDINALITY AS u(id, o) ORDER BY o
  ON CONFLICT (hub_message_id) DO UPDATE SET expires_at_ms = t.expires_at_ms
  RETURNING t.hub_message_id, t.expires_at_ms
)
SELECT 'v' AS kind, c.rule_key, c.key,
       (c.n + coalesce((SELECT sum(o.n) FROM routing_firewall_counters o
                         WHERE o.rule_key = c.rule_key AND o.key = c.key
                           AND o.bucket > c.bucket - ${VELOCITY_BUCKETS + 1} AND o.bucket < c.bucket), 0))::int AS n,
       NULL AS first
  FROM c
UNION ALL
SELECT 'd', rule_key, key, 0, first_message_id FROM d WHERE first_message_id IS NOT NULL AND expires_at_ms > $8
UNION ALL
SELECT 'a', hub_message_id, '', 0, NULL FROM a WHERE expires_at_ms > $8`;

const WRITE = `
WITH c AS (
  UPDATE routing_firewall_counters t SET n = t.n + u.d
    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) AS u(r, k, b, d)
   WHERE t.rule_key = u.r AND t.key = u.k AND t.bucket = u.b
), d AS (
  UPDATE routing_firewall_duplicates t SET first_message_id = u.f, expires_at_ms = u.e
    FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[]) AS u(r, k, f, e)
   WHERE t.rule_key = u.r AND t.key = u.k
)
UPDATE routing_firewall_admitted SET expires_at_ms = $10 WHERE hub_message_id = ANY($9::text[])`;

interface ReadRow {
  kind: 'v' | 'd' | 'a';
  rule_key: string;
  key: string;
  n: number;
  first: string | null;
}

export interface PgFirewallWindowsOptions {
  /** How long an admitted message id is remembered (redeliveries within it are not counted again). */
  rememberMs: number;
  /** Interval of the deletion of expired rows; 0 = never (tests). */
  cleanupIntervalMs: number;
  /** Attempts of a batch's transaction on a deadlock. Default 5. */
  deadlockAttempts?: number;
}

export class PgFirewallWindows implements SharedFirewallWindows {
  private timer: NodeJS.Timeout | undefined;
  private cleaning: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly options: PgFirewallWindowsOptions,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async decide(checks: readonly StatefulCheck[], nowMs: number): Promise<Array<RejectedDecision | null>> {
    const attempts = this.options.deadlockAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await store('firewall windows', () => this.decideOnce(checks, nowMs));
      } catch (err) {
        const code = ((err as Error).cause as { code?: unknown } | undefined)?.code;
        if (code !== '40P01' || attempt >= attempts) throw err;
        this.log.debug({ attempt }, 'firewall windows: deadlock, retrying the batch');
      }
    }
  }

  private decideOnce(
    checks: readonly StatefulCheck[],
    nowMs: number,
  ): Promise<Array<RejectedDecision | null>> {
    const keys = batchKeys(checks, nowMs);
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<ReadRow>(LOCK_AND_READ, [
        keys.velocity.map((v) => v.ruleKey),
        keys.velocity.map((v) => v.key),
        keys.velocity.map((v) => v.bucket),
        keys.velocity.map((v) => v.expiresAtMs),
        keys.duplicates.map((d) => d.ruleKey),
        keys.duplicates.map((d) => d.key),
        keys.ids,
        nowMs,
      ]);
      const totals = new Map<string, number>();
      const firsts = new Map<string, string>();
      const admitted = new Set<string>();
      for (const r of rows) {
        if (r.kind === 'v') totals.set(windowKey(r.rule_key, r.key), Number(r.n));
        else if (r.kind === 'd' && r.first !== null) firsts.set(windowKey(r.rule_key, r.key), r.first);
        else if (r.kind === 'a') admitted.add(r.rule_key);
      }
      const out = decideStateful(checks, { admitted, totals, firsts }, nowMs);
      if (out.admitted.length > 0) {
        await client.query(WRITE, [
          out.increments.map((i) => i.ruleKey),
          out.increments.map((i) => i.key),
          out.increments.map((i) => i.bucket),
          out.increments.map((i) => i.n),
          out.firsts.map((f) => f.ruleKey),
          out.firsts.map((f) => f.key),
          out.firsts.map((f) => f.hubMessageId),
          out.firsts.map((f) => f.expiresAtMs),
          out.admitted,
          nowMs + this.options.rememberMs,
        ]);
      }
      return out.verdicts;
    });
  }

  /** Deletes rows that no longer count (any replica may; concurrent deletions are harmless). */
  async cleanup(): Promise<number> {
    const now = this.clock();
    let deleted = 0;
    for (const table of [
      'routing_firewall_counters',
      'routing_firewall_duplicates',
      'routing_firewall_admitted',
    ]) {
      const r = await store('firewall windows cleanup', () =>
        this.pool.query(`DELETE FROM ${table} WHERE expires_at_ms < $1`, [now]),
      );
      deleted += r.rowCount ?? 0;
    }
    return deleted;
  }

  start(): void {
    const every = this.options.cleanupIntervalMs;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.cleaning) return;
      this.cleaning = this.cleanup()
        .then((n) => {
          if (n > 0) this.log.debug({ deleted: n }, 'firewall windows: expired rows deleted');
        })
        .catch((err: unknown) =>
          this.log.warn({ err }, 'firewall windows cleanup failed; next interval retries'),
        )
        .finally(() => {
          this.cleaning = undefined;
        });
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.cleaning;
  }
}
