// The live operating state for the overview and connectors pages: the connectors' sessions, window, TPS
// and throttling on every egress replica (admin's ListConnectorStates) and the consumer groups' lag
// (ListConsumerLag). Read-only; the pages poll them every few seconds.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ListConnectorStatesResponse, ListConsumerLagResponse } from '@smshub/contracts';
import { unary, type Backends } from './backends.js';
import type { Session } from './session.js';

/** The worst groups the overview lists. */
export const WORST_GROUPS = 5;

/** `need` is api.ts's: the signed-in session, or 401. */
export function registerLiveApi(
  app: FastifyInstance,
  backends: Backends,
  need: (req: FastifyRequest) => Session,
): void {
  app.get('/api/live/connectors', async (req) => {
    const s = need(req);
    const admin = backends.need('admin');
    // ?connector=ID: that connector only (its page); otherwise every connector.
    const { connector } = req.query as { connector?: unknown };
    const connectorId = typeof connector === 'string' ? connector : '';
    const res = await unary<ListConnectorStatesResponse>(s.token, (md, o, cb) =>
      admin.listConnectorStates({ connectorId }, md, o, cb),
    );
    return ListConnectorStatesResponse.toJSON(res);
  });

  app.get('/api/live/lag', async (req) => {
    const s = need(req);
    const admin = backends.need('admin');
    const res = await unary<ListConsumerLagResponse>(s.token, (md, o, cb) =>
      admin.listConsumerLag({ groups: [] }, md, o, cb),
    );
    // The groups come worst first; the per-partition detail stays with hubctl.
    return {
      totalLag: String(res.totalLag),
      groups: res.groups.map((g) => ({
        group: g.group,
        state: g.state,
        members: g.members,
        lag: String(g.lag),
        topics: g.topics.map((t) => ({ topic: t.topic, lag: String(t.lag) })),
      })),
      readTime: res.readTime?.toISOString() ?? '',
    };
  });
}
