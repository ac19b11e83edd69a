// Opt-out lists: subscribers who asked an account to stop sending (by keyword, import or this CLI).
// Routing rejects a later MT of the account to such a number with REJECTD err 017. Admin or operations.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  AddOptOutRequest,
  DeleteOptOutKeywordsRequest,
  ExportOptOutsRequest,
  ImportOptOutsRequest,
  ListOptOutKeywordsRequest,
  ListOptOutsRequest,
  OptOut,
  OptOutKeywordSet,
  OptOutScope,
  RemoveOptOutRequest,
  SetOptOutKeywordsRequest,
} from '@smshub/contracts';
import { readInput, type Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { keyValueTable } from '../output.js';
import { listPages, pageOptions, printList, type PageFlags } from './admin.js';

const IMPORT_HEADER = 'msisdn[,scope_number][,keyword][,created_at]';

const list = (v: string | undefined): string[] =>
  v === undefined || v.trim() === '' ? [] : v.split(',').map((s) => s.trim());

export function optOutCommands(session: Session, program: Command): void {
  const cmd = program
    .command('opt-outs')
    .description(
      "subscribers opted out of an account's messages (STOP); a later MT to them is rejected (err 017)",
    );

  cmd
    .command('add')
    .description('opt a subscriber out of an account (of one hub number with --number, else account-wide)')
    .argument('<account-id>')
    .argument('<msisdn>', 'E.164 number, e.g. +447700900123')
    .option('--number <hub-number>', 'only messages from this hub number (long number or short code)')
    .action(async (accountId: string, msisdn: string, flags: { number?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'addOptOut',
        AddOptOutRequest.fromPartial({
          optOut: { accountId, msisdn, scopeNumber: flags.number ?? '' },
        }),
      );
      const o = res.optOut ? OptOut.toJSON(res.optOut) : {};
      ctx.emit({ optOut: o, added: res.added }, () =>
        res.added ? keyValueTable(o) : `${msisdn} was already opted out (nothing changed)\n`,
      );
    });

  cmd
    .command('remove')
    .alias('rm')
    .description("remove a subscriber's opt-out (the account-wide one, --number's, or --all-scopes)")
    .argument('<account-id>')
    .argument('<msisdn>')
    .option('--number <hub-number>', 'the opt-out of this hub number')
    .option('--all-scopes', 'every opt-out of the number in the account')
    .action(
      async (
        accountId: string,
        msisdn: string,
        flags: { number?: string; allScopes?: boolean },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const res = await ctx.rpc.unary(
          'admin',
          'removeOptOut',
          RemoveOptOutRequest.fromPartial({
            accountId,
            msisdn,
            scopeNumber: flags.number ?? '',
            allScopes: flags.allScopes === true,
          }),
        );
        ctx.emit({ removed: res.removed }, () => `removed ${res.removed} opt-out(s)\n`);
        if (res.removed === 0) throw new CliError(`no such opt-out of ${msisdn}`, EXIT.FAILURE);
      },
    );

  pageOptions(
    cmd
      .command('list')
      .alias('ls')
      .description("an account's opt-outs")
      .argument('<account-id>')
      .option('--msisdn <number>', 'only this subscriber'),
  ).action(async (accountId: string, flags: PageFlags & { msisdn?: string }, c: Command) => {
    const ctx = session.ctx(c);
    const { items, next } = await listPages(
      ctx,
      flags,
      'listOptOuts',
      (page) => ListOptOutsRequest.fromPartial({ accountId, msisdn: flags.msisdn ?? '', ...page }),
      'optOuts',
    );
    printList(
      ctx,
      {
        listField: 'optOuts',
        plural: 'opt-outs',
        toJSON: (o) => OptOut.toJSON(o as OptOut),
        columns: [
          { header: 'MSISDN', value: (r) => `+${String(r.msisdn ?? '')}` },
          { header: 'HUB NUMBER', value: (r) => String(r.scopeNumber ?? '') || '(account-wide)' },
          { header: 'SOURCE', value: (r) => String(r.source ?? '').replace('OPT_OUT_SOURCE_', '') },
          { header: 'KEYWORD', value: (r) => String(r.keyword ?? '') },
          { header: 'CREATED', value: (r) => String(r.createTime ?? '') },
          { header: 'BY', value: (r) => String(r.actor ?? '') },
        ],
      },
      items,
      next,
    );
  });

  cmd
    .command('import')
    .description('import opt-outs from CSV into an account (all or nothing)')
    .argument('<account-id>')
    .argument('<file>', `CSV with a header line: ${IMPORT_HEADER} ("-" = stdin); an export reads back`)
    .option('--replace-all', "the account's list becomes exactly the file")
    .option('--dry-run', 'validate and count only')
    .addHelpText(
      'after',
      `\nA bad line refuses the whole file (exit ${EXIT.DATA}); the error names every bad line by number.\n`,
    )
    .action(
      async (
        accountId: string,
        path: string,
        flags: { replaceAll?: boolean; dryRun?: boolean },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const csv = await readInput(ctx.io, path, 'CSV file');
        if (csv.length === 0) throw new CliError(`${path === '-' ? 'stdin' : path} is empty`, EXIT.DATA);
        const res = await ctx.rpc.unary(
          'admin',
          'importOptOuts',
          ImportOptOutsRequest.fromPartial({
            accountId,
            csv,
            replaceAll: flags.replaceAll === true,
            dryRun: flags.dryRun === true,
          }),
        );
        ctx.emit(
          { ...res, dryRun: flags.dryRun === true },
          () =>
            `${flags.dryRun ? 'dry run (nothing changed): ' : ''}${res.lines} line(s): ${res.added} added, ` +
            `${res.unchanged} already there, ${res.removed} removed\n`,
        );
      },
    );

  cmd
    .command('export')
    .description("an account's opt-outs as CSV (to stdout or --file); import reads it back")
    .argument('<account-id>')
    .option('--file <path>', 'write the CSV here instead of stdout')
    .action(async (accountId: string, flags: { file?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'exportOptOuts',
        ExportOptOutsRequest.fromPartial({ accountId }),
      );
      if (flags.file === undefined) {
        ctx.io.stdout.write(res.csv);
        return;
      }
      try {
        writeFileSync(flags.file, res.csv);
      } catch (err) {
        throw new CliError(`cannot write ${flags.file}: ${(err as Error).message}`, EXIT.CANT_CREATE, {
          cause: err,
        });
      }
      ctx.note(`wrote ${res.count} opt-out(s) to ${flags.file}`);
    });

  const kw = cmd
    .command('keywords')
    .description('STOP/START/HELP keywords and replies per account (or all) and country/language');
  kw.command('list')
    .description('the stored keyword sets and the built-in defaults')
    .option('--account <id>', "this account's sets and the global ones")
    .action(async (flags: { account?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'listOptOutKeywords',
        ListOptOutKeywordsRequest.fromPartial({ accountId: flags.account ?? '' }),
      );
      const sets = res.keywordSets.map((s) => OptOutKeywordSet.toJSON(s) as Record<string, unknown>);
      const defaults = res.defaults ? OptOutKeywordSet.toJSON(res.defaults) : {};
      ctx.emit({ keywordSets: sets, defaults }, () =>
        [...sets.map((s) => keyValueTable(s)), `defaults:\n${keyValueTable(defaults)}`].join('\n'),
      );
    });
  kw.command('set')
    .description(
      'create or replace the set of (--account, --country, --language); empty lists keep the defaults',
    )
    .option('--account <id>', 'account (default: every account)')
    .option('--country <CC>', 'ISO country of the subscriber (default: any)')
    .option('--language <tag>', 'language of the keywords and replies, e.g. fr')
    .option('--stop <words>', 'comma-separated STOP keywords')
    .option('--stop-all <words>', 'comma-separated keywords that opt out of the whole account')
    .option('--start <words>', 'comma-separated START keywords')
    .option('--help-words <words>', 'comma-separated HELP keywords')
    .option('--help-reply <text>', 'auto-reply to HELP (default: the built-in text)')
    .option('--stop-reply <text>', 'confirmation after STOP (empty: none)')
    .option('--start-reply <text>', 'confirmation after START (empty: none)')
    .addOption(
      new Option('--scope <scope>', 'what a STOP opts out of')
        .choices(['number', 'account'])
        .default('number'),
    )
    .action(async (f: Record<string, string | undefined>, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'setOptOutKeywords',
        SetOptOutKeywordsRequest.fromPartial({
          keywordSet: {
            accountId: f.account ?? '',
            country: f.country ?? '',
            language: f.language ?? '',
            stopKeywords: list(f.stop),
            stopAllKeywords: list(f.stopAll),
            startKeywords: list(f.start),
            helpKeywords: list(f.helpWords),
            helpReply: f.helpReply ?? '',
            stopReply: f.stopReply ?? '',
            startReply: f.startReply ?? '',
            scope:
              f.scope === 'account' ? OptOutScope.OPT_OUT_SCOPE_ACCOUNT : OptOutScope.OPT_OUT_SCOPE_NUMBER,
          },
        }),
      );
      const s = res.keywordSet ? OptOutKeywordSet.toJSON(res.keywordSet) : {};
      ctx.emit({ keywordSet: s }, () => keyValueTable(s));
    });
  kw.command('delete')
    .description('remove the set of (--account, --country, --language)')
    .option('--account <id>', 'account (default: the global set)')
    .option('--country <CC>', 'country (default: any)')
    .option('--language <tag>', 'language')
    .action(async (f: { account?: string; country?: string; language?: string }, c: Command) => {
      const ctx = session.ctx(c);
      await ctx.rpc.unary(
        'admin',
        'deleteOptOutKeywords',
        DeleteOptOutKeywordsRequest.fromPartial({
          accountId: f.account ?? '',
          country: f.country ?? '',
          language: f.language ?? '',
        }),
      );
      ctx.emit({}, () => 'deleted\n');
    });
}
