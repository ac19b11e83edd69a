// smshub.stats.v1.StatsService behind libs/auth (permission stats.read) plus grpc.health.v1. A customer
// token's calls are limited to its own account: its account filter is forced (naming another account is
// PERMISSION_DENIED).
import * as grpc from '@grpc/grpc-js';
import {
  RpcError,
  startGrpcServer as startServer,
  unaryHandlers,
  type GrpcServer,
  type TlsFiles,
} from '@smshub/grpc';
import {
  accountScope,
  AuthError,
  callInfo,
  guardService,
  hasPermission,
  type Guard,
  type Principal,
} from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import {
  StatsServiceService,
  type GetRuleHitsRequest,
  type GetRuleHitsResponse,
  type MoneyTotals,
  type StatsFilter,
  type StatsServiceServer,
} from '@smshub/contracts';
import type { StatsApi } from './api.js';
import { normalFilter, RequestError, type NormalFilter } from './domain/request.js';
import { queryDuration } from './metrics.js';
import { MAX_RULE_WINDOW_SECONDS, type RuleHitsRow, type RuleHitsStore } from './rule-hits.js';

/** The filter a caller may use: a customer's is limited to its own account. */
export function scopedFilter(caller: Principal, f: StatsFilter | undefined): NormalFilter {
  const filter = normalFilter(f);
  if (caller.role !== 'customer') return filter;
  for (const id of filter.accountIds) accountScope(caller, id, 'filter.account_ids');
  return { ...filter, accountIds: [accountScope(caller, '')] };
}

/**
 * How much money a role sees in statistics: roles that may read rates or settlement (admin, finance)
 * everything; a customer only its revenue (what it is charged: never the hub's cost or margin);
 * operations none (the security model keeps money from operations).
 */
export type MoneyView = 'all' | 'revenue' | 'none';

export function moneyView(caller: Principal): MoneyView {
  if (caller.role === 'customer') return 'revenue';
  return hasPermission(caller.role, 'rates.read') || hasPermission(caller.role, 'settlement.read')
    ? 'all'
    : 'none';
}

/** Removes from a response (in place) the money `view` does not show. */
export function redactMoney<T>(res: T, view: MoneyView): T {
  if (view === 'all') return res;
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) {
      for (const x of o) walk(x);
      return;
    }
    if (o === null || typeof o !== 'object' || o instanceof Date) return;
    const rec = o as Record<string, unknown>;
    if (Array.isArray(rec.money) && 'submitted' in rec) {
      if (view === 'none') rec.money = [];
      else
        rec.money = (rec.money as MoneyTotals[]).map(
          ({ cost: _c, margin: _m, costUnconverted: _u, ...keep }) => ({ ...keep, costUnconverted: 0n }),
        );
      return;
    }
    for (const v of Object.values(rec)) walk(v);
  };
  walk(res);
  return res;
}

function unary<Req extends { filter?: StatsFilter }, Res>(
  log: Logger,
  name: string,
  fn: (req: Req, filter: NormalFilter) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    Promise.resolve()
      .then(async () => {
        const caller = callInfo(call).principal;
        return redactMoney(
          await fn(call.request, scopedFilter(caller, call.request.filter)),
          moneyView(caller),
        );
      })
      .then(
        (res) => {
          queryDuration.observe({ rpc: name }, Number(process.hrtime.bigint() - started) / 1e9);
          callback(null, res);
        },
        (err: unknown) => {
          if (err instanceof RequestError) {
            callback({
              code: grpc.status.INVALID_ARGUMENT,
              details: err.message,
              name: 'RpcError',
              message: err.message,
            });
            return;
          }
          if (err instanceof AuthError) {
            callback({ code: err.code, details: err.message, name: 'RpcError', message: err.message });
            return;
          }
          log.error({ err, rpc: name }, 'rpc failed');
          const retriable = (err as { retriable?: boolean }).retriable === true;
          callback({
            code: retriable ? grpc.status.UNAVAILABLE : grpc.status.INTERNAL,
            details: retriable ? 'the statistics store is unavailable; retry' : 'internal error',
            name: 'Error',
            message: 'internal error',
          });
        },
      );
  };
}

/** GetRuleHits: per-rule hit counts (config.read; no account filter, no money). */
export function ruleHitsResponse(rows: RuleHitsRow[], windowSeconds: number): GetRuleHitsResponse {
  return {
    rules: rows.map((r) => ({
      ruleId: r.ruleId,
      kind: r.kind,
      hitsLastHour: r.hitsLastHour,
      hitsLastDay: r.hitsLastDay,
      hitsWindow: r.hitsWindow,
      lastHitAt: r.lastHitAt,
    })),
    windowSeconds,
  };
}

export function statsService(
  api: StatsApi,
  log: Logger,
  guard: Guard,
  ruleHits?: RuleHitsStore,
): StatsServiceServer {
  const plain = unaryHandlers(log, { clientErrors: [AuthError, RpcError] });
  return guardService(
    StatsServiceService,
    {
      getSummary: unary(log, 'GetSummary', (r, f) => api.summary(r, f)),
      getSeries: unary(log, 'GetSeries', (r, f) => api.series(r, f)),
      getBreakdown: unary(log, 'GetBreakdown', (r, f) => api.breakdown(r, f)),
      getRuleHits: plain('GetRuleHits', async (r: GetRuleHitsRequest) => {
        if (!ruleHits) throw new RpcError(grpc.status.UNIMPLEMENTED, 'rule hits are not counted here');
        const w = r.windowSeconds === 0 ? 3600 : r.windowSeconds;
        if (w < 60 || w > MAX_RULE_WINDOW_SECONDS)
          throw new RpcError(
            grpc.status.INVALID_ARGUMENT,
            `window_seconds must be 60..${MAX_RULE_WINDOW_SECONDS} (0 = 3600)`,
          );
        return ruleHitsResponse(await ruleHits.hits(w, r.ruleIds), w);
      }),
    },
    guard,
  );
}

export const STATS_SERVICE_NAME = 'smshub.stats.v1.StatsService';
export type { GrpcServer };

export function startGrpcServer(
  impl: StatsServiceServer,
  log: Logger,
  listen: { port: number; host?: string; tls?: TlsFiles },
): Promise<GrpcServer> {
  return startServer({
    ...listen,
    services: [
      {
        name: STATS_SERVICE_NAME,
        definition: StatsServiceService,
        implementation: impl as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    logger: log,
  });
}
