// The read side: totals, series and breakdowns from the roll-ups. Which table answers (0900_stats.sql):
//   - the *_dim tables when the filter names at most one dimension and it is the one grouped by (or there
//     is no grouping): a few thousand rows for 24 h whatever the key cardinality;
//   - hour rows of two of the small dimensions (connector, country, network, traffic type) when the filter
//     and the grouping name exactly those two: stats_hour_pair (0905);
//   - otherwise the full-key tables joined with stats_keys (the filter selects key ids first);
//   - a whole-window query (no step): the hour rows of the hours it covers, each ragged edge from its
//     minutes or as its hour minus the minutes outside (domain/tiers.ts: at most 30 minute rows an edge);
//   - a series: hour tables when the window and step are whole hours, minute tables otherwise.
// A series whose step is the grain of *_dim rows reads the rows as they are (one per point and currency:
// nothing to group); otherwise SQL sums the counters per (step, group, currency) and hands the group's
// histograms over as one string, added here in one pass; the percentiles are taken from the sum.
import type { Pool } from '@smshub/db';
import { store } from '@smshub/db';
import { addPgIntArrayText, percentile } from './domain/histogram.js';
import { DIM_TOTAL, DIM_TRAFFIC_TYPE, MONEY_SCALE, PAIR_DIMS, pairCode } from './domain/rollup.js';
import { HOUR_MS, MINUTE_MS, windowParts } from './domain/tiers.js';
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

/** a += b (or a -= b with sign -1); returns a. */
export function addValues(a: Values, b: Values, sign: 1 | -1 = 1): Values {
  a.submitted += sign * b.submitted;
  a.accepted += sign * b.accepted;
  a.rejected += sign * b.rejected;
  a.delivered += sign * b.delivered;
  a.failed += sign * b.failed;
  a.segments += sign * b.segments;
  for (const m of b.money.values()) addMoney(a, m, sign);
  for (let i = 0; i < b.lat.length; i++) a.lat[i] = (a.lat[i] ?? 0) + sign * (b.lat[i] ?? 0);
  return a;
}

function addMoney(v: Values, m: MoneyAgg, sign: 1 | -1 = 1): void {
  let t = v.money.get(m.currency);
  if (!t) {
    t = {
      currency: m.currency,
      revenue: 0n,
      cost: 0n,
      margin: 0n,
      rated: 0,
      missingRate: 0,
      costUnconverted: 0,
    };
    v.money.set(m.currency, t);
  }
  const big = BigInt(sign);
  t.revenue += big * m.revenue;
  t.cost += big * m.cost;
  t.margin += big * m.margin;
  t.rated += sign * m.rated;
  t.missingRate += sign * m.missingRate;
  t.costUnconverted += sign * m.costUnconverted;
}

/**
 * Drops what a subtraction left at zero: money entries of a currency with nothing left, and says whether
 * the row is empty (a group whose rows all fell outside the window).
 */
function pruneEmpty(v: Values): boolean {
  for (const [c, m] of v.money)
    if (!m.revenue && !m.cost && !m.margin && !m.rated && !m.missingRate && !m.costUnconverted)
      v.money.delete(c);
  return (
    !v.submitted &&
    !v.accepted &&
    !v.rejected &&
    !v.delivered &&
    !v.failed &&
    !v.segments &&
    v.money.size === 0 &&
    v.lat.every((n) => n === 0)
  );
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
  /**
   * Answer from the minute rows alone, never the hour rows: the reference the tiers must match (tests
   * and the bench); only within the minute retention.
   */
  minutesOnly?: boolean;
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
  static plan(q: Query): { family: 'dim' | 'key' | 'pair'; grain: 'minute' | 'hour'; dim: number } {
    const filtered = filterByDim(q.filter).filter(([, v]) => v.length > 0);
    const hourly =
      !q.minutesOnly &&
      q.start.getTime() % 3_600_000 === 0 &&
      q.end.getTime() % 3_600_000 === 0 &&
      (q.stepMs === undefined || q.stepMs % 3_600_000 === 0);
    const grain = hourly ? 'hour' : 'minute';
    if (filtered.length === 0) return { family: 'dim', grain, dim: q.groupDim ?? DIM_TOTAL };
    if (filtered.length === 1 && (q.groupDim === undefined || q.groupDim === filtered[0]![0]))
      return { family: 'dim', grain, dim: filtered[0]![0] };
    // hour rows of two small dimensions (a filter on one and a breakdown by the other, or filters on both)
    const dims = new Set([...filtered.map(([d]) => d), ...(q.groupDim !== undefined ? [q.groupDim] : [])]);
    if (grain === 'hour' && dims.size === 2 && [...dims].every((d) => PAIR_DIMS.includes(d)))
      return { family: 'pair', grain, dim: q.groupDim ?? DIM_TOTAL };
    return { family: 'key', grain, dim: q.groupDim ?? DIM_TOTAL };
  }

  /**
   * A whole-window query (no step) reads the hour rows of the hours it covers and answers each ragged
   * edge from its minutes or as its hour minus the minutes outside the window (domain/tiers.ts), so a
   * rolling "last 24 h" reads 24 hour rows and at most 30 minute rows per group. Series (with a step)
   * read the grain their step needs.
   */
  async run(q: Query): Promise<ResultRow[]> {
    if (q.stepMs !== undefined) return this.runOne(q);
    const parts = q.minutesOnly ? [] : windowParts(q.start.getTime(), q.end.getTime(), Date.now());
    // a group with nothing left in the window (a correction moved its only message) is not listed
    if (parts.length <= 1) return (await this.runOne(q)).filter((r) => !pruneEmpty(r.values));
    const results = await Promise.all(
      parts.map(async (p) => ({
        sign: p.sign,
        rows: await this.runOne({
          ...q,
          start: new Date(p.start),
          end: new Date(p.end),
          ...(p.grain === 'minute' ? { minutesOnly: true } : {}),
        }),
      })),
    );
    const merged = new Map<string, ResultRow>();
    for (const { sign, rows } of results) {
      for (const r of rows) {
        let m = merged.get(r.group);
        if (!m) merged.set(r.group, (m = { group: r.group, values: emptyValues() }));
        addValues(m.values, r.values, sign);
      }
    }
    return [...merged.values()].filter((r) => !pruneEmpty(r.values));
  }

  private async runOne(q: Query): Promise<ResultRow[]> {
    const plan = StatsQueries.plan(q);
    const params: unknown[] = [q.start, q.end];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const grainMs = plan.grain === 'hour' ? HOUR_MS : MINUTE_MS;
    // One *_dim row per (bucket, key, currency): a series at the table's grain is the rows themselves.
    const direct = plan.family === 'dim' && q.stepMs === grainMs;
    const stepExpr =
      q.stepMs === undefined
        ? 'NULL::bigint'
        : direct
          ? '(extract(epoch FROM t.bucket) * 1000)::bigint'
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
    } else if (plan.family === 'pair') {
      from = 'stats_hour_pair t';
      const dims = [
        ...new Set([
          ...filterByDim(q.filter)
            .filter(([, v]) => v.length > 0)
            .map(([d]) => d),
          ...(q.groupDim !== undefined ? [q.groupDim] : []),
        ]),
      ];
      const a = Math.min(...dims);
      where.push(`t.pair = ${p(pairCode(dims[0]!, dims[1]!))}`);
      const col = (d: number) => (d === a ? 't.key_a' : 't.key_b');
      for (const [dim, values] of filterByDim(q.filter))
        if (values.length > 0) where.push(`${col(dim)} = ANY(${p(values)}::text[])`);
      if (q.groupDim !== undefined) {
        groupExpr = col(q.groupDim);
        if (q.groupKeys) where.push(`${groupExpr} = ANY(${p(q.groupKeys)}::text[])`);
      }
    } else {
      from = `stats_${plan.grain} t JOIN stats_keys k ON k.id = t.key_id`;
      // traffic_type is compared as the smallint it is, so the planner's estimate of the keys it picks
      // holds (as text it guessed 25 of 1,300 keys and chose a nested loop over 30,000 rows)
      const cond = (dim: number, values: string[]) =>
        dim === DIM_TRAFFIC_TYPE
          ? `k.traffic_type = ANY(${p(values.map(Number))}::smallint[])`
          : `${KEY_COLUMN[dim]} = ANY(${p(values)}::text[])`;
      for (const [dim, values] of filterByDim(q.filter)) if (values.length > 0) where.push(cond(dim, values));
      if (q.groupDim !== undefined) {
        groupExpr = KEY_COLUMN[q.groupDim]!;
        if (q.groupKeys) where.push(cond(q.groupDim, q.groupKeys));
      }
    }
    const currency = plan.family === 'key' ? 'k.currency' : 't.currency';
    const sql = direct
      ? `SELECT ${stepExpr} AS step, ${groupExpr} AS grp, t.currency, t.submitted, t.accepted, t.rejected,
          t.delivered, t.failed, t.segments, t.rated, t.missing_rate, t.cost_unconverted, t.revenue::text AS revenue,
          t.cost::text AS cost, t.margin::text AS margin, t.lat::text AS lats
        FROM ${from} WHERE ${where.join(' AND ')}`
      : `SELECT ${stepExpr} AS step, ${groupExpr} AS grp, ${currency} AS currency,
        sum(t.submitted)::bigint AS submitted, sum(t.accepted)::bigint AS accepted,
        sum(t.rejected)::bigint AS rejected, sum(t.delivered)::bigint AS delivered,
        sum(t.failed)::bigint AS failed, sum(t.segments)::bigint AS segments, sum(t.rated)::bigint AS rated,
        sum(t.missing_rate)::bigint AS missing_rate, sum(t.cost_unconverted)::bigint AS cost_unconverted,
        sum(t.revenue)::text AS revenue, sum(t.cost)::text AS cost, sum(t.margin)::text AS margin,
        string_agg(t.lat::text, ' ') AS lats
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
        lats: string | null;
      }>(sql, params),
    );
    const out = new Map<string, ResultRow>();
    for (const r of res.rows) {
      const step = r.step === null ? undefined : Number(r.step);
      const id = step === undefined ? r.grp : `${r.step}\u0001${r.grp}`;
      let row = out.get(id);
      if (!row) {
        row =
          step !== undefined
            ? { step, group: r.grp, values: emptyValues() }
            : { group: r.grp, values: emptyValues() };
        out.set(id, row);
      }
      const v = row.values;
      v.submitted += Number(r.submitted);
      v.accepted += Number(r.accepted);
      v.rejected += Number(r.rejected);
      v.delivered += Number(r.delivered);
      v.failed += Number(r.failed);
      v.segments += Number(r.segments);
      if (Number(r.rated) !== 0) {
        const m: MoneyAgg = {
          currency: r.currency,
          revenue: decimalToScaled(r.revenue),
          cost: decimalToScaled(r.cost),
          margin: decimalToScaled(r.margin),
          rated: Number(r.rated),
          missingRate: Number(r.missing_rate),
          costUnconverted: Number(r.cost_unconverted),
        };
        // the first row of a currency is taken as it is (a fresh object), later ones added to it
        if (v.money.has(m.currency)) addMoney(v, m);
        else v.money.set(m.currency, m);
      }
      addPgIntArrayText(v.lat, r.lats);
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

const SCALE_6 = 10n ** BigInt(MONEY_SCALE - 6);

/** A sum at MONEY_SCALE as Money with the smallest exact scale of at least 6. */
export function toMoney(
  currency: string,
  v: bigint,
): { currencyCode: string; minorUnits: bigint; scale: number } {
  if (v === 0n) return { currencyCode: currency, minorUnits: 0n, scale: 6 };
  // most amounts are whole micro-units: one division, no digits
  if (v % SCALE_6 === 0n) return { currencyCode: currency, minorUnits: v / SCALE_6, scale: 6 };
  // trailing zeros counted on the digits (one allocation, not two BigInt divisions per zero)
  const digits = v.toString();
  let k = 0;
  while (k < MONEY_SCALE - 6 && digits.charCodeAt(digits.length - 1 - k) === 48) k++;
  return {
    currencyCode: currency,
    minorUnits: k === 0 ? v : BigInt(digits.slice(0, digits.length - k)),
    scale: MONEY_SCALE - k,
  };
}
