import type { Pool } from 'pg';
import { withTransaction } from '@smshub/db';

/**
 * Bound sessions of every replica in Postgres (ingress_binds), so `max_binds` is a limit on the account,
 * not per replica. The count and the insert run under a transaction-scoped advisory lock on the
 * system_id, so two replicas binding the same account at once cannot both take the last slot.
 */
export class BindRegistry {
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly replicaId: string,
    /** Rows not refreshed for this long belong to a dead replica and are ignored (and cleaned up). */
    private readonly staleMs = 30_000,
  ) {}

  /** Forgets this replica's rows from a previous life, then keeps its rows fresh. */
  async start(): Promise<void> {
    await this.pool.query(`DELETE FROM ingress_binds WHERE replica_id = $1`, [this.replicaId]);
    this.heartbeat = setInterval(() => {
      void this.pool
        .query(`UPDATE ingress_binds SET heartbeat_at = now() WHERE replica_id = $1`, [this.replicaId])
        .then(() =>
          this.pool.query(
            `DELETE FROM ingress_binds WHERE heartbeat_at < now() - make_interval(secs => $1::double precision / 1000)`,
            [this.staleMs * 4],
          ),
        )
        .catch(() => undefined);
    }, this.staleMs / 3);
    this.heartbeat.unref();
  }

  /** Takes a slot if the account has fewer than `max` live binds; false when it is full. */
  async acquire(
    s: { sessionId: string; systemId: string; bindType: string; remote: string },
    max: number,
  ): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('ingress_binds:' || $1))`, [s.systemId]);
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ingress_binds
          WHERE system_id = $1 AND heartbeat_at > now() - make_interval(secs => $2::double precision / 1000)`,
        [s.systemId, this.staleMs],
      );
      if ((rows[0]?.n ?? 0) >= max) return false;
      await c.query(
        `INSERT INTO ingress_binds (session_id, replica_id, system_id, bind_type, remote) VALUES ($1,$2,$3,$4,$5)`,
        [s.sessionId, this.replicaId, s.systemId, s.bindType, s.remote],
      );
      return true;
    });
  }

  async release(sessionId: string): Promise<void> {
    await this.pool.query(`DELETE FROM ingress_binds WHERE session_id = $1`, [sessionId]);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pool
      .query(`DELETE FROM ingress_binds WHERE replica_id = $1`, [this.replicaId])
      .catch(() => undefined);
  }
}
