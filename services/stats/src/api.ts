// StatsService's answers from the roll-ups (no gRPC, no auth here: grpc.ts checks the caller and
// forces a customer's account filter before these run).
import {
  StatsOrder,
  type GetBreakdownRequest,
  type GetBreakdownResponse,
  type GetSeriesRequest,
  type GetSeriesResponse,
  type GetSummaryRequest,
  type GetSummaryResponse,
  type StatsValues,
} from '@smshub/contracts';
import { percentiles, total } from './domain/histogram.js';
import {
  checkStep,
  checkWindow,
  clampLimit,
  normalFilter,
  RequestError,
  stepStarts,
  type NormalFilter,
} from './domain/request.js';
import { addValues, emptyValues, ratioPpm, StatsQueries, toMoney, type Values } from './query.js';

const PERCENTILES = [0.5, 0.95, 0.99];

export function toStatsValues(v: Values): StatsValues {
  const ratio = ratioPpm(v);
  const [p50, p95, p99] = percentiles(v.lat, PERCENTILES);
  return {
    submitted: BigInt(v.submitted),
    accepted: BigInt(v.accepted),
    rejected: BigInt(v.rejected),
    delivered: BigInt(v.delivered),
    failed: BigInt(v.failed),
    ...(ratio !== undefined ? { deliveryRatioPpm: ratio } : {}),
    ...(p50 !== undefined ? { latencyP50Ms: p50 } : {}),
    ...(p95 !== undefined ? { latencyP95Ms: p95 } : {}),
    ...(p99 !== undefined ? { latencyP99Ms: p99 } : {}),
    segments: BigInt(v.segments),
    money: (v.money.size <= 1
      ? [...v.money.values()]
      : [...v.money.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
    ).map((m) => ({
      currencyCode: m.currency,
      revenue: toMoney(m.currency, m.revenue),
      cost: toMoney(m.currency, m.cost),
      margin: toMoney(m.currency, m.margin),
      rated: BigInt(m.rated),
      missingRate: BigInt(m.missingRate),
      costUnconverted: BigInt(m.costUnconverted),
    })),
    latencySamples: BigInt(Math.max(0, total(v.lat))),
  };
}

function firstMoney(v: Values, field: 'revenue' | 'margin'): bigint {
  const currencies = [...v.money.keys()].sort();
  return currencies.length > 0 ? v.money.get(currencies[0]!)![field] : 0n;
}

/** Breakdown row order: largest first (delivery ratio: worst first, no ratio last), then key. */
export function orderRows<T extends { group: string; values: Values }>(rows: T[], order: StatsOrder): T[] {
  const by = (r: T): number | bigint => {
    switch (order) {
      case StatsOrder.STATS_ORDER_FAILED:
        return r.values.failed;
      case StatsOrder.STATS_ORDER_DELIVERY_RATIO: {
        const ratio = ratioPpm(r.values);
        return ratio === undefined ? -Infinity : -ratio;
      }
      case StatsOrder.STATS_ORDER_REVENUE:
        return firstMoney(r.values, 'revenue');
      case StatsOrder.STATS_ORDER_MARGIN:
        return firstMoney(r.values, 'margin');
      default:
        return r.values.submitted;
    }
  };
  return rows.sort((a, b) => {
    const x = by(a);
    const y = by(b);
    if (x !== y) return x > y ? -1 : 1;
    return a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
  });
}

function dimensionOf(d: number, what: string, required: boolean): number | undefined {
  if (d === 0) {
    if (required) throw new RequestError(`${what} is required`);
    return undefined;
  }
  if (!(d >= 1 && d <= 5)) throw new RequestError(`${what}: ${d} is not a dimension`);
  return d;
}

export class StatsApi {
  constructor(private readonly queries: StatsQueries) {}

  async summary(req: GetSummaryRequest, filter: NormalFilter): Promise<GetSummaryResponse> {
    const w = checkWindow(req.window);
    const [rows, until] = await Promise.all([
      this.queries.run({ start: w.start, end: w.end, filter }),
      this.queries.dataUntil(),
    ]);
    const v = rows.reduce((a, r) => addValues(a, r.values), emptyValues());
    return {
      values: toStatsValues(v),
      window: { startTime: w.start, endTime: w.end },
      ...(until ? { dataUntil: until } : {}),
    };
  }

  async series(req: GetSeriesRequest, filter: NormalFilter): Promise<GetSeriesResponse> {
    const w = checkWindow(req.window);
    const stepMs = checkStep(w, req.stepSeconds);
    const groupDim = dimensionOf(req.groupBy, 'group_by', false);
    const limit = clampLimit(req.limit, 10, 50, 'limit');
    let groupKeys: string[] | undefined;
    if (groupDim !== undefined) {
      const totals = await this.queries.run({ start: w.start, end: w.end, filter, groupDim });
      groupKeys = orderRows(totals, StatsOrder.STATS_ORDER_SUBMITTED)
        .slice(0, limit)
        .map((r) => r.group);
    }
    const [rows, until] = await Promise.all([
      groupKeys && groupKeys.length === 0
        ? Promise.resolve([])
        : this.queries.run({
            start: w.start,
            end: w.end,
            filter,
            stepMs,
            ...(groupDim !== undefined ? { groupDim, groupKeys: groupKeys! } : {}),
          }),
      this.queries.dataUntil(),
    ]);
    const starts = stepStarts(w, stepMs);
    const keys = groupKeys ?? [''];
    const byKey = new Map<string, Map<number, Values>>(keys.map((k) => [k, new Map()]));
    for (const r of rows) byKey.get(r.group)?.set(r.step!, r.values);
    return {
      series: keys.map((key) => ({
        key,
        points: starts.map((t) => ({
          time: new Date(t),
          values: toStatsValues(byKey.get(key)!.get(t) ?? emptyValues()),
        })),
      })),
      window: { startTime: w.start, endTime: w.end },
      stepSeconds: stepMs / 1000,
      ...(until ? { dataUntil: until } : {}),
    };
  }

  async breakdown(req: GetBreakdownRequest, filter: NormalFilter): Promise<GetBreakdownResponse> {
    const w = checkWindow(req.window);
    const groupDim = dimensionOf(req.dimension, 'dimension', true)!;
    const limit = clampLimit(req.limit, 100, 1_000, 'limit');
    const [rows, until] = await Promise.all([
      this.queries.run({ start: w.start, end: w.end, filter, groupDim }),
      this.queries.dataUntil(),
    ]);
    const totalValues = rows.reduce((a, r) => addValues(a, r.values), emptyValues());
    return {
      rows: orderRows(rows, req.order)
        .slice(0, limit)
        .map((r) => ({ key: r.group, values: toStatsValues(r.values) })),
      total: toStatsValues(totalValues),
      window: { startTime: w.start, endTime: w.end },
      ...(until ? { dataUntil: until } : {}),
    };
  }
}

export { normalFilter };
