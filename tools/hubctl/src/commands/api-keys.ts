// API keys of the customer HTTP API (services/http-api): a thin alias of `tokens` for customers. An API
// key IS a customer token (role customer, scoped to one account), so the same key also reads the account's
// messages over dlr's gRPC MessageService. Shown once, stored as SHA-256 (admin), revoked within 2 s.
import { Command } from 'commander';
import {
  ApiToken,
  CreateTokenRequest,
  ListTokensRequest,
  RevokeTokenRequest,
  TokenRole,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { keyValueTable } from '../output.js';
import { listPages, printList } from './admin.js';
import { parseExpiry } from './security.js';

export function apiKeyCommands(session: Session, program: Command): void {
  const keys = program
    .command('api-keys')
    .description('API keys of the HTTP API (customer tokens scoped to one account; admin role)');
  keys
    .command('create')
    .description('create an API key for an account; the key is printed once and cannot be read again')
    .argument('<account-id>')
    .option('--name <name>', 'what it is for, e.g. crm-prod', 'api-key')
    .option('--expires <time>', 'when it stops working: RFC 3339, a date, or +30d / 12h from now')
    .action(async (accountId: string, flags: { name: string; expires?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'createToken',
        CreateTokenRequest.fromPartial({
          name: flags.name,
          role: TokenRole.TOKEN_ROLE_CUSTOMER,
          accountId,
          ...(flags.expires !== undefined ? { expireTime: parseExpiry(flags.expires, ctx.now()) } : {}),
        }),
      );
      const token = res.token ? ApiToken.toJSON(res.token) : {};
      ctx.emit(
        { key: token, secret: res.secret },
        () =>
          `${keyValueTable(token)}API key: ${res.secret}\n` +
          'Store it now: it is shown only this once. Send it as "Authorization: Bearer <key>".\n',
      );
    });
  keys
    .command('list')
    .alias('ls')
    .description("an account's API keys, without their secrets (active ones)")
    .argument('<account-id>')
    .action(async (accountId: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const { items } = await listPages(
        ctx,
        { all: true },
        'listTokens',
        (page) => ListTokensRequest.fromPartial({ includeInactive: false, ...page }),
        'tokens',
      );
      // Only customer tokens carry an account id.
      const mine = items.filter((t) => (t as { accountId?: string }).accountId === accountId);
      printList(
        ctx,
        {
          listField: 'keys',
          plural: 'API keys',
          toJSON: (o) => ApiToken.toJSON(o as ApiToken),
          columns: [
            { header: 'ID', value: (r) => String(r.id ?? '') },
            { header: 'NAME', value: (r) => String(r.name ?? '') },
            { header: 'CREATED', value: (r) => String(r.createTime ?? '') },
            { header: 'EXPIRES', value: (r) => String(r.expireTime ?? 'never') },
            { header: 'LAST USED', value: (r) => String(r.lastUseTime ?? 'never') },
          ],
        },
        mine,
        '',
      );
    });
  keys
    .command('revoke')
    .description('revoke an API key: the HTTP API refuses it within AUTH_CACHE_TTL_MS (2 s by default)')
    .argument('<key-id>')
    .action(async (id: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('admin', 'revokeToken', RevokeTokenRequest.fromPartial({ id }));
      const token = res.token ? ApiToken.toJSON(res.token) : {};
      ctx.emit(token, () => `API key ${id} revoked\n${keyValueTable(token)}`);
    });
}
