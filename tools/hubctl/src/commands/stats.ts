// Statistics over the stats service's StatsService: totals, series and breakdowns, as tables, JSON or CSV.
import type { Command } from 'commander';
import {
  GetBreakdownRequest,
  GetBreakdownResponse,
  GetSeriesRequest,
  GetSeriesResponse,
  GetSummaryRequest,
  GetSummaryResponse,
  StatsDimension,
  StatsOrder,
  TrafficType,
  type StatsFilter,
  type StatsValues,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { listTable } from '../output.js';
import { formatDecimal, parseDuration, parseEnum, parseIntFlag, parseTime, splitList } from '../values.js';

interface FilterFlags {
  from: string;
  to: string;
  account: string[];
  connector: string[];
  country: string[];
  network: string[];
  trafficType: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

function filterOptions(cmd: Command): Command {
  return cmd
    .option('--from <time>', 'start (RFC 3339, a date, or relative: -24h)', '-24h')
    .option('--to <time>', 'end, exclusive', 'now')
    .option('--account <id>', 'only these accounts (repeat, or a,b)', collect, [])
    .option('--connector <id>', 'only these connectors ("" = never dispatched)', collect, [])
    .option('--country <cc>', 'only these destination countries (GB)', collect, [])
    .option('--network <mcc-mnc>', 'only these destination networks (234-15)', collect, [])
    .option('--traffic-type <type>', 'only these traffic types (otp, transactional, marketing)', collect, []);
}

export function statsFilter(f: FilterFlags): StatsFilter {
  return {
    accountIds: splitList(f.account),
    connectorIds: splitList(f.connector),
    countries: splitList(f.country).map((c) => c.toUpperCase()),
    mccMncs: splitList(f.network),
    trafficTypes: splitList(f.trafficType).map((t) =>
      parseEnum(TrafficType, 'TRAFFIC_TYPE_', t, '--traffic-type'),
    ),
  };
}

function window(f: FilterFlags, now: Date) {
  const startTime = parseTime(f.from, '--from', now);
  const endTime = parseTime(f.to, '--to', now);
  if (startTime >= endTime) throw new CliError('--from must be before --to', EXIT.USAGE);
  return { startTime, endTime };
}

const DIMENSIONS = ['account', 'connector', 'country', 'network', 'traffic-type'] as const;

function parseDimension(v: string, flag: string): StatsDimension {
  const i = DIMENSIONS.indexOf(v.trim().toLowerCase() as (typeof DIMENSIONS)[number]);
  if (i < 0) throw new CliError(`${flag} must be one of ${DIMENSIONS.join(', ')}, got "${v}"`, EXIT.USAGE);
  return (i + 1) as StatsDimension;
}

/** A dimension key as people read it (traffic types by name, '' as "(none)"). */
function keyText(dim: StatsDimension, key: string): string {
  if (dim === StatsDimension.STATS_DIMENSION_TRAFFIC_TYPE)
    return (TrafficType[Number(key)] ?? key).replace(/^TRAFFIC_TYPE_/, '').toLowerCase();
  return key === '' ? '(none)' : key;
}

const ratio = (v: StatsValues) =>
  v.deliveryRatioPpm === undefined ? '' : `${(v.deliveryRatioPpm / 10_000).toFixed(2)}`;
const ms = (n: number | undefined) => (n === undefined ? '' : String(n));
const money = (v: StatsValues, field: 'revenue' | 'cost' | 'margin') =>
  v.money
    .map((m) => (m[field] ? `${m.currencyCode} ${formatDecimal(m[field].minorUnits, m[field].scale)}` : ''))
    .filter((s) => s !== '')
    .join('; ');

/** The figure columns of a table, after the key columns. */
function valueColumns<T>(get: (row: T) => StatsValues) {
  return [
    { header: 'SUBMITTED', value: (r: T) => get(r).submitted.toString() },
    { header: 'ACCEPTED', value: (r: T) => get(r).accepted.toString() },
    { header: 'REJECTED', value: (r: T) => get(r).rejected.toString() },
    { header: 'DELIVERED', value: (r: T) => get(r).delivered.toString() },
    { header: 'FAILED', value: (r: T) => get(r).failed.toString() },
    { header: 'DLR %', value: (r: T) => ratio(get(r)) },
    { header: 'P50 MS', value: (r: T) => ms(get(r).latencyP50Ms) },
    { header: 'P95 MS', value: (r: T) => ms(get(r).latencyP95Ms) },
    { header: 'P99 MS', value: (r: T) => ms(get(r).latencyP99Ms) },
    { header: 'SEGMENTS', value: (r: T) => get(r).segments.toString() },
    { header: 'REVENUE', value: (r: T) => money(get(r), 'revenue') },
    { header: 'COST', value: (r: T) => money(get(r), 'cost') },
    { header: 'MARGIN', value: (r: T) => money(get(r), 'margin') },
  ];
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV (RFC 4180, CRLF): the key columns, the counts, and per currency found revenue_<CUR>, cost_<CUR>,
 * margin_<CUR> as plain decimals (exact; empty when not shown to this token).
 */
export function statsCsv<T>(
  rows: readonly T[],
  keys: [string, (r: T) => string][],
  get: (r: T) => StatsValues,
): string {
  const currencies = [...new Set(rows.flatMap((r) => get(r).money.map((m) => m.currencyCode)))].sort();
  const head = [
    ...keys.map(([h]) => h),
    'submitted',
    'accepted',
    'rejected',
    'delivered',
    'failed',
    'delivery_ratio_percent',
    'latency_p50_ms',
    'latency_p95_ms',
    'latency_p99_ms',
    'segments',
    ...currencies.flatMap((c) => [`revenue_${c}`, `cost_${c}`, `margin_${c}`]),
  ];
  const lines = [head.join(',')];
  for (const r of rows) {
    const v = get(r);
    const amount = (c: string, f: 'revenue' | 'cost' | 'margin') => {
      const m = v.money.find((x) => x.currencyCode === c)?.[f];
      return m ? formatDecimal(m.minorUnits, m.scale) : '';
    };
    lines.push(
      [
        ...keys.map(([, k]) => k(r)),
        v.submitted.toString(),
        v.accepted.toString(),
        v.rejected.toString(),
        v.delivered.toString(),
        v.failed.toString(),
        ratio(v),
        ms(v.latencyP50Ms),
        ms(v.latencyP95Ms),
        ms(v.latencyP99Ms),
        v.segments.toString(),
        ...currencies.flatMap((c) => [amount(c, 'revenue'), amount(c, 'cost'), amount(c, 'margin')]),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

const ORDERS = ['submitted', 'failed', 'delivery-ratio', 'revenue', 'margin'];

export function statsCommands(session: Session, program: Command): void {
  const stats = program
    .command('stats')
    .description("delivery and money statistics (the stats service's StatsService)");

  filterOptions(stats.command('summary').description('totals over a window'))
    .addHelpText('after', '\nExample:\n  $ hubctl stats summary --from -24h --country GB -o json\n')
    .action(async (flags: FilterFlags, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'stats',
        'getSummary',
        GetSummaryRequest.fromPartial({ window: window(flags, ctx.now()), filter: statsFilter(flags) }),
      );
      const rows = [res];
      const keys: [string, (r: GetSummaryResponse) => string][] = [
        ['from', (r) => r.window?.startTime?.toISOString() ?? ''],
        ['to', (r) => r.window?.endTime?.toISOString() ?? ''],
      ];
      ctx.emit(
        GetSummaryResponse.toJSON(res),
        () =>
          listTable(
            rows,
            [
              { header: 'FROM', value: keys[0]![1] },
              { header: 'TO', value: keys[1]![1] },
              ...valueColumns((r: GetSummaryResponse) => r.values!),
            ],
            'figures',
          ) + (res.dataUntil ? `data until ${res.dataUntil.toISOString()}\n` : 'no data yet\n'),
        () => statsCsv(rows, keys, (r) => r.values!),
      );
    });

  filterOptions(
    stats
      .command('series')
      .description('figures per step over a window (default step: 1m up to 24 h)')
      .option('--step <duration>', 'step length: 1m, 5m, 1h... (a whole number of minutes)')
      .option('--group-by <dimension>', `one series per ${DIMENSIONS.join(', ')} (the largest)`)
      .option('--limit <n>', 'with --group-by: how many series (default 10, max 50)'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ hubctl stats series --from -1h --step 5m --group-by connector -o csv\n',
    )
    .action(async (flags: FilterFlags & { step?: string; groupBy?: string; limit?: string }, c: Command) => {
      const ctx = session.ctx(c);
      let stepSeconds = 0;
      if (flags.step !== undefined) {
        const stepMs = parseDuration(flags.step, '--step');
        if (stepMs % 60_000 !== 0 || stepMs <= 0)
          throw new CliError('--step must be a whole number of minutes (1m, 5m, 1h)', EXIT.USAGE);
        stepSeconds = stepMs / 1000;
      }
      const groupBy =
        flags.groupBy === undefined
          ? StatsDimension.STATS_DIMENSION_UNSPECIFIED
          : parseDimension(flags.groupBy, '--group-by');
      const res = await ctx.rpc.unary(
        'stats',
        'getSeries',
        GetSeriesRequest.fromPartial({
          window: window(flags, ctx.now()),
          filter: statsFilter(flags),
          stepSeconds,
          groupBy,
          limit: flags.limit === undefined ? 0 : parseIntFlag(flags.limit, '--limit', 1, 50),
        }),
      );
      const rows = res.series.flatMap((s) =>
        s.points.map((p) => ({ key: s.key, time: p.time!, values: p.values! })),
      );
      type Row = (typeof rows)[number];
      const grouped = groupBy !== StatsDimension.STATS_DIMENSION_UNSPECIFIED;
      const keys: [string, (r: Row) => string][] = [
        ['time', (r) => r.time.toISOString()],
        ...(grouped ? [[DIMENSIONS[groupBy - 1]!, (r: Row) => r.key] as [string, (r: Row) => string]] : []),
      ];
      ctx.emit(
        GetSeriesResponse.toJSON(res),
        () =>
          listTable(
            rows,
            [
              { header: 'TIME', value: (r: Row) => r.time.toISOString().slice(0, 16).replace('T', ' ') },
              ...(grouped
                ? [
                    {
                      header: DIMENSIONS[groupBy - 1]!.toUpperCase(),
                      value: (r: Row) => keyText(groupBy, r.key),
                    },
                  ]
                : []),
              ...valueColumns((r: Row) => r.values),
            ],
            'steps',
          ),
        () => statsCsv(rows, keys, (r) => r.values),
      );
    });

  filterOptions(
    stats
      .command('breakdown')
      .description('totals per account, connector, country, network or traffic type')
      .requiredOption('--by <dimension>', DIMENSIONS.join(', '))
      .option('--order <order>', ORDERS.join(', '), 'submitted')
      .option('--limit <n>', 'rows (default 100, max 1000)'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ hubctl stats breakdown --by connector --order delivery-ratio --from -1h\n',
    )
    .action(async (flags: FilterFlags & { by: string; order: string; limit?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const dimension = parseDimension(flags.by, '--by');
      const order = ORDERS.indexOf(flags.order.trim().toLowerCase());
      if (order < 0)
        throw new CliError(`--order must be one of ${ORDERS.join(', ')}, got "${flags.order}"`, EXIT.USAGE);
      const res = await ctx.rpc.unary(
        'stats',
        'getBreakdown',
        GetBreakdownRequest.fromPartial({
          window: window(flags, ctx.now()),
          filter: statsFilter(flags),
          dimension,
          order: (order + 1) as StatsOrder,
          limit: flags.limit === undefined ? 0 : parseIntFlag(flags.limit, '--limit', 1, 1_000),
        }),
      );
      type Row = GetBreakdownResponse['rows'][number];
      const name = DIMENSIONS[dimension - 1]!;
      ctx.emit(
        GetBreakdownResponse.toJSON(res),
        () =>
          listTable(
            res.rows,
            [
              { header: name.toUpperCase(), value: (r: Row) => keyText(dimension, r.key) },
              ...valueColumns((r: Row) => r.values!),
            ],
            'traffic in this window',
          ),
        () => statsCsv(res.rows, [[name, (r) => r.key]], (r) => r.values!),
      );
    });
}
