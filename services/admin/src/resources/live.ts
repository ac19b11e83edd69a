// Live operations (live.proto): the connectors' live state across egress replicas, the consumer lag of
// the hub's groups, and "who am I" for the caller's token. Nothing here writes.
import { status } from '@grpc/grpc-js';
import { ROLE_PERMISSIONS } from '@smshub/auth';
import type { WhoAmIResponse } from '@smshub/contracts';
import type { AdminContext } from '../context.js';
import { read } from '../context.js';
import { invalid, RpcError } from '../errors.js';
import type { AdminHandlers } from '../server.js';

type LiveHandlers = Pick<AdminHandlers, 'listConnectorStates' | 'listConsumerLag' | 'whoAmI'>;

const GROUP = /^[A-Za-z0-9._-]{1,200}$/;

function unavailable(what: string): RpcError {
  return new RpcError(status.UNAVAILABLE, `${what} is not available: this admin has no Kafka client`);
}

export function liveHandlers(ctx: AdminContext): LiveHandlers {
  return {
    async listConnectorStates(req) {
      if (!ctx.live) throw unavailable('the live connector state');
      return ctx.live.connectorStates.list(req.connectorId);
    },

    async listConsumerLag(req) {
      if (!ctx.live) throw unavailable('consumer lag');
      req.groups.forEach((g, i) => {
        if (!GROUP.test(g))
          throw invalid(`groups[${i}]`, 'must be a consumer group name (letters, digits, . _ -)');
      });
      try {
        return await ctx.live.lag.read(req.groups);
      } catch (err) {
        ctx.logger.warn({ err: (err as Error).message }, 'consumer lag not read');
        throw new RpcError(status.UNAVAILABLE, `consumer lag not read from Kafka: ${(err as Error).message}`);
      }
    },

    async whoAmI(_req, call) {
      const p = call.principal;
      const res: WhoAmIResponse = {
        tokenKind: p.tokenId === 'bootstrap' ? 'bootstrap' : 'token',
        roles: [p.role],
        accountId: p.accountId ?? '',
        tokenId: p.tokenId === 'bootstrap' ? '' : p.tokenId,
        tokenName: p.name,
        permissions: [...ROLE_PERMISSIONS[p.role]],
      };
      if (p.tokenId !== 'bootstrap') {
        const { rows } = await read(ctx, 'token', (db) =>
          db.query<{ expires_at: Date | null }>(`SELECT expires_at FROM auth_tokens WHERE id = $1`, [
            p.tokenId,
          ]),
        );
        const exp = rows[0]?.expires_at;
        if (exp) res.expireTime = exp;
      }
      return res;
    },
  };
}
