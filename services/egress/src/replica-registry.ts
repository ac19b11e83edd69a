import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import { membershipOf, type Membership } from './domain/token-bucket.js';

export interface ReplicaRegistryOptions {
  /** Heartbeat and read period. */
  heartbeatMs: number;
  /** A row older than this belongs to a replica that died. heartbeat + stale bound the takeover time. */
  staleMs: number;
}

/** 2 s heartbeats, 6 s staleness: the survivors of a crash take over its share within 8 s. */
export const DEFAULT_REPLICA_REGISTRY: ReplicaRegistryOptions = { heartbeatMs: 2_000, staleMs: 6_000 };

/**
 * The live egress replicas, from heartbeats in PostgreSQL (egress_replicas, 0210). Each beat writes this
 * replica's row and reads every live one in the same round trip, then hands the membership (how many, and
 * this replica's rank among them) to `onChange` when it changed. Nothing here is on the send path.
 * If PostgreSQL does not answer, the last membership is kept (logged once per outage).
 */
export class ReplicaRegistry {
  private timer: NodeJS.Timeout | null = null;
  private current: Membership = { count: 1, rank: 0 };
  private failing = false;
  private started = false;

  constructor(
    private readonly pool: Pool,
    private readonly replicaId: string,
    private readonly log: Logger,
    private readonly onChange: (m: Membership) => void,
    private readonly opts: ReplicaRegistryOptions = DEFAULT_REPLICA_REGISTRY,
  ) {}

  get membership(): Membership {
    return this.current;
  }

  /** Registers this replica and reads the others (awaited, so the first shares are right). */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: unknown) => {
        if (!this.failing)
          this.log.warn(
            { err: (err as Error).message, membership: this.current },
            'egress replica heartbeat failed; keeping the last TPS shares',
          );
        this.failing = true;
      });
    }, this.opts.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const { rows } = await this.pool.query<{ replica_id: string }>(
      `WITH me AS (
         INSERT INTO egress_replicas (replica_id) VALUES ($1)
         ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = now()
         RETURNING replica_id)
       SELECT replica_id FROM egress_replicas
        WHERE heartbeat_at > now() - make_interval(secs => $2::double precision / 1000) AND replica_id <> $1
       UNION ALL SELECT replica_id FROM me`,
      [this.replicaId, this.opts.staleMs],
    );
    this.failing = false;
    const next = membershipOf(
      rows.map((r) => r.replica_id),
      this.replicaId,
    );
    if (next.count !== this.current.count || next.rank !== this.current.rank) {
      this.log.info({ from: this.current, to: next }, 'egress replicas changed; connector shares follow');
      this.current = next;
      this.onChange(next);
    } else if (!this.started) this.onChange(next);
    this.started = true;
  }

  /** Abrupt end (a crash in tests): the row is left to go stale. */
  halt(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Graceful: the row is deleted, so the others take over this share at their next beat. */
  async stop(): Promise<void> {
    this.halt();
    await this.pool
      .query(`DELETE FROM egress_replicas WHERE replica_id = $1`, [this.replicaId])
      .catch(() => undefined);
    // Rows of replicas that died long ago.
    await this.pool
      .query(`DELETE FROM egress_replicas WHERE heartbeat_at < now() - interval '1 day'`)
      .catch(() => undefined);
  }
}
