import type { Pool } from 'pg';
import { withTransaction } from '@smshub/db';
import { expiresAt, type BindGuardOptions, type GuardEntry, type GuardStore } from './bind-guard.js';

interface Row {
  key: string;
  failures: number;
  last_failure: string;
  blocked_until: string;
  locks: number;
  last_success: string;
}

/**
 * The guard's counters in PostgreSQL (ingress_bind_guard, migration 0110), so that limits hold across
 * replicas. One transaction per bind attempt: the keys' rows are created if missing and locked (in key
 * order, so two binds cannot deadlock), decided on, written. Binds are rare; this costs a few ms each.
 */
export class PgGuardStore implements GuardStore {
  constructor(
    private readonly pool: Pool,
    private readonly opts: BindGuardOptions,
  ) {}

  update<T>(
    keys: readonly string[],
    fn: (entries: ReadonlyMap<string, GuardEntry>) => { write: Map<string, GuardEntry>; result: T },
  ): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    return withTransaction(this.pool, async (c) => {
      await c.query(
        `INSERT INTO ingress_bind_guard (key, expires_at) SELECT k, now() FROM unnest($1::text[]) AS k
           ORDER BY k ON CONFLICT (key) DO NOTHING`,
        [sorted],
      );
      const { rows } = await c.query<Row>(
        `SELECT key, failures, last_failure::text, blocked_until::text, locks, last_success::text
           FROM ingress_bind_guard WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
        [sorted],
      );
      const read = new Map<string, GuardEntry>(
        rows.map((r) => [
          r.key,
          {
            failures: r.failures,
            lastFailure: Number(r.last_failure),
            blockedUntil: Number(r.blocked_until),
            locks: r.locks,
            lastSuccess: Number(r.last_success),
          },
        ]),
      );
      const { write, result } = fn(read);
      if (write.size > 0) {
        const w = [...write.entries()];
        await c.query(
          `UPDATE ingress_bind_guard g SET failures = v.failures, last_failure = v.last_failure,
             blocked_until = v.blocked_until, locks = v.locks, last_success = v.last_success,
             expires_at = to_timestamp(v.expires_ms / 1000.0)
           FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::bigint[], $7::bigint[])
             AS v(key, failures, last_failure, blocked_until, locks, last_success, expires_ms)
           WHERE g.key = v.key`,
          [
            w.map(([k]) => k),
            w.map(([, e]) => e.failures),
            w.map(([, e]) => e.lastFailure),
            w.map(([, e]) => e.blockedUntil),
            w.map(([, e]) => e.locks),
            w.map(([, e]) => e.lastSuccess),
            w.map(([, e]) => expiresAt(e, this.opts)),
          ],
        );
      }
      return result;
    });
  }

  /** Deletes rows that no longer matter (and those of keys created but never written). */
  async sweep(): Promise<number> {
    const r = await this.pool.query(`DELETE FROM ingress_bind_guard WHERE expires_at < now()`);
    return r.rowCount ?? 0;
  }
}
