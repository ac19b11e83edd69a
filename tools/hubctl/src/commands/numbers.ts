// Hub numbers for inbound messages (MO): long codes and short codes (with optional keywords) assigned to
// accounts for a validity period. An MO to a number assigned to nobody goes to the inbound stage's default
// account, or is dropped and counted (smshub_inbound_dropped_total{reason="unassigned_number"}).
import { Command, Option } from 'commander';
import {
  CreateNumberRequest,
  DeleteNumberRequest,
  GetNumberRequest,
  HubNumber,
  HubNumberKind,
  ListNumbersRequest,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { keyValueTable } from '../output.js';
import { listPages, pageOptions, printList, type PageFlags } from './admin.js';

/** An RFC 3339 time (or a date) -> Date; a usage error otherwise. */
function time(flag: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new CliError(`${flag}: not a date/time (e.g. 2027-01-01T00:00:00Z)`, EXIT.USAGE);
  return d;
}

export function numberCommands(session: Session, program: Command): void {
  const cmd = program
    .command('numbers')
    .description(
      'hub numbers (long codes, short codes with keywords) that receive inbound messages for an account',
    );

  cmd
    .command('add')
    .description('assign a number to an account')
    .argument('<number>', 'E.164 long code (+447700900555) or short code (12345)')
    .requiredOption('--account <id>', 'the account that receives its MO')
    .addOption(
      new Option('--kind <kind>', 'long or short (default: short for 3-8 digits, else long)').choices([
        'long',
        'short',
      ]),
    )
    .option(
      '--keywords <list>',
      'short codes: comma-separated first words that choose this account (e.g. PIZZA,FOOD)',
    )
    .option('--from <time>', 'start of the assignment (default now)')
    .option('--until <time>', 'end of the assignment (default open-ended)')
    .action(
      async (
        number: string,
        flags: { account: string; kind?: 'long' | 'short'; keywords?: string; from?: string; until?: string },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const digits = number.replace(/^\+/, '');
        const kind =
          flags.kind ?? (/^[0-9]{3,8}$/.test(digits) && !number.startsWith('+') ? 'short' : 'long');
        const validFrom = time('--from', flags.from);
        const validTo = time('--until', flags.until);
        const res = await ctx.rpc.unary(
          'admin',
          'createNumber',
          CreateNumberRequest.fromPartial({
            number: {
              number,
              kind:
                kind === 'short'
                  ? HubNumberKind.HUB_NUMBER_KIND_SHORT_CODE
                  : HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
              accountId: flags.account,
              keywords: (flags.keywords ?? '')
                .split(',')
                .map((k) => k.trim())
                .filter((k) => k !== ''),
              ...(validFrom ? { validFrom } : {}),
              ...(validTo ? { validTo } : {}),
            },
          }),
        );
        const n = res.number ? HubNumber.toJSON(res.number) : {};
        ctx.emit({ number: n }, () => keyValueTable(n as Record<string, unknown>));
      },
    );

  cmd
    .command('get')
    .description('one number assignment')
    .argument('<id>', 'assignment id (num_...)')
    .action(async (id: string, _flags: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('admin', 'getNumber', GetNumberRequest.fromPartial({ id }));
      const n = res.number ? HubNumber.toJSON(res.number) : {};
      ctx.emit({ number: n }, () => keyValueTable(n as Record<string, unknown>));
    });

  pageOptions(
    cmd
      .command('list')
      .alias('ls')
      .description('number assignments')
      .option('--account <id>', "only this account's")
      .option('--number <number>', 'only this number'),
  ).action(async (flags: PageFlags & { account?: string; number?: string }, c: Command) => {
    const ctx = session.ctx(c);
    const { items, next } = await listPages(
      ctx,
      flags,
      'listNumbers',
      (page) =>
        ListNumbersRequest.fromPartial({
          accountId: flags.account ?? '',
          number: flags.number ?? '',
          ...page,
        }),
      'numbers',
    );
    printList(
      ctx,
      {
        listField: 'numbers',
        plural: 'numbers',
        toJSON: (o) => HubNumber.toJSON(o as HubNumber),
        columns: [
          { header: 'ID', value: (r) => String(r.id ?? '') },
          { header: 'NUMBER', value: (r) => String(r.number ?? '') },
          { header: 'KIND', value: (r) => String(r.kind ?? '').replace('HUB_NUMBER_KIND_', '') },
          { header: 'ACCOUNT', value: (r) => String(r.accountId ?? '') },
          { header: 'KEYWORDS', value: (r) => ((r.keywords as string[] | undefined) ?? []).join(',') },
          { header: 'FROM', value: (r) => String(r.validFrom ?? '') },
          { header: 'UNTIL', value: (r) => String(r.validTo ?? '') || '(open)' },
        ],
      },
      items,
      next,
    );
  });

  cmd
    .command('remove')
    .alias('rm')
    .description('remove a number assignment (its MO then go to the default account, or are dropped)')
    .argument('<id>', 'assignment id (num_...)')
    .action(async (id: string, _flags: unknown, c: Command) => {
      const ctx = session.ctx(c);
      await ctx.rpc.unary('admin', 'deleteNumber', DeleteNumberRequest.fromPartial({ id }));
      ctx.emit({ removed: id }, () => `removed ${id}\n`);
    });
}
