// Routing's own view for the routing page: each rule's hit counts (StatsService.GetRuleHits), a dry run
// ("where would this message go and why": RoutingService.DryRun on a routing replica) and an adaptive
// rule's learnt estimates (RoutingService.GetEstimates). Read-only; the services check the role
// (config.read: admin and operations; prices only for rates.read).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DryRunRequest,
  DryRunResponse,
  GetEstimatesRequest,
  GetEstimatesResponse,
  GetRuleHitsRequest,
  GetRuleHitsResponse,
  TrafficType,
} from '@smshub/contracts';
import { ConsoleError, unary, type Backends } from './backends.js';
import type { Session } from './session.js';

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function trafficType(v: unknown): TrafficType {
  const t = str(v).toUpperCase();
  if (t === '') return TrafficType.TRAFFIC_TYPE_UNSPECIFIED;
  const n = (TrafficType as unknown as Record<string, number>)[`TRAFFIC_TYPE_${t}`];
  if (n === undefined) throw new ConsoleError(400, `unknown traffic type ${t.toLowerCase()}`);
  return n as TrafficType;
}

/** `need` is api.ts's: the signed-in session, or 401. */
export function registerRoutingApi(
  app: FastifyInstance,
  backends: Backends,
  need: (req: FastifyRequest) => Session,
): void {
  app.get('/api/routing/hits', async (req) => {
    const s = need(req);
    const stats = backends.need('stats');
    const res = await unary<GetRuleHitsResponse>(s.token, (md, o, cb) =>
      stats.getRuleHits(GetRuleHitsRequest.fromPartial({}), md, o, cb),
    );
    return GetRuleHitsResponse.toJSON(res);
  });

  // A POST for its body, though it changes nothing (the CSRF check applies to it like to every POST).
  app.post('/api/routing/dry-run', async (req) => {
    const s = need(req);
    const routing = backends.need('routing');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const at = str(b.at);
    const request = DryRunRequest.fromPartial({
      accountId: str(b.accountId),
      source: str(b.source),
      destination: str(b.destination),
      text: typeof b.text === 'string' ? b.text : '',
      trafficType: trafficType(b.trafficType),
      drawExploration: b.drawExploration === true,
      ...(at ? { at: new Date(/Z|[+-]\d\d:\d\d$/.test(at) ? at : `${at}Z`) } : {}),
    });
    if (request.at && Number.isNaN(request.at.getTime())) throw new ConsoleError(400, `not a time: ${at}`);
    const res = await unary<DryRunResponse>(s.token, (md, o, cb) => routing.dryRun(request, md, o, cb));
    return DryRunResponse.toJSON(res);
  });

  app.get('/api/routing/estimates', async (req) => {
    const s = need(req);
    const routing = backends.need('routing');
    const q = (req.query ?? {}) as Record<string, unknown>;
    const res = await unary<GetEstimatesResponse>(s.token, (md, o, cb) =>
      routing.getEstimates(
        GetEstimatesRequest.fromPartial({
          ruleId: str(q.rule),
          destination: str(q.destination),
          connectorId: str(q.connector),
          trafficType: trafficType(q.trafficType),
        }),
        md,
        o,
        cb,
      ),
    );
    return GetEstimatesResponse.toJSON(res);
  });
}
