// Hits per routing and firewall rule (0901_stats_rule_hits.sql), counted from the records every routing
// replica publishes, so the counts hold whichever replica decided (which rule a record names:
// domain/rule-hit.ts). The roll-up writer's flush (store.ts) adds the hits of its records in its own
// transaction and moves this writer's own rows of stats_offsets (group "<group>:rule-hits") there too,
// so a record is counted exactly once; applyBatch does the same for one batch on its own.
import { store, withTransaction, type Pool, type PoolClient } from '@smshub/db';
import { ruleHitOf, type RuleHit, type RuleKind } from './domain/rule-hit.js';

export { ruleHitOf, type RuleHit, type RuleKind };
const KIND_CODE: Record<RuleKind, number> = { routing: 1, firewall: 2 };
const CODE_KIND: Record<number, RuleKind> = { 1: 'routing', 2: 'firewall' };

export interface RuleHitsRow {
  ruleId: string;
  kind: RuleKind;
  hitsLastHour: bigint;
  hitsLastDay: bigint;
  hitsWindow: bigint;
  lastHitAt: Date;
}

const MINUTE = 60_000;
export const MAX_RULE_WINDOW_SECONDS = 7 * 86_400;

export class RuleHitsStore {
  readonly offsetsGroup: string;

  constructor(
    private readonly pool: Pool,
    groupId: string,
    private readonly queryPool: Pool = pool,
  ) {
    this.offsetsGroup = `${groupId}:rule-hits`;
  }

  /** Adds the hits of one batch of one topic-partition (records in offset order) exactly once. */
  async applyBatch(
    topic: string,
    partition: number,
    batch: ReadonlyArray<{ offset: string; hit: RuleHit | null }>,
  ): Promise<number> {
    if (batch.length === 0) return 0;
    const lastOffset = BigInt(batch[batch.length - 1]!.offset);
    return store('stats rule hits', () =>
      withTransaction(this.pool, async (client) => {
        await client.query(
          `INSERT INTO stats_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, 0)
           ON CONFLICT DO NOTHING`,
          [this.offsetsGroup, topic, partition],
        );
        const off = await client.query<{ next_offset: string }>(
          `SELECT next_offset FROM stats_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3
           FOR UPDATE`,
          [this.offsetsGroup, topic, partition],
        );
        const next = BigInt(off.rows[0]!.next_offset);
        if (lastOffset < next) return 0;
        const acc = new Map<
          string,
          { bucket: Date; ruleId: string; kind: RuleKind; hits: number; last: Date }
        >();
        let counted = 0;
        for (const b of batch) {
          if (BigInt(b.offset) < next || !b.hit) continue;
          const h = b.hit;
          const bucket = new Date(Math.floor(h.at.getTime() / MINUTE) * MINUTE);
          const k = `${h.ruleId}\u0000${h.kind}\u0000${bucket.getTime()}`;
          const row = acc.get(k);
          if (row) {
            row.hits++;
            if (h.at > row.last) row.last = h.at;
          } else acc.set(k, { bucket, ruleId: h.ruleId, kind: h.kind, hits: 1, last: h.at });
          counted++;
        }
        await this.upsertHits(
          client,
          [...acc.values()].map((r) => ({ ...r, bucket: r.bucket.getTime(), last: r.last.getTime() })),
        );
        await client.query(
          `UPDATE stats_offsets SET next_offset = $4 WHERE group_id = $1 AND topic = $2 AND partition = $3`,
          [this.offsetsGroup, topic, partition, (lastOffset + 1n).toString()],
        );
        return counted;
      }),
    );
  }

  /** Adds per-minute hits (in the caller's transaction, which also moves this writer's offsets). */
  async upsertHits(
    client: PoolClient,
    hits: readonly { bucket: number; ruleId: string; kind: RuleKind; hits: number; last: number }[],
  ): Promise<void> {
    if (hits.length === 0) return;
    // Sorted like the primary key: concurrent writers lock rows in the same order (no deadlocks).
    const rows = [...hits].sort(
      (a, b) =>
        (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
        KIND_CODE[a.kind] - KIND_CODE[b.kind] ||
        a.bucket - b.bucket,
    );
    await client.query(
      `INSERT INTO stats_rule_minute AS t (bucket, rule_id, kind, hits, last_hit)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::smallint[], $4::bigint[], $5::timestamptz[])
       ON CONFLICT (rule_id, kind, bucket) DO UPDATE SET hits = t.hits + EXCLUDED.hits,
         last_hit = greatest(t.last_hit, EXCLUDED.last_hit)`,
      [
        rows.map((r) => new Date(r.bucket)),
        rows.map((r) => r.ruleId),
        rows.map((r) => KIND_CODE[r.kind]),
        rows.map((r) => r.hits),
        rows.map((r) => new Date(r.last)),
      ],
    );
  }

  /**
   * Hits per rule in the last hour, the last 24 hours and the last `windowSeconds`, for rules with a hit
   * in the last 7 days (or the given ones), most hits in the last 24 hours first. Minute buckets: a
   * window's first minute counts whole.
   */
  async hits(windowSeconds: number, ruleIds: readonly string[], now = Date.now()): Promise<RuleHitsRow[]> {
    const res = await store('stats rule hits query', () =>
      this.queryPool.query<{
        rule_id: string;
        kind: number;
        hour: string;
        day: string;
        win: string;
        last_hit: Date;
      }>(
        `SELECT rule_id, kind,
                sum(hits) FILTER (WHERE bucket > $1::timestamptz - interval '1 hour')::text AS hour,
                sum(hits) FILTER (WHERE bucket > $1::timestamptz - interval '1 day')::text AS day,
                sum(hits) FILTER (WHERE bucket > $1::timestamptz - make_interval(secs => $2))::text AS win,
                max(last_hit) AS last_hit
           FROM stats_rule_minute
          WHERE bucket > $1::timestamptz - interval '7 days'
            AND (cardinality($3::text[]) = 0 OR rule_id = ANY($3::text[]))
          GROUP BY rule_id, kind`,
        [new Date(now), windowSeconds, [...ruleIds]],
      ),
    );
    return res.rows
      .map((r) => ({
        ruleId: r.rule_id,
        kind: CODE_KIND[r.kind] ?? 'routing',
        hitsLastHour: BigInt(r.hour ?? '0'),
        hitsLastDay: BigInt(r.day ?? '0'),
        hitsWindow: BigInt(r.win ?? '0'),
        lastHitAt: r.last_hit,
      }))
      .sort(
        (a, b) =>
          (a.hitsLastDay < b.hitsLastDay ? 1 : a.hitsLastDay > b.hitsLastDay ? -1 : 0) ||
          (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
      );
  }

  /** Deletes minutes older than `days`; returns the rows deleted. */
  async purge(days: number): Promise<number> {
    const res = await store('stats retention stats_rule_minute', () =>
      this.pool.query(`DELETE FROM stats_rule_minute WHERE bucket < now() - make_interval(days => $1)`, [
        days,
      ]),
    );
    return res.rowCount ?? 0;
  }
}
