import type { Pool } from 'pg';
import { withTransaction } from '@smshub/db';

/** Submit-capable binds of one account on the other live replicas (limits.ts). */
export interface OtherBindsRow {
  systemId: string;
  binds: number;
}

/**
 * Bound sessions of every replica in Postgres (ingress_binds), so `max_binds` is a limit on the account,
 * not per replica. The count and the insert run under a transaction-scoped advisory lock on the
 * system_id, so two replicas binding the same account at once cannot both take the last slot.
 * On the same heartbeat cycle it reads the other replicas' binds of every account (one query) for the
 * cluster-wide TPS shares (limits.ts).
 */
export class BindRegistry {
  private heartbeat: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private readAgain = false;

  constructor(
    private readonly pool: Pool,
    private readonly replicaId: string,
    /**
     * Rows not refreshed for this long belong to a dead replica and are ignored (and cleaned up later).
     * Heartbeats run every third of it: with 6 s, a dead replica's binds stop counting within 6 s and the
     * survivors' next read (2 s) takes over its TPS share, within 8 s.
     */
    private readonly staleMs = 6_000,
    /** Receives the other replicas' binds after every read. */
    private readonly onOthers: (rows: OtherBindsRow[]) => void = () => undefined,
  ) {}

  /** Forgets this replica's rows from a previous life, then keeps its rows fresh. */
  async start(): Promise<void> {
    await this.pool.query(`DELETE FROM ingress_binds WHERE replica_id = $1`, [this.replicaId]);
    await this.readOthers().catch(() => undefined);
    this.heartbeat = setInterval(() => {
      void this.pool
        .query(`UPDATE ingress_binds SET heartbeat_at = now() WHERE replica_id = $1`, [this.replicaId])
        .then(() => this.readOthers())
        .then(() =>
          this.pool.query(
            `DELETE FROM ingress_binds WHERE heartbeat_at < now() - make_interval(secs => $1::double precision / 1000)`,
            [Math.max(this.staleMs * 4, 60_000)],
          ),
        )
        .catch(() => undefined);
    }, this.staleMs / 3);
    this.heartbeat.unref();
  }

  /**
   * Reads the other live replicas' submit-capable binds per account and hands them to `onOthers`. Calls
   * while a read runs share one more read after it (a burst of binds costs two queries, not one each).
   */
  refreshOthers(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.readAgain = false;
          await this.readOthers();
        } while (this.readAgain);
      } finally {
        this.reading = null;
      }
    };
    this.reading = run();
    return this.reading;
  }

  private async readOthers(): Promise<void> {
    const { rows } = await this.pool.query<OtherBindsRow>(
      `SELECT system_id AS "systemId", count(*)::int AS binds FROM ingress_binds
        WHERE replica_id <> $1 AND bind_type <> 'receiver'
          AND heartbeat_at > now() - make_interval(secs => $2::double precision / 1000)
        GROUP BY system_id`,
      [this.replicaId, this.staleMs],
    );
    this.onOthers(rows);
  }

  /**
   * Takes a slot if the account has fewer than `max` live binds; false when it is full. Rows of the HTTP API
   * (bind_type 'http', services/http-api door-registry.ts) weigh in the TPS shares but are not binds.
   */
  async acquire(
    s: { sessionId: string; systemId: string; bindType: string; remote: string },
    max: number,
  ): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('ingress_binds:' || $1))`, [s.systemId]);
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ingress_binds
          WHERE system_id = $1 AND bind_type <> 'http'
            AND heartbeat_at > now() - make_interval(secs => $2::double precision / 1000)`,
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
