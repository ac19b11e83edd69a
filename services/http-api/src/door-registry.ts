import type { Pool } from 'pg';
import { replicaShare } from '@smshub/quota';

/**
 * One TPS limit per account whichever door its traffic uses. ingress shares an account's `tps_limit`
 * between its replicas by their live submit-capable binds, registered in `ingress_binds` with heartbeats
 * (libs/quota `replicaShare`, services/ingress/src/limits.ts). An HTTP API replica joins the same table:
 * while it carried an account's traffic in the last `idleMs`, it holds one row for that account
 * (bind_type 'http', weight 1, like one bind), refreshed on the same heartbeat cycle. So:
 *   - an account sending only over HTTP through one replica gets its whole limit there; through two
 *     replicas behind a load balancer, half on each;
 *   - an account with 3 SMPP binds that also sends over HTTP: each bind and the HTTP replica hold a
 *     quarter, on every replica alike (ingress counts the 'http' row among the others' binds).
 * Rows of type 'http' do not count towards max_binds (ingress's registry leaves them out).
 * A replica that dies stops counting once its heartbeat is stale (6 s), as an ingress replica does.
 * The first messages of an account on a replica use the whole limit until the others' next read (2 s).
 */
export class DoorRegistry {
  private readonly lastUse = new Map<string, number>();
  private readonly registered = new Set<string>();
  private others = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly replicaId: string,
    private readonly opts: { staleMs: number; idleMs: number } = { staleMs: 6_000, idleMs: 15_000 },
  ) {}

  async start(): Promise<void> {
    await this.pool.query(`DELETE FROM ingress_binds WHERE replica_id = $1`, [this.replicaId]);
    await this.readOthers().catch(() => undefined);
    this.heartbeat = setInterval(() => void this.cycle().catch(() => undefined), this.opts.staleMs / 3);
    this.heartbeat.unref();
  }

  /** This replica's rate for the account now; registers the replica as a door of the account. */
  rate(systemId: string, limit: number, now = Date.now()): number {
    this.lastUse.set(systemId, now);
    if (!this.registered.has(systemId)) {
      this.registered.add(systemId);
      void this.pool
        .query(
          `INSERT INTO ingress_binds (session_id, replica_id, system_id, bind_type, remote)
           VALUES ($1, $2, $3, 'http', 'http-api') ON CONFLICT (session_id) DO UPDATE SET heartbeat_at = now()`,
          [this.sessionId(systemId), this.replicaId, systemId],
        )
        .catch(() => this.registered.delete(systemId));
    }
    return replicaShare(limit, 1, this.others.get(systemId) ?? 0);
  }

  private sessionId(systemId: string): string {
    return `http:${this.replicaId}:${systemId}`;
  }

  private async cycle(): Promise<void> {
    const now = Date.now();
    const idle = [...this.registered].filter((s) => now - (this.lastUse.get(s) ?? 0) > this.opts.idleMs);
    for (const s of idle) {
      this.registered.delete(s);
      this.lastUse.delete(s);
    }
    if (idle.length > 0)
      await this.pool.query(`DELETE FROM ingress_binds WHERE session_id = ANY($1::text[])`, [
        idle.map((s) => this.sessionId(s)),
      ]);
    // No row of this replica while it carries no account's traffic (start and the idle sweep delete them).
    if (this.registered.size > 0)
      await this.pool.query(`UPDATE ingress_binds SET heartbeat_at = now() WHERE replica_id = $1`, [
        this.replicaId,
      ]);
    await this.readOthers();
  }

  private async readOthers(): Promise<void> {
    const { rows } = await this.pool.query<{ systemId: string; binds: number }>(
      `SELECT system_id AS "systemId", count(*)::int AS binds FROM ingress_binds
        WHERE replica_id <> $1 AND bind_type <> 'receiver'
          AND heartbeat_at > now() - make_interval(secs => $2::double precision / 1000)
        GROUP BY system_id`,
      [this.replicaId, this.opts.staleMs],
    );
    this.others = new Map(rows.map((r) => [r.systemId, r.binds]));
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pool
      .query(`DELETE FROM ingress_binds WHERE replica_id = $1`, [this.replicaId])
      .catch(() => undefined);
  }
}
