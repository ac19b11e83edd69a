// Settlement over rating's SettlementService: totals, streamed CSV export, reconciliation.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import {
  CheckReconciliationRequest,
  CheckReconciliationResponse,
  ExportCsvRequest,
  GetTotalsRequest,
  GetTotalsResponse,
  SettlementParty,
  SettlementPeriod,
  type SettlementQuery,
} from '@smshub/contracts';
import { readInput, type Ctx, type Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { listTable } from '../output.js';
import { formatMoney, parseEnum, parseIntFlag, parseMonthOrDate } from '../values.js';

interface QueryFlags {
  party: string;
  id?: string;
  period: string;
  from: string;
  to: string;
  byDestination?: boolean;
}

function queryOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--party <party>', 'customer (sell side) or supplier (buy side)')
    .option('--id <party-id>', 'one account id or supplier id (default: all)')
    .option('--period <period>', 'day or month buckets (UTC)', 'day')
    .requiredOption(
      '--from <time>',
      'start, inclusive, aligned to the period (2026-11-01, or 2026-11 for a month)',
    )
    .requiredOption('--to <time>', 'end, exclusive (2026-12-01)')
    .option('--by-destination', 'split per destination country and network');
}

export function settlementQuery(f: QueryFlags): SettlementQuery {
  const startTime = parseMonthOrDate(f.from, '--from');
  const endTime = parseMonthOrDate(f.to, '--to');
  if (startTime >= endTime) throw new CliError('--from must be before --to', EXIT.USAGE);
  return {
    party: parseEnum(SettlementParty, 'SETTLEMENT_PARTY_', f.party, '--party'),
    partyId: f.id ?? '',
    period: parseEnum(SettlementPeriod, 'SETTLEMENT_PERIOD_', f.period, '--period'),
    startTime,
    endTime,
    byDestination: f.byDestination === true,
  };
}

/** Opens --file for writing; CliError(CANT_CREATE) if it cannot be created. */
function openOutput(path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const s = createWriteStream(path, { flags: 'w' });
    s.once('open', () => resolve(s));
    s.once('error', (err) =>
      reject(new CliError(`cannot write ${path}: ${err.message}`, EXIT.CANT_CREATE, { cause: err })),
    );
  });
}

function writeTo(s: WriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    s.write(chunk, (err) =>
      err ? reject(new CliError(`cannot write: ${err.message}`, EXIT.CANT_CREATE)) : resolve(),
    );
  });
}

async function exportCsv(ctx: Ctx, req: ExportCsvRequest, file: string | undefined): Promise<number> {
  let bytes = 0;
  if (file === undefined) {
    for await (const res of ctx.rpc.stream('settlement', 'exportCsv', req)) {
      ctx.io.stdout.write(res.chunk);
      bytes += res.chunk.length;
    }
    return bytes;
  }
  // Written to the file as the chunks arrive; a failed export leaves what arrived, and says so.
  const out = await openOutput(file);
  try {
    for await (const res of ctx.rpc.stream('settlement', 'exportCsv', req)) {
      await writeTo(out, res.chunk);
      bytes += res.chunk.length;
    }
  } catch (err) {
    if (err instanceof CliError) {
      throw new CliError(
        `${err.message} (${file} holds only the ${bytes} bytes received before)`,
        err.exitCode,
        { cause: err },
      );
    }
    throw err;
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return bytes;
}

export function settlementCommands(session: Session, program: Command): void {
  const settlement = program
    .command('settlement')
    .description("settlement figures from rated messages (rating's SettlementService)");

  queryOptions(
    settlement
      .command('totals')
      .description('messages, segments and amounts per party and period')
      .option('--limit <n>', 'rows per page (server default 1000, max 10000)')
      .option('--all', 'follow every page'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ hubctl settlement totals --party customer --period month --from 2026-10 --to 2026-12\n',
    )
    .action(async (flags: QueryFlags & { limit?: string; all?: boolean }, c: Command) => {
      const ctx = session.ctx(c);
      const query = settlementQuery(flags);
      const pageSize = flags.limit === undefined ? 0 : parseIntFlag(flags.limit, '--limit', 1, 10_000);
      const totals: GetTotalsResponse['totals'] = [];
      let pageToken = '';
      for (;;) {
        const res = await ctx.rpc.unary(
          'settlement',
          'getTotals',
          GetTotalsRequest.fromPartial({ query, pageSize, pageToken }),
        );
        totals.push(...res.totals);
        pageToken = res.nextPageToken;
        if (!flags.all || pageToken === '') break;
      }
      ctx.emit(
        { totals: [], ...(GetTotalsResponse.toJSON({ totals, nextPageToken: pageToken }) as object) },
        () =>
          listTable(
            totals,
            [
              { header: 'PARTY', value: (t) => t.partyId },
              {
                header: 'PERIOD',
                value: (t) =>
                  t.periodStart
                    ?.toISOString()
                    .slice(0, query.period === SettlementPeriod.SETTLEMENT_PERIOD_MONTH ? 7 : 10) ?? '',
              },
              ...(query.byDestination
                ? [
                    { header: 'COUNTRY', value: (t: (typeof totals)[number]) => t.destinationCountry },
                    { header: 'NETWORK', value: (t: (typeof totals)[number]) => t.destinationMccMnc },
                  ]
                : []),
              { header: 'MESSAGES', value: (t) => t.messages.toString() },
              { header: 'SEGMENTS', value: (t) => t.segments.toString() },
              { header: 'AMOUNT', value: (t) => formatMoney(t.amount) },
              { header: 'MARGIN', value: (t) => formatMoney(t.margin) },
            ],
            'rated traffic in this range',
          ),
      );
      if (pageToken && ctx.format === 'table') ctx.note('more rows: add --all');
    });

  queryOptions(
    settlement
      .command('export')
      .description('stream the totals (or one row per message) as CSV to stdout or --file')
      .option('--per-message', 'one row per rated message instead of totals')
      .option('--file <path>', 'write the CSV here instead of stdout'),
  )
    .addHelpText(
      'after',
      '\nThe CSV is written as it arrives (UTF-8, CRLF line ends, header first); --output does not apply.\n\nExample:\n  $ hubctl settlement export --party supplier --period month --from 2026-11 --to 2026-12 --per-message --file nov.csv\n',
    )
    .action(async (flags: QueryFlags & { perMessage?: boolean; file?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const query = settlementQuery(flags);
      const bytes = await exportCsv(
        ctx,
        ExportCsvRequest.fromPartial({ query, perMessage: flags.perMessage === true }),
        flags.file,
      );
      if (flags.file !== undefined) ctx.note(`wrote ${bytes} bytes to ${flags.file}`);
    });

  settlement
    .command('reconcile')
    .description("compare a supplier's invoice figures (CSV) with the hub's buy-side records")
    .requiredOption('--supplier <id>', 'supplier id')
    .option('--period <period>', 'day or month buckets of the figures', 'month')
    .requiredOption('--from <time>', 'start, inclusive, aligned to the period')
    .requiredOption('--to <time>', 'end, exclusive')
    .option(
      '--csv <file>',
      "the supplier's figures: period_start,mcc_mnc,messages,amount,currency (without it: the hub's records against billing.rated.v1)",
    )
    .option('--tolerance-ppm <n>', 'tolerated relative amount difference in parts per million', '0')
    .addHelpText('after', `\nExit code ${EXIT.DATA} when any bucket does not match.\n`)
    .action(
      async (
        flags: {
          supplier: string;
          period: string;
          from: string;
          to: string;
          csv?: string;
          tolerancePpm: string;
        },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const csv =
          flags.csv === undefined ? Buffer.alloc(0) : await readInput(ctx.io, flags.csv, 'CSV file');
        const res = await ctx.rpc.unary(
          'settlement',
          'checkReconciliation',
          CheckReconciliationRequest.fromPartial({
            supplierId: flags.supplier,
            period: parseEnum(SettlementPeriod, 'SETTLEMENT_PERIOD_', flags.period, '--period'),
            startTime: parseMonthOrDate(flags.from, '--from'),
            endTime: parseMonthOrDate(flags.to, '--to'),
            csv,
            tolerancePpm: parseIntFlag(flags.tolerancePpm, '--tolerance-ppm', 0, 1_000_000),
          }),
        );
        ctx.emit(
          { lines: [], ...(CheckReconciliationResponse.toJSON(res) as object), allMatched: res.allMatched },
          () =>
            listTable(
              res.lines,
              [
                { header: 'PERIOD', value: (l) => l.periodStart?.toISOString().slice(0, 10) ?? '' },
                { header: 'NETWORK', value: (l) => l.destinationMccMnc },
                { header: 'HUB MSGS', value: (l) => l.hubMessages.toString() },
                { header: 'SUPPLIER MSGS', value: (l) => l.supplierMessages.toString() },
                { header: 'HUB AMOUNT', value: (l) => formatMoney(l.hubAmount) },
                { header: 'SUPPLIER AMOUNT', value: (l) => formatMoney(l.supplierAmount) },
                { header: 'DIFFERENCE', value: (l) => formatMoney(l.difference) },
                { header: 'OK', value: (l) => (l.matched ? 'yes' : 'NO') },
              ],
              'buckets on either side',
            ) + (res.allMatched ? 'all buckets match\n' : ''),
        );
        if (!res.allMatched)
          throw new CliError('the figures do not match (see the lines marked NO)', EXIT.DATA);
      },
    );
}
