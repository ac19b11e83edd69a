/**
 * A customer's `tps_limit` holds across every ingress replica. Rule: each replica's share of an account's
 * limit is proportional to the account's submit-capable binds (transmitter, transceiver) it holds:
 *
 *   share = tps_limit × binds here / (binds here + live binds of the account on the other replicas)
 *
 * "Binds here" is this replica's own, exact count; the other replicas' binds come from `ingress_binds`,
 * read in one query for every account on the registry's heartbeat cycle (and right after each bind on this
 * replica), never per message. A replica that dies stops counting once its heartbeat is stale, so the
 * survivors take over its share within staleness + refresh (6 s + 2 s by default).
 *
 * Assumption (stated in the README): a customer spreads its traffic evenly over its binds, as SMPP clients
 * do (round robin over the sessions of a pool). A customer that sends everything through one of two binds on
 * two replicas gets half its limit. Receivers do not count: they cannot submit.
 *
 * Bursts: each replica's bucket holds one second of its share (at least one token, or a tiny share would
 * never let anything through), so the sum of the buckets is one second of the limit, as on one replica.
 */
import { replicaShare } from '@smshub/quota';

export interface OtherBinds {
  /** Submit-capable binds of each system_id on the other live replicas. */
  readonly bySystemId: ReadonlyMap<string, number>;
}

/** This replica's share of `limit` given its own binds and the others' (pure; libs/quota, shared with http-api). */
export { replicaShare };

/** Binds of every account on the other replicas, as last read from the registry. */
export class ClusterShares {
  private others = new Map<string, number>();
  private updatedAt = 0;

  /** Replaces the view with a fresh read (rows of other live replicas only). */
  update(rows: Iterable<{ systemId: string; binds: number }>, now = Date.now()): void {
    const next = new Map<string, number>();
    for (const r of rows) next.set(r.systemId, (next.get(r.systemId) ?? 0) + r.binds);
    this.others = next;
    this.updatedAt = now;
  }

  othersOf(systemId: string): number {
    return this.others.get(systemId) ?? 0;
  }

  /** When the last read landed (0 = never): the metric and log of a registry outage. */
  get lastUpdate(): number {
    return this.updatedAt;
  }

  /** This replica's rate for an account holding `mine` submit-capable binds here. */
  rate(systemId: string, limit: number, mine: number): number {
    return replicaShare(limit, mine, this.othersOf(systemId));
  }
}
