// The roll-up writer (0900_stats.sql): one transaction per flush (the records of every topic-partition
// consumed since the last one) adds their contributions to the five roll-up tables and moves each
// partition's next offset in stats_offsets. A record whose offset is below the stored one was counted
// already (a replay, a rebalance, a group reset, a flush that committed before a crash) and is skipped,
// so a record is counted exactly once.
import type { BillingRated, SmsRejected, SmsRouted } from '@smshub/contracts';
import { store, withTransaction, type Pool, type PoolClient } from '@smshub/db';
import {
  Accumulator,
  addCounters,
  decideRated,
  keyString,
  latBucketOf,
  MONEY_SCALE,
  ratedCounters,
  scaledToDecimal,
  zero,
  type Counters,
  type Key,
} from './domain/rollup.js';
import {
  mergeRows,
  prepare,
  type HitRow,
  type KeyMinute,
  type PendingRecord,
  type RatedItem,
  type StatsKind,
} from './domain/prepare.js';
import type { RuleHitsStore } from './rule-hits.js';

export type StatsRecord =
  | { kind: 'routed'; value: SmsRouted }
  | { kind: 'rejected'; value: SmsRejected }
  | { kind: 'rated'; value: BillingRated };

export interface BatchRecord {
  offset: string;
  /** Record timestamp (ms since epoch, as a string): the bucket when the event has no time. */
  timestamp: string;
  record: StatsRecord;
}

export interface BatchOutcome {
  counted: number;
  /** Records at offsets counted before. */
  replayed: number;
  /** Rated revisions already counted (a duplicate publication). */
  duplicates: number;
  /** Corrections of messages whose counted revision was forgotten (STATS_CORRECTION_DAYS). */
  uncorrectable: number;
  /** Records without an account (not countable). */
  invalid: number;
}

/** Pending records of one topic-partition, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  kind: StatsKind;
  records: readonly PendingRecord[];
}

const emptyOutcome = (): BatchOutcome => ({
  counted: 0,
  replayed: 0,
  duplicates: 0,
  uncorrectable: 0,
  invalid: 0,
});

/** rows[key, minute] += sign * counters. */
function addRow(
  rows: Map<string, KeyMinute>,
  key: Key,
  keyStr: string,
  minute: number,
  counters: Counters,
  sign: 1 | -1 = 1,
): void {
  const id = `${minute}\u0002${keyStr}`;
  let row = rows.get(id);
  if (!row) rows.set(id, (row = { key, keyStr, minute, counters: zero() }));
  addCounters(row.counters, counters, sign);
}

interface RatedState {
  revision: number;
  bucket: Date;
  keyId: number;
  delivered: number;
  failed: number;
  segments: number;
  missingRate: number;
  unconverted: number;
  revenue: bigint;
  cost: bigint;
  margin: bigint;
  latBucket: number | null;
}

/** A numeric's text at MONEY_SCALE as a bigint ("12.5" -> 12500000000000000000n). */
export function decimalToScaled(text: string): bigint {
  if (text === '0') return 0n;
  const neg = text.startsWith('-');
  const [int = '0', frac = ''] = (neg ? text.slice(1) : text).split('.');
  const v = BigInt(int + frac.slice(0, MONEY_SCALE).padEnd(MONEY_SCALE, '0'));
  return neg ? -v : v;
}

const COUNTER_COLUMNS = [
  ['submitted', 'bigint'],
  ['accepted', 'bigint'],
  ['rejected', 'bigint'],
  ['delivered', 'bigint'],
  ['failed', 'bigint'],
  ['segments', 'bigint'],
  ['rated', 'bigint'],
  ['missing_rate', 'bigint'],
  ['cost_unconverted', 'bigint'],
  ['revenue', 'numeric'],
  ['cost', 'numeric'],
  ['margin', 'numeric'],
] as const;

function counterArrays(rows: readonly { counters: Counters }[]): unknown[] {
  const c = rows.map((r) => r.counters);
  return [
    c.map((x) => x.submitted),
    c.map((x) => x.accepted),
    c.map((x) => x.rejected),
    c.map((x) => x.delivered),
    c.map((x) => x.failed),
    c.map((x) => x.segments),
    c.map((x) => x.rated),
    c.map((x) => x.missingRate),
    c.map((x) => x.costUnconverted),
    c.map((x) => scaledToDecimal(x.revenue)),
    c.map((x) => scaledToDecimal(x.cost)),
    c.map((x) => scaledToDecimal(x.margin)),
    c.map((x) => (x.lat.some((n) => n !== 0) ? `{${x.lat.join(',')}}` : null)),
  ];
}

/** INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE adding every counter. */
function upsertSql(table: string, keyCols: readonly (readonly [string, string])[]): string {
  const cols = [...keyCols, ...COUNTER_COLUMNS, ['lat', 'text']] as const;
  const names = cols.map(([n]) => n);
  const params = cols.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  const select = names.map((n) => (n === 'lat' ? 'u.lat::integer[]' : `u.${n}`)).join(', ');
  const updates = [
    ...COUNTER_COLUMNS.map(([n]) => `${n} = t.${n} + EXCLUDED.${n}`),
    'lat = stats_hist_add(t.lat, EXCLUDED.lat)',
  ].join(', ');
  return `INSERT INTO ${table} AS t (${names.join(', ')})
    SELECT ${select} FROM unnest(${params}) AS u(${names.join(', ')})
    ON CONFLICT (${keyCols.map(([n]) => n).join(', ')}) DO UPDATE SET ${updates}`;
}

const KEY_UPSERT = {
  stats_minute: upsertSql('stats_minute', [
    ['bucket', 'timestamptz'],
    ['key_id', 'integer'],
  ]),
  stats_hour: upsertSql('stats_hour', [
    ['bucket', 'timestamptz'],
    ['key_id', 'integer'],
  ]),
};
const DIM_UPSERT = {
  stats_minute_dim: upsertSql('stats_minute_dim', [
    ['bucket', 'timestamptz'],
    ['dim', 'smallint'],
    ['key', 'text'],
    ['currency', 'text'],
  ]),
  stats_hour_dim: upsertSql('stats_hour_dim', [
    ['bucket', 'timestamptz'],
    ['dim', 'smallint'],
    ['key', 'text'],
    ['currency', 'text'],
  ]),
};

const PAIR_UPSERT = upsertSql('stats_hour_pair', [
  ['bucket', 'timestamptz'],
  ['pair', 'smallint'],
  ['key_a', 'text'],
  ['key_b', 'text'],
  ['currency', 'text'],
]);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class RollupStore {
  private readonly ids = new Map<string, number>();
  private readonly keys = new Map<number, Key>();
  /** stats_offsets rows known to exist (group, topic, partition). */
  private readonly knownOffsets = new Set<string>();

  constructor(
    private readonly pool: Pool,
    private readonly groupId: string,
  ) {}

  /** Ids of keys (created when new; committed on their own, so a rolled-back flush leaves no bad id). */
  async keyIds(keys: ReadonlyMap<string, Key> | readonly Key[]): Promise<Map<string, number>> {
    const missing = new Map<string, Key>();
    if (Array.isArray(keys)) {
      for (const k of keys as readonly Key[]) if (!this.ids.has(keyString(k))) missing.set(keyString(k), k);
    } else for (const [s, k] of keys as ReadonlyMap<string, Key>) if (!this.ids.has(s)) missing.set(s, k);
    if (missing.size > 0) {
      const list = [...missing.values()];
      const cols = [
        list.map((k) => k.accountId),
        list.map((k) => k.connectorId),
        list.map((k) => k.country),
        list.map((k) => k.mccMnc),
        list.map((k) => k.trafficType),
        list.map((k) => k.currency),
      ];
      await store('stats keys', () =>
        this.pool.query(
          `INSERT INTO stats_keys (account_id, connector_id, country, mcc_mnc, traffic_type, currency)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::text[])
           ON CONFLICT DO NOTHING`,
          cols,
        ),
      );
      const res = await store('stats keys', () =>
        this.pool.query<{
          id: number;
          account_id: string;
          connector_id: string;
          country: string;
          mcc_mnc: string;
          traffic_type: number;
          currency: string;
        }>(
          `SELECT k.* FROM stats_keys k
             JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::text[])
               AS u(a, c, co, m, t, cur)
               ON k.account_id = u.a AND k.connector_id = u.c AND k.country = u.co AND k.mcc_mnc = u.m
              AND k.traffic_type = u.t AND k.currency = u.cur`,
          cols,
        ),
      );
      for (const r of res.rows) this.remember(r);
    }
    return this.ids;
  }

  private remember(r: {
    id: number;
    account_id: string;
    connector_id: string;
    country: string;
    mcc_mnc: string;
    traffic_type: number;
    currency: string;
  }): void {
    const key: Key = {
      accountId: r.account_id,
      connectorId: r.connector_id,
      country: r.country,
      mccMnc: r.mcc_mnc,
      trafficType: r.traffic_type,
      currency: r.currency,
    };
    this.ids.set(keyString(key), r.id);
    this.keys.set(r.id, key);
  }

  private async keyById(ids: readonly number[]): Promise<void> {
    const missing = ids.filter((id) => !this.keys.has(id));
    if (missing.length === 0) return;
    const res = await store('stats keys', () =>
      this.pool.query('SELECT * FROM stats_keys WHERE id = ANY($1::integer[])', [missing]),
    );
    for (const r of res.rows) this.remember(r);
  }

  /** Adds one batch of one topic-partition (records in offset order, all of one kind) exactly once. */
  async applyBatch(topic: string, partition: number, batch: readonly BatchRecord[]): Promise<BatchOutcome> {
    const first = batch[0];
    if (!first) return emptyOutcome();
    // Runs of one kind each (a partition's pieces may differ in kind).
    const parts: (PartitionBatch & { records: PendingRecord[] })[] = [];
    for (const b of batch) {
      const last = parts[parts.length - 1];
      const r = { offset: b.offset, timestamp: b.timestamp, value: b.record.value };
      if (last?.kind === b.record.kind) last.records.push(r);
      else parts.push({ topic, partition, kind: b.record.kind, records: [r] });
    }
    const out = await this.applyPartitions(parts);
    return out.get(topic) ?? emptyOutcome();
  }

  /**
   * Adds pending records of several topic-partitions (each in offset order; a partition may come in
   * several consecutive pieces) exactly once, in ONE transaction: the roll-up upserts (one statement per
   * table for all of them), the rated revisions, the rule hits when `hits` is given, and every partition's
   * next offset (both writers' rows). Records below a partition's stored offset were counted before (a
   * replay, a rebalance, a flush that committed before the crash) and are skipped. Returns the outcome per
   * topic.
   */
  async applyPartitions(
    parts: readonly PartitionBatch[],
    hits?: RuleHitsStore,
  ): Promise<Map<string, BatchOutcome>> {
    const byTopic = new Map<string, BatchOutcome>();
    const outcome = (topic: string) => {
      let o = byTopic.get(topic);
      if (!o) byTopic.set(topic, (o = emptyOutcome()));
      return o;
    };
    // One entry per partition (and kind), its pieces in order.
    const merged = new Map<string, PartitionBatch & { records: PendingRecord[] }>();
    for (const p of parts) {
      if (p.records.length === 0) continue;
      const id = `${p.topic}\u0000${p.partition}\u0000${p.kind}`;
      const have = merged.get(id);
      if (have) have.records.push(...p.records);
      else merged.set(id, { ...p, records: [...p.records] });
    }
    if (merged.size === 0) return byTopic;
    const now = Date.now();
    // Pure part first, every record taken as new (the usual case); the keys' ids outside the transaction.
    const list = [...merged.values()]
      .sort((a, b) => cmp(a.topic, b.topic) || a.partition - b.partition || cmp(a.kind, b.kind))
      .map((p) => ({
        ...p,
        first: BigInt(p.records[0]!.offset),
        last: BigInt(p.records[p.records.length - 1]!.offset),
        prep: prepare(p.kind, p.records, { now }),
      }));
    const keys = new Map<string, Key>();
    for (const { prep } of list) {
      for (const r of prep.rows.values()) keys.set(r.keyStr, r.key);
      for (const r of prep.rated) keys.set(r.keyStr, r.key);
    }
    const ids = await this.keyIds(keys);
    // The rule-hit writer keeps offsets of the topics it counts (routed, rejected) only.
    const groupsOf = (kind: StatsKind) =>
      hits && kind !== 'rated' ? [this.groupId, hits.offsetsGroup] : [this.groupId];

    const result = await store('stats roll-up', () =>
      withTransaction(this.pool, async (client) => {
        const coords = [
          ...new Map(
            list.flatMap((p) =>
              groupsOf(p.kind).map((g) => [
                `${g}\u0000${p.topic}\u0000${p.partition}`,
                [g, p.topic, p.partition] as const,
              ]),
            ),
          ).values(),
        ];
        const unknown = coords.filter(([g, t, p]) => !this.knownOffsets.has(`${g}\u0000${t}\u0000${p}`));
        if (unknown.length > 0)
          await client.query(
            `INSERT INTO stats_offsets (group_id, topic, partition, next_offset)
             SELECT g, t, p, 0 FROM unnest($1::text[], $2::text[], $3::integer[]) AS u(g, t, p)
             ON CONFLICT DO NOTHING`,
            [unknown.map((c) => c[0]), unknown.map((c) => c[1]), unknown.map((c) => c[2])],
          );
        const off = await client.query<{
          group_id: string;
          topic: string;
          partition: number;
          next_offset: string;
        }>(
          `SELECT o.group_id, o.topic, o.partition, o.next_offset FROM stats_offsets o
             JOIN unnest($1::text[], $2::text[], $3::integer[]) AS u(g, t, p)
               ON o.group_id = u.g AND o.topic = u.t AND o.partition = u.p
            ORDER BY o.group_id, o.topic, o.partition
              FOR UPDATE OF o`,
          [coords.map((c) => c[0]), coords.map((c) => c[1]), coords.map((c) => c[2])],
        );
        const nextOf = new Map<string, bigint>();
        for (const r of off.rows)
          nextOf.set(`${r.group_id}\u0000${r.topic}\u0000${r.partition}`, BigInt(r.next_offset));

        const rows = new Map<string, KeyMinute>();
        const rated: RatedItem[] = [];
        const hitRows = new Map<string, HitRow>();
        const moved: { group: string; topic: string; partition: number; next: bigint }[] = [];
        for (const p of list) {
          const o = outcome(p.topic);
          const next = nextOf.get(`${this.groupId}\u0000${p.topic}\u0000${p.partition}`) ?? 0n;
          const hitsNext = hits
            ? (nextOf.get(`${hits.offsetsGroup}\u0000${p.topic}\u0000${p.partition}`) ?? 0n)
            : 0n;
          let prep = p.prep;
          if (next > p.first || hitsNext > p.first) {
            // A replay boundary inside (or after) these records: sum again without what was counted.
            prep = prepare(p.kind, p.records, { from: next, hitsFrom: hitsNext, now });
            if (next > p.first) for (const r of p.records) if (BigInt(r.offset) < next) o.replayed++;
          }
          if (p.last >= next) {
            mergeRows(rows, prep.rows);
            for (const r of prep.rated) rated.push(r);
            o.counted += prep.counted;
            o.invalid += prep.invalid;
            moved.push({ group: this.groupId, topic: p.topic, partition: p.partition, next: p.last + 1n });
          }
          if (hits && p.kind !== 'rated' && p.last >= hitsNext) {
            for (const [id, h] of prep.hits) {
              const have = hitRows.get(id);
              if (!have) hitRows.set(id, h);
              else {
                have.hits += h.hits;
                if (h.last > have.last) have.last = h.last;
              }
            }
            moved.push({
              group: hits.offsetsGroup,
              topic: p.topic,
              partition: p.partition,
              next: p.last + 1n,
            });
          }
        }
        if (moved.length === 0) return byTopic;
        // One update per row: the furthest a partition's pieces reach.
        const furthest = new Map<string, (typeof moved)[number]>();
        for (const m of moved) {
          const id = `${m.group}\u0000${m.topic}\u0000${m.partition}`;
          const have = furthest.get(id);
          if (!have || m.next > have.next) furthest.set(id, m);
        }
        const updates = [...furthest.values()];

        // Rated revisions: each decided against the one counted before (stats_rated, locked).
        const states = await this.ratedStates(
          client,
          rated.map((i) => i.messageId),
        );
        await this.keyById([...states.values()].map((s) => s.keyId));
        const changedStates = new Map<string, RatedState>();
        const ratedOutcome = outcome(list.find((p) => p.kind === 'rated')?.topic ?? '');
        for (const i of rated) {
          const prev = changedStates.get(i.messageId) ?? states.get(i.messageId);
          const decision = decideRated(i.revision, prev?.revision);
          if (decision.kind === 'duplicate') {
            ratedOutcome.duplicates++;
            continue;
          }
          if (decision.kind === 'uncorrectable') {
            ratedOutcome.uncorrectable++;
            continue;
          }
          if (decision.kind === 'replace' && prev) {
            const key = this.keys.get(prev.keyId)!;
            addRow(rows, key, keyString(key), prev.bucket.getTime(), ratedCounters(prev), -1);
          }
          addRow(rows, i.key, i.keyStr, i.minute, i.counters);
          const k = i.counters;
          changedStates.set(i.messageId, {
            revision: i.revision,
            bucket: new Date(i.minute),
            keyId: ids.get(i.keyStr)!,
            delivered: k.delivered,
            failed: k.failed,
            segments: k.segments,
            missingRate: k.missingRate,
            unconverted: k.costUnconverted,
            revenue: k.revenue,
            cost: k.cost,
            margin: k.margin,
            latBucket: latBucketOf(k),
          });
          ratedOutcome.counted++;
        }
        // Each key and minute's sums to its minute, hour, dimension and pair rows.
        const acc = new Accumulator();
        for (const r of rows.values()) acc.add(ids.get(r.keyStr)!, r.key, new Date(r.minute), r.counters);
        await this.saveRatedStates(client, changedStates);
        await this.upsert(client, acc);
        if (hits) await hits.upsertHits(client, [...hitRows.values()]);
        await client.query(
          `UPDATE stats_offsets o SET next_offset = u.n
             FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[]) AS u(g, t, p, n)
            WHERE o.group_id = u.g AND o.topic = u.t AND o.partition = u.p`,
          [
            updates.map((m) => m.group),
            updates.map((m) => m.topic),
            updates.map((m) => m.partition),
            updates.map((m) => m.next.toString()),
          ],
        );
        return byTopic;
      }),
    );
    for (const p of list)
      for (const g of groupsOf(p.kind)) this.knownOffsets.add(`${g}\u0000${p.topic}\u0000${p.partition}`);
    return result;
  }

  private async ratedStates(client: PoolClient, messageIds: string[]): Promise<Map<string, RatedState>> {
    const out = new Map<string, RatedState>();
    if (messageIds.length === 0) return out;
    const res = await client.query<{
      message_id: string;
      revision: number;
      bucket: Date;
      key_id: number;
      delivered: number;
      failed: number;
      segments: number;
      missing_rate: number;
      unconverted: number;
      revenue: string;
      cost: string;
      margin: string;
      lat_bucket: number | null;
    }>(
      // columns named, not *: libs/db prepares the statement, and a column added later must not change its result
      `SELECT message_id, revision, bucket, key_id, delivered, failed, segments, missing_rate, unconverted, revenue,
              cost, margin, lat_bucket
         FROM stats_rated WHERE message_id = ANY($1::text[]) ORDER BY message_id FOR UPDATE`,
      [[...new Set(messageIds)]],
    );
    for (const r of res.rows) {
      out.set(r.message_id, {
        revision: r.revision,
        bucket: r.bucket,
        keyId: r.key_id,
        delivered: r.delivered,
        failed: r.failed,
        segments: r.segments,
        missingRate: r.missing_rate,
        unconverted: r.unconverted,
        revenue: decimalToScaled(r.revenue),
        cost: decimalToScaled(r.cost),
        margin: decimalToScaled(r.margin),
        latBucket: r.lat_bucket,
      });
    }
    return out;
  }

  private async saveRatedStates(client: PoolClient, states: Map<string, RatedState>): Promise<void> {
    if (states.size === 0) return;
    const entries = [...states.entries()].sort(([a], [b]) => cmp(a, b));
    const s = entries.map(([, v]) => v);
    await client.query(
      `INSERT INTO stats_rated AS t (message_id, revision, bucket, key_id, delivered, failed, segments,
         missing_rate, unconverted, revenue, cost, margin, lat_bucket)
       SELECT * FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::integer[], $5::smallint[],
         $6::smallint[], $7::integer[], $8::smallint[], $9::smallint[], $10::numeric[], $11::numeric[],
         $12::numeric[], $13::smallint[])
       ON CONFLICT (message_id) DO UPDATE SET revision = EXCLUDED.revision, bucket = EXCLUDED.bucket,
         key_id = EXCLUDED.key_id, delivered = EXCLUDED.delivered, failed = EXCLUDED.failed,
         segments = EXCLUDED.segments, missing_rate = EXCLUDED.missing_rate,
         unconverted = EXCLUDED.unconverted, revenue = EXCLUDED.revenue, cost = EXCLUDED.cost,
         margin = EXCLUDED.margin, lat_bucket = EXCLUDED.lat_bucket, stored_at = now()`,
      [
        entries.map(([k]) => k),
        s.map((v) => v.revision),
        s.map((v) => v.bucket),
        s.map((v) => v.keyId),
        s.map((v) => v.delivered),
        s.map((v) => v.failed),
        s.map((v) => v.segments),
        s.map((v) => v.missingRate),
        s.map((v) => v.unconverted),
        s.map((v) => scaledToDecimal(v.revenue)),
        s.map((v) => scaledToDecimal(v.cost)),
        s.map((v) => scaledToDecimal(v.margin)),
        s.map((v) => v.latBucket),
      ],
    );
  }

  /** Upserts the accumulated rows, every table in one fixed order and rows sorted (no deadlocks). */
  private async upsert(client: PoolClient, acc: Accumulator): Promise<void> {
    for (const [table, map] of [
      ['stats_minute', acc.rows],
      ['stats_hour', acc.hourRows],
    ] as const) {
      if (map.size === 0) continue;
      const rows = [...map.values()].sort(
        (a, b) => a.keyId - b.keyId || a.bucket.getTime() - b.bucket.getTime(),
      );
      await client.query(KEY_UPSERT[table], [
        rows.map((r) => r.bucket),
        rows.map((r) => r.keyId),
        ...counterArrays(rows),
      ]);
    }
    for (const [table, map] of [
      ['stats_minute_dim', acc.dimRows],
      ['stats_hour_dim', acc.hourDimRows],
    ] as const) {
      if (map.size === 0) continue;
      const rows = [...map.values()].sort(
        (a, b) =>
          a.dim - b.dim ||
          a.bucket.getTime() - b.bucket.getTime() ||
          cmp(a.key, b.key) ||
          cmp(a.currency, b.currency),
      );
      await client.query(DIM_UPSERT[table], [
        rows.map((r) => r.bucket),
        rows.map((r) => r.dim),
        rows.map((r) => r.key),
        rows.map((r) => r.currency),
        ...counterArrays(rows),
      ]);
    }
    if (acc.hourPairRows.size > 0) {
      const rows = [...acc.hourPairRows.values()].sort(
        (a, b) =>
          a.pair - b.pair ||
          a.bucket.getTime() - b.bucket.getTime() ||
          cmp(a.keyA, b.keyA) ||
          cmp(a.keyB, b.keyB) ||
          cmp(a.currency, b.currency),
      );
      await client.query(PAIR_UPSERT, [
        rows.map((r) => r.bucket),
        rows.map((r) => r.pair),
        rows.map((r) => r.keyA),
        rows.map((r) => r.keyB),
        rows.map((r) => r.currency),
        ...counterArrays(rows),
      ]);
    }
  }

  /** Deletes roll-ups and correction state past their retention. Returns rows deleted per table. */
  async purge(retention: {
    minuteDays: number;
    hourDays: number;
    correctionDays: number;
  }): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const del = async (table: string, column: string, days: number, wholeHours = false) => {
      const cutoff = wholeHours
        ? `date_trunc('hour', now() - make_interval(days => $1))`
        : 'now() - make_interval(days => $1)';
      const res = await store(`stats retention ${table}`, () =>
        this.pool.query(`DELETE FROM ${table} WHERE ${column} < ${cutoff}`, [days]),
      );
      out[table] = res.rowCount ?? 0;
    };
    // Minute rows go by whole hours: an hour whose first minute is kept is kept whole, so a ragged
    // window edge can be answered as its hour minus the minutes outside it (domain/tiers.ts).
    await del('stats_minute', 'bucket', retention.minuteDays, true);
    await del('stats_minute_dim', 'bucket', retention.minuteDays, true);
    await del('stats_hour', 'bucket', retention.hourDays);
    await del('stats_hour_dim', 'bucket', retention.hourDays);
    await del('stats_hour_pair', 'bucket', retention.hourDays);
    await del('stats_rated', 'stored_at', retention.correctionDays);
    return out;
  }
}
