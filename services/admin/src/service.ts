// AdminService: every RPC, from the resource modules.
import type { AdminContext } from './context.js';
import type { AdminHandlers } from './server.js';
import { accountHandlers } from './resources/accounts.js';
import { balanceHandlers } from './resources/balances.js';
import { connectorHandlers } from './resources/connectors.js';
import { firewallHandlers } from './resources/firewall.js';
import { importHandlers } from './resources/imports.js';
import { numberingHandlers } from './resources/numbering.js';
import { optOutHandlers } from './resources/optouts.js';
import { quietHoursHandlers } from './resources/quiet-hours.js';
import { numberHandlers } from './resources/numbers.js';
import { rateHandlers } from './resources/rates.js';
import { routingRuleHandlers } from './resources/routing-rules.js';
import { tokenHandlers } from './resources/tokens.js';
import { listAuditEvents } from './audit.js';
import { liveHandlers } from './resources/live.js';

export function adminHandlers(ctx: AdminContext): AdminHandlers {
  return {
    ...accountHandlers(ctx),
    ...connectorHandlers(ctx),
    ...routingRuleHandlers(ctx),
    ...firewallHandlers(ctx),
    ...rateHandlers(ctx),
    ...numberingHandlers(ctx),
    ...numberHandlers(ctx),
    ...importHandlers(ctx),
    ...balanceHandlers(ctx),
    ...tokenHandlers(ctx),
    ...optOutHandlers(ctx),
    ...quietHoursHandlers(ctx),
    listAuditEvents: (req) => listAuditEvents(ctx.pool, req),
    ...liveHandlers(ctx),
  };
}
