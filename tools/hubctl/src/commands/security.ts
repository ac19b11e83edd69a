// API tokens (create with the secret printed once, list without it, expire, revoke) and the audit log of
// admin writes (AdminService; admin role).
import { Command, Option } from 'commander';
import {
  ApiToken,
  AuditEvent,
  CreateTokenRequest,
  ListAuditEventsRequest,
  ListTokensRequest,
  RevokeTokenRequest,
  SetTokenExpiryRequest,
  TokenRole,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { keyValueTable } from '../output.js';
import { parseTime } from '../values.js';
import { listPages, pageOptions, printList, type PageFlags } from './admin.js';

const ROLES: Record<string, TokenRole> = {
  admin: TokenRole.TOKEN_ROLE_ADMIN,
  operations: TokenRole.TOKEN_ROLE_OPERATIONS,
  finance: TokenRole.TOKEN_ROLE_FINANCE,
  customer: TokenRole.TOKEN_ROLE_CUSTOMER,
};

const roleName = (r: unknown): string =>
  String(r ?? '')
    .replace(/^TOKEN_ROLE_/, '')
    .toLowerCase();

/** "2026-12-31T00:00:00Z", a date, "+30d" / "30d" (from now), or anything parseTime knows. */
export function parseExpiry(value: string, now: Date): Date {
  const rel = /^\+?(\d+)([smhdw])$/.exec(value.trim());
  if (rel) {
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() + Number(rel[1]) * unit);
  }
  return parseTime(value, '--expires', now);
}

function tokenCommands(session: Session, program: Command): void {
  const tokens = program
    .command('tokens')
    .description('API tokens of the gRPC APIs: roles admin, operations, finance, customer (admin role)');
  tokens
    .command('create')
    .description('create a token; its secret is printed once and cannot be read again')
    .argument('<name>', 'who or what holds it, e.g. noc-dashboard')
    .addOption(
      new Option('--role <role>', 'what it may call').choices(Object.keys(ROLES)).makeOptionMandatory(),
    )
    .option('--account <id>', 'the account a customer token is limited to (required for customer)')
    .option('--expires <time>', 'when it stops working: RFC 3339, a date, or +30d / 12h from now')
    .action(async (name: string, flags: { role: string; account?: string; expires?: string }, c: Command) => {
      const ctx = session.ctx(c);
      if (flags.role === 'customer' && !flags.account) {
        throw new CliError('a customer token needs --account <account-id>', EXIT.USAGE);
      }
      const res = await ctx.rpc.unary(
        'admin',
        'createToken',
        CreateTokenRequest.fromPartial({
          name,
          role: ROLES[flags.role],
          accountId: flags.account ?? '',
          ...(flags.expires !== undefined ? { expireTime: parseExpiry(flags.expires, ctx.now()) } : {}),
        }),
      );
      const token = res.token ? ApiToken.toJSON(res.token) : {};
      ctx.emit(
        { token, secret: res.secret },
        () =>
          `${keyValueTable(token)}secret: ${res.secret}\n` +
          'Store it now: it is shown only this once (clients send "authorization: Bearer <secret>").\n',
      );
    });
  pageOptions(
    tokens
      .command('list')
      .alias('ls')
      .description('tokens without their secrets (active ones; --all-states for revoked and expired too)')
      .option('--all-states', 'include revoked and expired tokens'),
  ).action(async (flags: PageFlags & { allStates?: boolean }, c: Command) => {
    const ctx = session.ctx(c);
    const { items, next } = await listPages(
      ctx,
      flags,
      'listTokens',
      (page) => ListTokensRequest.fromPartial({ includeInactive: flags.allStates === true, ...page }),
      'tokens',
    );
    printList(
      ctx,
      {
        listField: 'tokens',
        plural: 'tokens',
        toJSON: (o) => ApiToken.toJSON(o as ApiToken),
        columns: [
          { header: 'ID', value: (r) => String(r.id ?? '') },
          { header: 'NAME', value: (r) => String(r.name ?? '') },
          { header: 'ROLE', value: (r) => roleName(r.role) },
          { header: 'ACCOUNT', value: (r) => String(r.accountId ?? '') },
          { header: 'CREATED', value: (r) => String(r.createTime ?? '') },
          { header: 'EXPIRES', value: (r) => String(r.expireTime ?? 'never') },
          { header: 'REVOKED', value: (r) => String(r.revokeTime ?? '') },
          { header: 'LAST USED', value: (r) => String(r.lastUseTime ?? 'never') },
        ],
      },
      items,
      next,
    );
  });
  tokens
    .command('revoke')
    .description('revoke a token: every service refuses it within AUTH_CACHE_TTL_MS (2 s by default)')
    .argument('<token-id>')
    .action(async (id: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('admin', 'revokeToken', RevokeTokenRequest.fromPartial({ id }));
      const token = res.token ? ApiToken.toJSON(res.token) : {};
      ctx.emit(token, () => `token ${id} revoked\n${keyValueTable(token)}`);
    });
  tokens
    .command('expire')
    .description('set when a token stops working (without --at: now)')
    .argument('<token-id>')
    .option('--at <time>', 'RFC 3339, a date, or +30d / 12h from now')
    .action(async (id: string, flags: { at?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'setTokenExpiry',
        SetTokenExpiryRequest.fromPartial({
          id,
          ...(flags.at !== undefined ? { expireTime: parseExpiry(flags.at, ctx.now()) } : {}),
        }),
      );
      const token = (res.token ? ApiToken.toJSON(res.token) : {}) as { expireTime?: string };
      ctx.emit(token, () => `token ${id} expires at ${token.expireTime ?? ''}\n`);
    });
}

function auditCommands(session: Session, program: Command): void {
  const audit = program.command('audit').description('the audit log of admin writes (admin role)');
  pageOptions(
    audit
      .command('list')
      .alias('ls')
      .description('admin writes and refused write attempts, newest first')
      .option('--from <time>', 'at or after (RFC 3339, date, -7d, ...)')
      .option('--to <time>', 'before')
      .option('--token-id <id>', 'made with this token id ("bootstrap" = ADMIN_TOKEN)')
      .option('--kind <kind>', 'resource kind: account, connector, routing_rule, rate, token, balance, ...')
      .option('--resource <id>', 'resource id')
      .option('--method <rpc>', 'RPC name, e.g. UpdateAccount'),
  ).action(
    async (
      flags: PageFlags & {
        from?: string;
        to?: string;
        tokenId?: string;
        kind?: string;
        resource?: string;
        method?: string;
      },
      c: Command,
    ) => {
      const ctx = session.ctx(c);
      const { items, next } = await listPages(
        ctx,
        flags,
        'listAuditEvents',
        (page) =>
          ListAuditEventsRequest.fromPartial({
            ...(flags.from !== undefined ? { startTime: parseTime(flags.from, '--from', ctx.now()) } : {}),
            ...(flags.to !== undefined ? { endTime: parseTime(flags.to, '--to', ctx.now()) } : {}),
            tokenId: flags.tokenId ?? '',
            resourceKind: flags.kind ?? '',
            resourceId: flags.resource ?? '',
            method: flags.method ?? '',
            ...page,
          }),
        'events',
      );
      printList(
        ctx,
        {
          listField: 'events',
          plural: 'audit events',
          toJSON: (o) => AuditEvent.toJSON(o as AuditEvent),
          columns: [
            { header: 'TIME', value: (r) => String(r.time ?? '') },
            { header: 'WHO', value: (r) => `${String(r.tokenId ?? '')} (${String(r.role ?? '')})` },
            { header: 'FROM', value: (r) => String(r.peer ?? '') },
            { header: 'METHOD', value: (r) => String(r.method ?? '') },
            {
              header: 'RESOURCE',
              value: (r) => [r.resourceKind, r.resourceId].filter(Boolean).map(String).join('/'),
            },
            { header: 'OUTCOME', value: (r) => String(r.outcome ?? '') },
          ],
        },
        items,
        next,
      );
    },
  );
}

export function securityCommands(session: Session, program: Command): void {
  tokenCommands(session, program);
  auditCommands(session, program);
}
