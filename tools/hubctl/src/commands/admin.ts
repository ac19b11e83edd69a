// Admin commands: list/get/create/update/delete for every resource, CSV imports, SMPP passwords, balances,
// top-ups and credit limits (AdminService).
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  AccountBalance,
  CreateTopUpRequest,
  GetAccountRequest,
  GetBalanceRequest,
  ImportNumberPrefixesRequest,
  ImportPortedNumbersRequest,
  ImportRatesRequest,
  ListTopUpsRequest,
  SetCreditLimitRequest,
  SetSmppPasswordRequest,
  TopUp,
  type ImportSummary,
} from '@smshub/contracts';
import { readInput, type Ctx, type Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { fromFlags, type FlagValues } from '../fields.js';
import { keyValueTable, listTable, snake, type Column } from '../output.js';
import { readPassword, type PasswordFlags } from '../password.js';
import { buildResource, RESOURCES, type ResourceSpec } from '../resources.js';
import { allowedCidrsCommand } from './allowed-cidrs.js';
import type { MethodOf } from '../rpc.js';
import {
  formatMoney,
  parseBigIntFlag,
  parseCurrency,
  parseIntFlag,
  parseMoney,
  parseTime,
} from '../values.js';

type Json = Record<string, unknown>;

const article = (noun: string): string => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

/** Parses a -f file: JSON or YAML (the proto3 JSON form, as `get -o json` prints it). */
export function parseResourceFile(text: string, path: string): unknown {
  let value: unknown;
  try {
    value = path.endsWith('.json') || text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new CliError(`${path} is neither valid JSON nor YAML: ${(err as Error).message}`, EXIT.DATA, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${path} must hold one object (the resource's fields)`, EXIT.DATA);
  }
  return value;
}

async function loadFile(ctx: Ctx, path: string | undefined): Promise<unknown> {
  if (path === undefined) return undefined;
  const text = (await readInput(ctx.io, path, 'file')).toString('utf8');
  return parseResourceFile(text, path === '-' ? 'stdin' : path);
}

function call(ctx: Ctx, method: MethodOf<'admin'>, request: object): Promise<Json> {
  return ctx.rpc.unary('admin', method, request as never) as Promise<Json>;
}

export const pageOptions = (cmd: Command): Command =>
  cmd
    .option('--limit <n>', 'results per page (server default 100, max 1000)')
    .option('--page-token <token>', 'continue from a previous page')
    .option('--all', 'follow every page');

export interface PageFlags {
  limit?: string;
  pageToken?: string;
  all?: boolean;
}

/** Calls a paged List RPC (one page, or all with --all); returns the items and the next token. */
export async function listPages(
  ctx: Ctx,
  flags: PageFlags,
  method: MethodOf<'admin'>,
  request: (page: { pageSize: number; pageToken: string }) => object,
  listField: string,
): Promise<{ items: Json[]; next: string }> {
  const pageSize = flags.limit === undefined ? 0 : parseIntFlag(flags.limit, '--limit', 1, 1000);
  let pageToken = flags.pageToken ?? '';
  const items: Json[] = [];
  for (;;) {
    const res = await call(ctx, method, request({ pageSize, pageToken }));
    items.push(...((res[listField] as Json[] | undefined) ?? []));
    pageToken = (res.nextPageToken as string | undefined) ?? '';
    if (!flags.all || pageToken === '') return { items, next: pageToken };
  }
}

export function printList(
  ctx: Ctx,
  spec: { listField: string; plural: string; toJSON(o: object): unknown; columns: Column<Json>[] },
  items: Json[],
  next: string,
): void {
  const json = items.map((i) => spec.toJSON(i) as Json);
  ctx.emit({ [spec.listField]: json, ...(next ? { nextPageToken: next } : {}) }, () =>
    listTable(json, spec.columns, spec.plural),
  );
  if (next && ctx.format === 'table') ctx.note(`more results: add --page-token ${next} (or --all)`);
}

function addFields(cmd: Command, spec: ResourceSpec): Command {
  for (const f of spec.fields) for (const o of f.options) cmd.addOption(o);
  for (const h of spec.helperOptions ?? []) cmd.option(h.flags, h.help);
  return cmd;
}

function passwordOptions(cmd: Command, what: string): Command {
  return cmd
    .addOption(
      new Option('--password <password>', `${what} (visible in the process list: prefer --password-stdin)`),
    )
    .option('--password-stdin', `read ${what} from the first line of stdin`)
    .option('--ask-password', `prompt for ${what} (no echo)`);
}

interface CreateFlags extends PasswordFlags {
  file?: string;
  askPassword?: boolean;
}

/** Puts the password (if one was asked for) into the write-only password fields of the new resource. */
async function applyPassword(
  ctx: Ctx,
  spec: ResourceSpec,
  resource: Json,
  flags: CreateFlags,
): Promise<void> {
  const given = flags.password !== undefined || flags.passwordStdin === true || flags.askPassword === true;
  // An account's credential needs a password on create: ask on a terminal when none was given.
  const ask = !given && spec.name === 'accounts' && ctx.io.stdin.isTTY === true;
  if (!given && !ask) return;
  const forceTty = flags.askPassword === true || ask;
  if (spec.name === 'accounts') {
    const creds = (resource.smppCredentials as Json[] | undefined) ?? [];
    if (creds.length === 0)
      throw new CliError('a password needs an SMPP credential: add --smpp <system_id>', EXIT.USAGE);
    const pw = await readPassword(ctx.io, forceTty ? {} : flags, 'SMPP password');
    if (pw.length > 8) throw new CliError('an SMPP password has at most 8 characters', EXIT.USAGE);
    for (const c of creds) c.password = pw;
  } else if (spec.name === 'connectors') {
    const binds = ((resource.binds as Json[] | undefined) ?? []).filter((b) => !b.passwordSecretRef);
    if (binds.length === 0)
      throw new CliError('a password needs a --bind without password_secret_ref', EXIT.USAGE);
    const pw = await readPassword(ctx.io, forceTty ? {} : flags, 'bind password');
    for (const b of binds) b.password = pw;
  }
}

/** Registers list/get/create/update/delete of one resource. */
function resourceCommand(session: Session, spec: ResourceSpec): Command {
  const cmd = new Command(spec.name)
    .aliases(spec.aliases)
    .description(`manage ${spec.plural}`)
    .addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);

  const list = pageOptions(
    cmd.command('list').alias('ls').description(`list ${spec.plural} (ordered by ${spec.idName})`),
  );
  for (const f of spec.filters) list.option(f.flags, f.help);
  list.action(async (flags: FlagValues & PageFlags, c: Command) => {
    const ctx = session.ctx(c);
    const filters: Json = {};
    for (const f of spec.filters) {
      const attr = new Option(f.flags).attributeName();
      const v = flags[attr];
      if (typeof v === 'string') filters[f.key] = f.parse(v, new Option(f.flags).long ?? f.flags);
    }
    const { items, next } = await listPages(
      ctx,
      flags,
      spec.rpc.list,
      (page) => spec.requests.list.fromPartial({ ...filters, ...page }),
      spec.listField,
    );
    printList(ctx, { ...spec, toJSON: (o) => spec.codec.toJSON(o) }, items, next);
  });

  cmd
    .command('get')
    .description(`show one ${spec.singular}`)
    .argument(`<${spec.idName}>`, `${spec.singular} ${spec.idName}`)
    .action(async (id: string, _flags: FlagValues, c: Command) => {
      const ctx = session.ctx(c);
      const res = await call(ctx, spec.rpc.get, spec.requests.get.fromPartial({ [spec.requestIdKey]: id }));
      const json = spec.codec.toJSON(res[spec.field] as object);
      ctx.emit(json, () => keyValueTable(json));
    });

  const create = addFields(
    cmd
      .command('create')
      .description(`create ${article(spec.singular)} from flags and/or a JSON or YAML file`)
      .argument(
        `[${spec.idName}]`,
        `${spec.idName} of the new ${spec.singular} (else from the file${spec.name === 'accounts' ? '; none = a generated UUID' : ''})`,
      )
      .option(
        '-f, --file <path>',
        'JSON or YAML with the fields (proto3 JSON names; "-" = stdin); flags override it',
      ),
    spec,
  );
  if (spec.name === 'accounts') passwordOptions(create, 'the SMPP password of the --smpp system_id(s)');
  if (spec.name === 'connectors') passwordOptions(create, 'the bind password');
  create.action(async (idArg: string | undefined, flags: CreateFlags & FlagValues, c: Command) => {
    const ctx = session.ctx(c);
    const file = await loadFile(ctx, flags.file);
    const { partial } = fromFlags(spec.fields, flags);
    const fileId =
      (file as Json | undefined)?.[spec.idKey] ?? (file as Json | undefined)?.[snake(spec.idKey)];
    // Without an id the server may choose one (accounts get a UUID) or say that it needs one.
    const id = idArg ?? (typeof fileId === 'string' ? fileId : '');
    const resource = buildResource(spec, id, file, partial);
    spec.checkCreate?.(resource);
    await applyPassword(ctx, spec, resource, flags);
    const res = await call(
      ctx,
      spec.rpc.create,
      spec.requests.create.fromPartial({ [spec.field]: resource }),
    );
    const json = spec.codec.toJSON(res[spec.field] as object);
    const createdId = String((json as Json)[spec.idKey] ?? id);
    ctx.emit(json, () => `created ${spec.singular} ${createdId}\n${keyValueTable(json)}`);
  });

  addFields(
    cmd
      .command('update')
      .description(
        `change ${article(spec.singular)}: flags change only those fields (update mask); -f replaces the whole ${spec.singular}`,
      )
      .argument(`<${spec.idName}>`, `${spec.singular} ${spec.idName}`)
      .option(
        '-f, --file <path>',
        `JSON or YAML with the whole ${spec.singular} (full replacement; "-" = stdin)`,
      )
      .option('--clear <fields>', 'reset these fields to empty (proto field names, comma separated)')
      .option('--expected-revision <n>', 'fail with a conflict unless the stored revision is this one'),
    spec,
  ).action(
    async (
      id: string,
      flags: FlagValues & { file?: string; clear?: string; expectedRevision?: string },
      c: Command,
    ) => {
      const ctx = session.ctx(c);
      const file = await loadFile(ctx, flags.file);
      const { partial, paths } = fromFlags(spec.fields, flags);
      const known = spec.fields.map((f) => f.path);
      for (const p of (flags.clear ?? '')
        .split(',')
        .map((s) => snake(s.trim()))
        .filter((s) => s !== '')) {
        if (!known.includes(p))
          throw new CliError(`--clear: unknown field "${p}"; fields: ${known.join(', ')}`, EXIT.USAGE);
        paths.push(p);
      }
      if (file === undefined && paths.length === 0) {
        throw new CliError(
          `nothing to change: give field flags, --clear or -f (see hubctl ${spec.name} update --help)`,
          EXIT.USAGE,
        );
      }
      const resource = buildResource(spec, id, file, partial);
      const request = spec.requests.update.fromPartial({
        [spec.field]: resource,
        ...(file === undefined ? { updateMask: [...new Set(paths)] } : {}),
        ...(flags.expectedRevision !== undefined
          ? { expectedRevision: parseBigIntFlag(flags.expectedRevision, '--expected-revision') }
          : {}),
      });
      const res = await call(ctx, spec.rpc.update, request);
      const json = spec.codec.toJSON(res[spec.field] as object);
      ctx.emit(json, () => `updated ${spec.singular} ${id}\n${keyValueTable(json)}`);
    },
  );

  cmd
    .command('delete')
    .alias('rm')
    .description(`delete ${article(spec.singular)}`)
    .argument(`<${spec.idName}>`, `${spec.singular} ${spec.idName}`)
    .option('--expected-revision <n>', 'fail with a conflict unless the stored revision is this one')
    .action(async (id: string, flags: { expectedRevision?: string }, c: Command) => {
      const ctx = session.ctx(c);
      await call(
        ctx,
        spec.rpc.delete,
        spec.requests.delete.fromPartial({
          [spec.requestIdKey]: id,
          ...(flags.expectedRevision !== undefined
            ? { expectedRevision: parseBigIntFlag(flags.expectedRevision, '--expected-revision') }
            : {}),
        }),
      );
      ctx.emit({ [spec.idKey]: id, deleted: true }, () => `deleted ${spec.singular} ${id}\n`);
    });
  return cmd;
}

function summaryText(s: ImportSummary | undefined, what: string): string {
  if (!s) return 'no summary returned\n';
  const head = s.dryRun ? `dry run (nothing applied): ${what}` : what;
  const counts = `${s.rowsRead} rows read, ${s.created} created, ${s.updated} updated, ${s.deleted} deleted`;
  if (s.errors.length === 0) return `${head}: ${counts}\n`;
  return `${head}: ${s.errors.length} line(s) rejected, nothing applied\n`;
}

function summaryJson(s: ImportSummary | undefined): Json {
  return {
    rowsRead: s?.rowsRead ?? 0,
    created: s?.created ?? 0,
    updated: s?.updated ?? 0,
    deleted: s?.deleted ?? 0,
    dryRun: s?.dryRun ?? false,
    errors: (s?.errors ?? []).map((e) => ({ line: e.line, message: e.message })),
  };
}

/** `<resource> import <file.csv>` for rates, prefixes and ported numbers. */
function importCommand(
  session: Session,
  parent: Command,
  kind: 'rates' | 'prefixes' | 'ported-numbers',
): void {
  const header = {
    rates: 'direction,party_id,destination_prefix,mcc_mnc,traffic_type,price,currency,valid_from,valid_until',
    prefixes: 'prefix,country_code,mcc,mnc,network_name',
    'ported-numbers': 'msisdn,mcc,mnc,ported_at',
  }[kind];
  const cmd = parent
    .command('import')
    .description(`import ${kind.replace('-', ' ')} from a CSV file (all or nothing)`)
    .argument('<file>', `CSV with the header line: ${header} ("-" = stdin)`)
    .option(
      '--replace-all',
      kind === 'rates'
        ? "delete the party's rates that are not in the file (needs --party)"
        : 'replace the whole table with the file',
    )
    .option('--dry-run', 'validate only, change nothing');
  if (kind === 'rates')
    cmd.option(
      '--party <id>',
      'with --replace-all: the account (sell) or connector (buy) whose deck is replaced',
    );
  cmd.addHelpText(
    'after',
    `\nExit code ${EXIT.DATA} when any line is rejected (then nothing is applied); the rejected lines go to stderr.\n`,
  );
  cmd.action(
    async (path: string, flags: { replaceAll?: boolean; dryRun?: boolean; party?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const csv = await readInput(ctx.io, path, 'CSV file');
      if (csv.length === 0) throw new CliError(`${path === '-' ? 'stdin' : path} is empty`, EXIT.DATA);
      if (kind === 'rates' && flags.replaceAll && !flags.party) {
        throw new CliError(
          '--replace-all needs --party (the account or connector whose rates are replaced)',
          EXIT.USAGE,
        );
      }
      const common = { csv, replaceAll: flags.replaceAll === true, dryRun: flags.dryRun === true };
      let res: Json;
      if (kind === 'rates')
        res = await call(
          ctx,
          'importRates',
          ImportRatesRequest.fromPartial({ ...common, partyId: flags.party ?? '' }),
        );
      else if (kind === 'prefixes')
        res = await call(ctx, 'importNumberPrefixes', ImportNumberPrefixesRequest.fromPartial(common));
      else res = await call(ctx, 'importPortedNumbers', ImportPortedNumbersRequest.fromPartial(common));
      const summary = res.summary as ImportSummary | undefined;
      ctx.emit({ summary: summaryJson(summary) }, () =>
        summaryText(summary, `import of ${path === '-' ? 'stdin' : path}`),
      );
      if (summary && summary.errors.length > 0) {
        if (ctx.format === 'table') for (const e of summary.errors) ctx.note(`line ${e.line}: ${e.message}`);
        throw new CliError(
          `${summary.errors.length} line(s) of ${path === '-' ? 'stdin' : path} rejected; nothing was applied`,
          EXIT.DATA,
        );
      }
    },
  );
}

function balanceJson(b: AccountBalance | undefined): unknown {
  return b ? AccountBalance.toJSON(b) : {};
}

function balanceTable(b: AccountBalance | undefined): string {
  if (!b) return 'no balance returned\n';
  return keyValueTable(AccountBalance.toJSON(b));
}

/** The account's currency (for amounts given without --currency). */
async function accountCurrency(ctx: Ctx, accountId: string, flag: string | undefined): Promise<string> {
  if (flag !== undefined) return parseCurrency(flag);
  const res = await ctx.rpc.unary('admin', 'getAccount', GetAccountRequest.fromPartial({ id: accountId }));
  const c = res.account?.currencyCode ?? '';
  if (c === '') throw new CliError(`account ${accountId} has no currency: pass --currency`, EXIT.USAGE);
  return c;
}

function moneyCommands(session: Session, program: Command): void {
  const balances = program
    .command('balances')
    .alias('balance')
    .description("accounts' balances and credit limits");
  balances
    .command('get')
    .description("show an account's balance, credit limit and what it may still spend")
    .argument('<account-id>')
    .action(async (accountId: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('admin', 'getBalance', GetBalanceRequest.fromPartial({ accountId }));
      ctx.emit(balanceJson(res.balance), () => balanceTable(res.balance));
    });
  balances
    .command('set-credit-limit')
    .description("set how far below zero a postpaid account's balance may go")
    .argument('<account-id>')
    .argument('<amount>', 'exact decimal, e.g. 250 or 99.50 (>= 0)')
    .option('--currency <code>', "currency (default: the account's)")
    .action(async (accountId: string, amount: string, flags: { currency?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const creditLimit = parseMoney(amount, await accountCurrency(ctx, accountId, flags.currency), 'amount');
      if (creditLimit.minorUnits < 0n)
        throw new CliError('the credit limit must not be negative', EXIT.USAGE);
      const res = await ctx.rpc.unary(
        'admin',
        'setCreditLimit',
        SetCreditLimitRequest.fromPartial({ accountId, creditLimit }),
      );
      ctx.emit(
        balanceJson(res.balance),
        () => `credit limit of ${accountId} set to ${formatMoney(creditLimit)}\n${balanceTable(res.balance)}`,
      );
    });

  const topUps = program
    .command('top-ups')
    .alias('topups')
    .description('credit accounts (payments, bonuses, corrections)');
  topUps
    .command('create')
    .description('credit an account (idempotent: retrying with the same --idempotency-key books it once)')
    .argument('<account-id>')
    .argument('<amount>', 'exact decimal; negative for a correction')
    .option('--currency <code>', "currency (default: the account's)")
    .option('--reference <text>', 'invoice or payment reference')
    .option('--idempotency-key <key>', 'reuse to retry safely (default: a new random key, printed)')
    .action(
      async (
        accountId: string,
        amount: string,
        flags: { currency?: string; reference?: string; idempotencyKey?: string },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const money = parseMoney(amount, await accountCurrency(ctx, accountId, flags.currency), 'amount');
        if (money.minorUnits === 0n) throw new CliError('the amount must not be zero', EXIT.USAGE);
        const key = flags.idempotencyKey ?? randomUUID();
        const res = await ctx.rpc.unary(
          'admin',
          'createTopUp',
          CreateTopUpRequest.fromPartial({
            accountId,
            amount: money,
            idempotencyKey: key,
            reference: flags.reference ?? '',
          }),
        );
        ctx.emit(
          { topUp: res.topUp ? TopUp.toJSON(res.topUp) : {}, balance: balanceJson(res.balance) },
          () =>
            `top-up ${res.topUp?.id ?? ''} of ${formatMoney(money)} booked for ${accountId} (idempotency key ${key})\n${balanceTable(res.balance)}`,
        );
      },
    );
  pageOptions(
    topUps
      .command('list')
      .alias('ls')
      .description("an account's top-ups, newest first")
      .argument('<account-id>')
      .option('--from <time>', 'created at or after (RFC 3339, date, -7d, ...)')
      .option('--to <time>', 'created before'),
  ).action(async (accountId: string, flags: PageFlags & { from?: string; to?: string }, c: Command) => {
    const ctx = session.ctx(c);
    const range = {
      ...(flags.from !== undefined ? { startTime: parseTime(flags.from, '--from', ctx.now()) } : {}),
      ...(flags.to !== undefined ? { endTime: parseTime(flags.to, '--to', ctx.now()) } : {}),
    };
    const { items, next } = await listPages(
      ctx,
      flags,
      'listTopUps',
      (page) => ListTopUpsRequest.fromPartial({ accountId, ...range, ...page }),
      'topUps',
    );
    printList(
      ctx,
      {
        listField: 'topUps',
        plural: 'top-ups',
        toJSON: (o) => TopUp.toJSON(o as TopUp),
        columns: [
          { header: 'ID', value: (r) => String(r.id ?? '') },
          { header: 'AMOUNT', value: (r) => formatMoney(TopUp.fromJSON(r).amount) },
          { header: 'REFERENCE', value: (r) => String(r.reference ?? '') },
          { header: 'BY', value: (r) => String(r.actor ?? '') },
          { header: 'AT', value: (r) => String(r.createdAt ?? '') },
        ],
      },
      items,
      next,
    );
  });
}

export function adminCommands(session: Session, program: Command): void {
  for (const spec of RESOURCES) {
    const cmd = resourceCommand(session, spec);
    if (spec.name === 'rates' || spec.name === 'prefixes' || spec.name === 'ported-numbers') {
      importCommand(session, cmd, spec.name);
    }
    if (spec.name === 'accounts') {
      allowedCidrsCommand(session, cmd);
      passwordOptions(
        cmd
          .command('set-password')
          .description(
            'set the SMPP password of one system_id of an account (asked for without echo on a terminal)',
          )
          .argument('<account-id>')
          .argument('<system-id>'),
        'the new password',
      ).action(
        async (
          accountId: string,
          systemId: string,
          flags: PasswordFlags & { askPassword?: boolean },
          c: Command,
        ) => {
          const ctx = session.ctx(c);
          const password = await readPassword(
            ctx.io,
            flags.askPassword ? {} : flags,
            `new SMPP password for ${systemId}`,
          );
          if (password.length > 8)
            throw new CliError('an SMPP password has at most 8 characters', EXIT.USAGE);
          const res = await ctx.rpc.unary(
            'admin',
            'setSmppPassword',
            SetSmppPasswordRequest.fromPartial({ accountId, systemId, password }),
          );
          ctx.emit(
            { accountId, systemId, revision: res.revision.toString() },
            () => `password of ${systemId} on account ${accountId} set (account revision ${res.revision})\n`,
          );
        },
      );
    }
    program.addCommand(cmd);
  }
  moneyCommands(session, program);
}
