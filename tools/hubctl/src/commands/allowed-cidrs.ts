// hubctl accounts allowed-cidrs list|add|remove|clear: the source networks an account's SMPP credential may
// bind from (ingress refuses other addresses with ESME_RBINDFAIL). A read-modify-write of the credential
// with the account's revision, so two operators editing the list at once get a conflict, not a lost write;
// every other field of the credential (max_binds, window, rate) is kept as it is.
import net from 'node:net';
import type { Command } from 'commander';
import {
  GetAccountRequest,
  UpdateAccountRequest,
  type Account,
  type GetAccountResponse,
  type UpdateAccountResponse,
} from '@smshub/contracts';
import type { Ctx, Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

/** "10.1.2.0/24", "10.1.2.3" (= /32) or an IPv6 network, in the form PostgreSQL's cidr type prints it. */
export function normaliseCidr(spec: string): string {
  const [addr = '', bits, extra] = spec.trim().split('/');
  const family = net.isIP(addr);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits)))
    throw new CliError(`"${spec}" is not an IP network (e.g. 192.0.2.0/24 or 192.0.2.7)`, EXIT.USAGE);
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) throw new CliError(`"${spec}": the prefix length is at most ${max}`, EXIT.USAGE);
  // IPv6 in its canonical (RFC 5952) spelling, as the URL parser writes it.
  if (family === 6) return `${new URL(`http://[${addr}]/`).hostname.slice(1, -1)}/${prefix}`;
  // Host bits set (10.1.2.3/24) would be refused by the database: say which network was meant.
  const n = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const network = (n & (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
  const dotted = [24, 16, 8, 0].map((sh) => (network >>> sh) & 255).join('.');
  if (network !== n)
    throw new CliError(`"${spec}" has host bits set: did you mean ${dotted}/${prefix}?`, EXIT.USAGE);
  return `${dotted}/${prefix}`;
}

async function load(ctx: Ctx, accountId: string): Promise<Account> {
  const res = (await ctx.rpc.unary(
    'admin',
    'getAccount',
    GetAccountRequest.fromPartial({ id: accountId }),
  )) as GetAccountResponse;
  if (!res.account) throw new CliError(`account ${accountId} not found`, EXIT.DATA);
  if (res.account.smppCredentials.length === 0)
    throw new CliError(`account ${accountId} has no SMPP credential`, EXIT.DATA);
  return res.account;
}

function show(ctx: Ctx, a: Account): void {
  const c = a.smppCredentials[0]!;
  ctx.emit(
    { accountId: a.id, systemId: c.systemId, allowedCidrs: c.allowedCidrs, revision: a.revision.toString() },
    () =>
      c.allowedCidrs.length === 0
        ? `${c.systemId} (account ${a.id}) may bind from any address\n`
        : `${c.systemId} (account ${a.id}) may bind from:\n${c.allowedCidrs.map((n) => `  ${n}\n`).join('')}`,
  );
}

async function change(ctx: Ctx, accountId: string, edit: (current: string[]) => string[]): Promise<void> {
  const a = await load(ctx, accountId);
  const [first, ...rest] = a.smppCredentials;
  const allowedCidrs = edit(first!.allowedCidrs.map((c) => normaliseCidr(c)));
  const res = (await ctx.rpc.unary(
    'admin',
    'updateAccount',
    UpdateAccountRequest.fromPartial({
      account: { id: a.id, smppCredentials: [{ ...first!, allowedCidrs, password: '' }, ...rest] },
      updateMask: ['smpp_credentials'],
      expectedRevision: a.revision,
    }),
  )) as UpdateAccountResponse;
  show(ctx, res.account!);
}

export function allowedCidrsCommand(session: Session, accounts: Command): void {
  const cmd = accounts
    .command('allowed-cidrs')
    .description(
      "the source networks an account's SMPP credential may bind from (none = any); ingress refuses others with ESME_RBINDFAIL",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ hubctl accounts allowed-cidrs add "$ACCOUNT_ID" 192.0.2.0/24 198.51.100.7\n  $ hubctl accounts allowed-cidrs remove "$ACCOUNT_ID" 198.51.100.7\n  $ hubctl accounts allowed-cidrs list "$ACCOUNT_ID" -o json\n',
    );
  cmd
    .command('list')
    .alias('ls')
    .description('show the networks')
    .argument('<account-id>')
    .action(async (accountId: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      show(ctx, await load(ctx, accountId));
    });
  cmd
    .command('add')
    .description('allow binds from these networks (an address alone = /32 or /128)')
    .argument('<account-id>')
    .argument('<cidr...>')
    .action(async (accountId: string, cidrs: string[], _f: unknown, c: Command) => {
      const add = cidrs.map(normaliseCidr);
      await change(session.ctx(c), accountId, (cur) => [...new Set([...cur, ...add])]);
    });
  cmd
    .command('remove')
    .alias('rm')
    .description('stop allowing binds from these networks (the last one removed = any address may bind)')
    .argument('<account-id>')
    .argument('<cidr...>')
    .action(async (accountId: string, cidrs: string[], _f: unknown, c: Command) => {
      const drop = cidrs.map(normaliseCidr);
      await change(session.ctx(c), accountId, (cur) => {
        const missing = drop.filter((d) => !cur.includes(d));
        if (missing.length > 0)
          throw new CliError(
            `not in the list: ${missing.join(', ')} (the list: ${cur.join(', ') || 'empty'})`,
            EXIT.DATA,
          );
        const left = cur.filter((n) => !drop.includes(n));
        if (left.length === 0)
          throw new CliError(
            'that would leave the list empty, which allows binds from any address: use "clear" to mean that',
            EXIT.USAGE,
          );
        return left;
      });
    });
  cmd
    .command('clear')
    .description('allow binds from any address')
    .argument('<account-id>')
    .action(async (accountId: string, _f: unknown, c: Command) => {
      await change(session.ctx(c), accountId, () => []);
    });
}
