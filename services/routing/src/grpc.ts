// smshub.routing.v1.RoutingService (dry run, learnt estimates) on every routing replica, behind libs/auth
// (config.read: admin and operations), plus grpc.health.v1. Prices are money: they are answered only to
// roles with rates.read (admin); operations sees the decision without them.
import * as grpc from '@grpc/grpc-js';
import {
  AuthError,
  callInfo,
  guardService,
  hasPermission,
  PgTokenStore,
  TokenVerifier,
  type Guard,
} from '@smshub/auth';
import type { Pool } from '@smshub/db';
import {
  RpcError,
  startGrpcServer as startServer,
  unaryHandlers,
  type GrpcServer,
  type TlsFiles,
} from '@smshub/grpc';
import type { Logger } from '@smshub/logging';
import {
  RoutingServiceService,
  TrafficType as ProtoTrafficType,
  type CandidateConnector,
  type DryRunRequest,
  type DryRunResponse,
  type Estimate,
  type GetEstimatesRequest,
  type GetEstimatesResponse,
  type Money as ProtoMoney,
  type RoutingServiceServer,
} from '@smshub/contracts';
import {
  BadRequestError,
  dryRun,
  estimates,
  NotReadyError,
  type DryRunResult,
  type EstimatesResult,
  type RoutingView,
} from './dry-run.js';
import type { Money, TrafficType } from './domain/types.js';

const TRAFFIC: Record<number, TrafficType> = {
  [ProtoTrafficType.TRAFFIC_TYPE_OTP]: 'OTP',
  [ProtoTrafficType.TRAFFIC_TYPE_TRANSACTIONAL]: 'TRANSACTIONAL',
  [ProtoTrafficType.TRAFFIC_TYPE_MARKETING]: 'MARKETING',
};
const PROTO_TRAFFIC: Record<TrafficType, ProtoTrafficType> = {
  OTP: ProtoTrafficType.TRAFFIC_TYPE_OTP,
  TRANSACTIONAL: ProtoTrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  MARKETING: ProtoTrafficType.TRAFFIC_TYPE_MARKETING,
  UNSPECIFIED: ProtoTrafficType.TRAFFIC_TYPE_UNSPECIFIED,
};

function money(m: Money | undefined, show: boolean): { price?: ProtoMoney } {
  return m && show ? { price: { currencyCode: m.currency, minorUnits: m.amountMinor, scale: 6 } } : {};
}

/** The response of a dry run (prices only when `prices`). */
export function dryRunResponse(r: DryRunResult, prices: boolean, replicaId: string): DryRunResponse {
  const candidates: CandidateConnector[] = r.candidates.map((c) => ({
    connectorId: c.connectorId,
    eligible: c.eligible,
    position: c.position,
    reason: prices ? c.reason : withoutPrices(c.reason),
    ...money(c.price, prices),
    ...(c.score === undefined ? {} : { score: c.score }),
  }));
  return {
    outcome: r.outcome,
    e164: r.e164,
    country: r.country,
    mccMnc: r.mccMnc,
    ported: r.ported,
    firewall: r.firewall,
    ruleId: r.ruleId,
    strategy: r.strategy,
    candidates,
    chosenConnectorId: r.chosenConnectorId,
    chosenReason: prices ? r.chosenReason : withoutPrices(r.chosenReason),
    rejectCategory: r.rejected?.category ?? '',
    rejectReason: r.rejected?.reason ?? '',
    customerStat: r.rejected?.customerError.stat ?? '',
    customerErr: r.rejected?.customerError.err ?? 0,
    ...(r.holdUntil ? { holdUntil: r.holdUntil } : {}),
    senderRewrite: r.senderRewrite,
    tablesVersion: r.tablesVersion,
    replicaId,
  };
}

/**
 * A strategy's reason without the prices it names ("price 3450 EUR micro", "cheapest 3450 EUR micro",
 * "12.3 delivered/EUR"), for roles that may not read rates.
 */
export function withoutPrices(reason: string): string {
  return reason
    .replace(/: -?\d+ [A-Z]{3} micro-units\/segment/g, '')
    .replace(/,? ?price -?\d+ [A-Z]{3} micro/g, '')
    .replace(/cheapest -?\d+ [A-Z]{3} micro/g, 'cheapest')
    .replace(/-?\d+ [A-Z]{3} micro/g, '(price)')
    .replace(/,? ?[\d.]+ delivered\/[A-Z]{3}/g, '');
}

export function estimatesResponse(
  r: EstimatesResult,
  prices: boolean,
  replicaId: string,
): GetEstimatesResponse {
  return {
    estimates: r.estimates.map((e): Estimate => ({
      connectorId: e.connectorId,
      destination: e.destination,
      trafficType: PROTO_TRAFFIC[e.trafficType],
      delivered: e.delivered,
      failed: e.failed,
      samples: e.samples,
      deliveryProbability: e.deliveryProbability,
      ...(e.p95LatencyMs === null ? {} : { p95LatencyMs: e.p95LatencyMs }),
      ...(e.lastAt ? { lastAt: e.lastAt } : {}),
      trusted: e.trusted,
      ...money(e.price, prices),
      ...(e.deliveredPerUnit === undefined || !prices ? {} : { deliveredPerUnit: e.deliveredPerUnit }),
      meetsLevel: e.meetsLevel,
      pinned: e.pinned,
    })),
    explorationShare: r.explorationShare,
    pinnedConnectorId: r.pinnedConnectorId,
    halfLifeMs: r.halfLifeMs,
    replicaId,
  };
}

function mapErrors<T>(p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (err instanceof BadRequestError) throw new RpcError(grpc.status.INVALID_ARGUMENT, err.message);
    if (err instanceof NotReadyError) throw new RpcError(grpc.status.UNAVAILABLE, err.message);
    throw err;
  });
}

export interface RoutingServiceOptions {
  replicaId: string;
  clock?: () => number;
}

/** RoutingService behind libs/auth. */
export function routingService(
  view: RoutingView,
  log: Logger,
  guard: Guard,
  opts: RoutingServiceOptions,
): RoutingServiceServer {
  const unary = unaryHandlers(log, { clientErrors: [AuthError] });
  const clock = opts.clock ?? Date.now;
  const prices = (call: object) => hasPermission(callInfo(call).principal.role, 'rates.read');
  return guardService(
    RoutingServiceService,
    {
      dryRun: unary('DryRun', async (r: DryRunRequest, call) => {
        const res = await mapErrors(
          dryRun(
            view,
            {
              accountId: r.accountId.trim(),
              source: r.source,
              destination: r.destination,
              text: r.encodingBinary ? null : r.text,
              trafficType: TRAFFIC[r.trafficType] ?? 'UNSPECIFIED',
              ...(r.at ? { at: r.at } : {}),
              drawExploration: r.drawExploration,
            },
            clock,
          ),
        );
        return dryRunResponse(res, prices(call), opts.replicaId);
      }),
      getEstimates: unary('GetEstimates', async (r: GetEstimatesRequest, call) => {
        const t = TRAFFIC[r.trafficType];
        const res = await mapErrors(
          estimates(
            view,
            {
              ruleId: r.ruleId.trim(),
              connectorId: r.connectorId.trim(),
              destination: r.destination,
              ...(t ? { trafficType: t } : {}),
            },
            clock,
          ),
        );
        return estimatesResponse(res, prices(call), opts.replicaId);
      }),
    },
    guard,
  );
}

export const ROUTING_SERVICE_NAME = 'smshub.routing.v1.RoutingService';

export type { GrpcServer };

/** Binds RoutingService and grpc.health.v1 (libs/grpc: host, default 127.0.0.1; TLS; graceful stop). */
export function startGrpcServer(
  impl: RoutingServiceServer,
  log: Logger,
  listen: { port: number; host?: string; tls?: TlsFiles },
): Promise<GrpcServer> {
  return startServer({
    ...listen,
    services: [
      {
        name: ROUTING_SERVICE_NAME,
        definition: RoutingServiceService,
        implementation: impl as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    logger: log,
  });
}

export interface RoutingApiOptions {
  replicaId: string;
  port: number;
  host?: string;
  tls?: TlsFiles;
  /** Bootstrap admin credential (ADMIN_TOKEN). */
  adminToken?: string;
  authCacheTtlMs?: number;
  clock?: () => number;
}

/** RoutingService over the core, authenticated against auth_tokens in `pool` (main.ts and tests). */
export function startRoutingApi(
  view: RoutingView,
  pool: Pool,
  log: Logger,
  o: RoutingApiOptions,
): Promise<GrpcServer> {
  const verifier = new TokenVerifier({
    store: new PgTokenStore(pool),
    ...(o.adminToken !== undefined ? { bootstrapToken: o.adminToken } : {}),
    ...(o.authCacheTtlMs !== undefined ? { cacheTtlMs: o.authCacheTtlMs } : {}),
  });
  const impl = routingService(
    view,
    log,
    { verifier, logger: log },
    {
      replicaId: o.replicaId,
      ...(o.clock ? { clock: o.clock } : {}),
    },
  );
  return startGrpcServer(impl, log, {
    port: o.port,
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.tls ? { tls: o.tls } : {}),
  });
}
