// The read side: totals, series and breakdowns from the roll-ups. Which table answers (0900_stats.sql):
//   - the *_dim tables when the filter names at most one dimension and it is the one grouped by (or there
//     is no grouping): a few thousand rows for 24 h whatever the key cardinality;
//   - otherwise the full-key tables joined with stats_keys (the filter selects key ids first);
//   - hour tables when the window (and step) are whole hours, minute tables otherwise.
// SQL sums the counters per (step, group, currency); histograms are summed here (element-wise) and the
// percentiles taken from the sum.
import type { Pool } from '@smshub/db';
import { store } from '@smshub/db';
import { addInto, parsePgIntArray, percentile } from './domain/histogram.js';
import { DIM_TOTAL, MONEY_SCALE } from './domain/rollup.js';
import { decimalToScaled } from './store.js';

export interface Filter {
  accountIds: string[];
  connectorIds: string[];
  countries: string[];
  mccMncs: string[];
  trafficTypes: number[];
}

/** Filter lists in dimension order (1..5). */
function filterByDim(f: Filter): [number, string[]][] {
  return [
    [1, f.accountIds],
    [2, f.connectorIds],
    [3, f.countries],
    [4, f.mccMncs],
    [5, f.trafficTypes.map(String)],
  ];
}

const KEY_COLUMN: Record<number, string> = {
  1: 'k.account_id',
  2: 'k.connector_id',
  3: 'k.country',
  4: 'k.mcc_mnc',
  5: 'k.traffic_type::text',
};

export interface MoneyAgg {
  currency: string;
  revenue: bigint;
  cost: bigint;
  margin: bigint;
  rated: number;
  missingRate: number;
  costUnconverted: number;
}

export interface Values {
  submitted: number;
  accepted: number;
  rejected: number;
  delivered: number;
  failed: number;
  segments: number;
  money: Map<string, MoneyAgg>;
  lat: number[];
}

export function emptyValues(): Values {
  return {
    submitted: 0,
    accepted: 0,
    rejected: 0,
    delivered: 0,
    failed: 0,
    segments: 0,
    money: new Map(),
    lat: [],
  };
}

export function addValues(a: Values, b: Values): Values {
  a.submitted += b.submitted;
  a.accepted += b.accepted;
  a.rejected += b.rejected;
  a.delivered += b.delivered;
  a.failed += b.failed;
  a.segments += b.segments;
  for (const m of b.money.values()) addMoney(a, m);
  addInto(a.lat, b.lat);
  return a;
}

function addMoney(v: Values, m: MoneyAgg): void {
  const t = v.money.get(m.currency);
  if (!t) {
    v.money.set(m.currency, { ...m });
    return;
  }
  t.revenue += m.revenue;
  t.cost += m.cost;
  t.margin += m.margin;
  t.rated += m.rated;
  t.missingRate += m.missingRate;
  t.costUnconverted += m.costUnconverted;
}

export function ratioPpm(v: Values): number | undefined {
  const n = v.delivered + v.failed;
  return n > 0 ? Math.round((v.delivered * 1_000_000) / n) : undefined;
}

export const latencyOf = (v: Values, p: number) => percentile(v.lat, p);

export interface Query {
  start: Date;
  end: Date;
  filter: Filter;
  /** Step in ms for a series; undefined = one bucket for the whole window. */
  stepMs?: number;
  /** Dimension to group by (1..5); undefined = no grouping. */
  groupDim?: number;
  /** With groupDim: only these group keys. */
  groupKeys?: string[];
}

export interface ResultRow {
  /** Step start (ms) or undefined for whole-window queries. */
  step?: number;
  group: string;
  values: Values;
}

export class StatsQueries {
  constructor(private readonly pool: Pool) {}

  /** Which table family a query reads ("dim" or "key") and grain: exported for the bench and tests. */
  static plan(q: Query): { family: 'dim' | 'key'; grain: 'minute' | 'hour'; dim: number } {
    const filtered = filterByDim(q.filter).filter(([, v]) => v.length > 0);
    const hourly =
      q.start.getTime() % 3_600_000 === 0 &&
      q.end.getTime() % 3_600_000 === 0 &&
      (q.stepMs === undefined || q.stepMs % 3_600_000 === 0);
    const grain = hourly ? 'hour' : 'minute';
    if (filtered.length === 0) return { family: 'dim', grain, dim: q.groupDim ?? DIM_TOTAL };
    if (filtered.length === 1 && (q.groupDim === undefined || q.groupDim === filtered[0]![0]))
      return { family: 'dim', grain, dim: filtered[0]![0] };
    return { family: 'key', grain, dim: q.groupDim ?? DIM_TOTAL };
  }

  /**
   * A whole-window query (no step) over a window that is not whole hours: the whole hours inside it are
   * read from the hour roll-ups and only the ragged edges (under two hours) from the minute roll-ups, so a
   * rolling "last 24 h" reads ~1/20 of the rows. Series (with a step) read the grain their step needs.
   */
  async run(q: Query): Promise<ResultRow[]> {
    if (q.stepMs !== undefined) return this.runOne(q);
    const H = 3_600_000;
    const hStart = Math.ceil(q.start.getTime() / H) * H;
    const hEnd = Math.floor(q.end.getTime() / H) * H;
    if (hEnd <= hStart || (hStart === q.start.getTime() && hEnd === q.end.getTime())) return this.runOne(q);
    const parts: [number, number][] = [
      [q.start.getTime(), hStart],
      [hStart, hEnd],
      [hEnd, q.end.getTime()],
    ];
    const results = await Promise.all(
      parts
        .filter(([a, b]) => b > a)
        .map(([a, b]) => this.runOne({ ...q, start: new Date(a), end: new Date(b) })),
    );
    const merged = new Map<string, ResultRow>();
    for (const r of results.flat()) {
      const m = merged.get(r.group);
      if (m) addValues(m.values, r.values);
      else merged.set(r.group, r);
    }
    return [...merged.values()];
  }

  private async runOne(q: Query): Promise<ResultRow[]> {
    const plan = StatsQueries.plan(q);
    const params: unknown[] = [q.start, q.end];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const stepExpr =
      q.stepMs === undefined
        ? 'NULL::bigint'
        : `(extract(epoch FROM date_bin(${p(`${q.stepMs / 1000} seconds`)}::interval, t.bucket, $1::timestamptz)) * 1000)::bigint`;
    let from: string;
    let groupExpr = "''";
    const where: string[] = ['t.bucket >= $1', 't.bucket < $2'];
    if (plan.family === 'dim') {
      from = `stats_${plan.grain}_dim t`;
      where.push(`t.dim = ${p(plan.dim)}`);
      const filtered = filterByDim(q.filter).find(([d]) => d === plan.dim);
      if (filtered && filtered[1].length > 0) where.push(`t.key = ANY(${p(filtered[1])}::text[])`);
      if (q.groupDim !== undefined) {
        groupExpr = 't.key';
        if (q.groupKeys) where.push(`t.key = ANY(${p(q.groupKeys)}::text[])`);
      }
    } else {
      from = `stats_${plan.grain} t JOIN stats_keys k ON k.id = t.key_id`;
      for (const [dim, values] of filterByDim(q.filter)) {
        if (values.length > 0) where.push(`${KEY_COLUMN[dim]} = ANY(${p(values)}::text[])`);
      }
      if (q.groupDim !== undefined) {
        groupExpr = KEY_COLUMN[q.groupDim]!;
        if (q.groupKeys) where.push(`${groupExpr} = ANY(${p(q.groupKeys)}::text[])`);
      }
    }
    const currency = plan.family === 'dim' ? 't.currency' : 'k.currency';
    const sql = `SELECT ${stepExpr} AS step, ${groupExpr} AS grp, ${currency} AS currency,
        sum(t.submitted)::bigint AS submitted, sum(t.accepted)::bigint AS accepted,
        sum(t.rejected)::bigint AS rejected, sum(t.delivered)::bigint AS delivered,
        sum(t.failed)::bigint AS failed, sum(t.segments)::bigint AS segments, sum(t.rated)::bigint AS rated,
        sum(t.missing_rate)::bigint AS missing_rate, sum(t.cost_unconverted)::bigint AS cost_unconverted,
        sum(t.revenue)::text AS revenue, sum(t.cost)::text AS cost, sum(t.margin)::text AS margin,
        array_agg(t.lat::text) FILTER (WHERE t.lat IS NOT NULL) AS lats
      FROM ${from} WHERE ${where.join(' AND ')} GROUP BY 1, 2, 3`;
    const res = await store('stats query', () =>
      this.pool.query<{
        step: string | null;
        grp: string;
        currency: string;
        submitted: string;
        accepted: string;
        rejected: string;
        delivered: string;
        failed: string;
        segments: string;
        rated: string;
        missing_rate: string;
        cost_unconverted: string;
        revenue: string;
        cost: string;
        margin: string;
        lats: string[] | null;
      }>(sql, params),
    );
    const out = new Map<string, ResultRow>();
    for (const r of res.rows) {
      const step = r.step === null ? undefined : Number(r.step);
      const id = `${step ?? ''}\u0001${r.grp}`;
      let row = out.get(id);
      if (!row)
        out.set(id, (row = { ...(step !== undefined ? { step } : {}), group: r.grp, values: emptyValues() }));
      const v = row.values;
      v.submitted += Number(r.submitted);
      v.accepted += Number(r.accepted);
      v.rejected += Number(r.rejected);
      v.delivered += Number(r.delivered);
      v.failed += Number(r.failed);
      v.segments += Number(r.segments);
      if (Number(r.rated) !== 0) {
        addMoney(v, {
          currency: r.currency,
          revenue: decimalToScaled(r.revenue),
          cost: decimalToScaled(r.cost),
          margin: decimalToScaled(r.margin),
          rated: Number(r.rated),
          missingRate: Number(r.missing_rate),
          costUnconverted: Number(r.cost_unconverted),
        });
      }
      for (const l of r.lats ?? []) addInto(v.lat, parsePgIntArray(l));
    }
    return [...out.values()];
  }

  /** The latest submission minute with data, or undefined when the store is empty. */
  async dataUntil(): Promise<Date | undefined> {
    const res = await store('stats query', () =>
      this.pool.query<{ m: Date | null }>(`SELECT max(bucket) AS m FROM stats_minute_dim WHERE dim = 0`),
    );
    return res.rows[0]?.m ?? undefined;
  }
}

/** A sum at MONEY_SCALE as Money with the smallest exact scale of at least 6. */
export function toMoney(
  currency: string,
  v: bigint,
): { currencyCode: string; minorUnits: bigint; scale: number } {
  let scale = MONEY_SCALE;
  let units = v;
  while (scale > 6 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { currencyCode: currency, minorUnits: units, scale };
}
