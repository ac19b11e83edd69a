// Quiet hours: when a destination country (or one account's traffic to it) may be sent to, in the
// recipient's local time. Outside the windows routing holds a message until the next one opens (EXPIRED
// when its validity ends first). Admin or operations.
import { Command } from 'commander';
import {
  DeleteQuietHoursRequest,
  ListQuietHoursRequest,
  QuietHours,
  SetQuietHoursRequest,
  type TimeWindow,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { keyValueTable } from '../output.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * "Europe/London mon,tue,wed,thu,fri 08:00-21:00,22:00-23:00": the zone, then optional days and optional
 * HH:MM-HH:MM ranges (no days = every day, no ranges = the whole day).
 */
export function parseWindow(s: string): TimeWindow {
  const [zone, ...rest] = s.trim().split(/\s+/);
  if (!zone) throw new CliError('--window: empty', EXIT.USAGE);
  const w: TimeWindow = { timeZone: zone, days: [], ranges: [] };
  for (const t of rest) {
    if (/\d/.test(t)) {
      for (const r of t.split(',')) {
        const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(r);
        if (!m) throw new CliError(`--window: range ${JSON.stringify(r)} is not HH:MM-HH:MM`, EXIT.USAGE);
        w.ranges.push({ from: m[1]!, to: m[2]! });
      }
    } else w.days.push(...t.toLowerCase().split(','));
  }
  return w;
}

export function quietHoursCommands(session: Session, program: Command): void {
  const cmd = program
    .command('quiet-hours')
    .description(
      "when a country may be sent to, in the recipient's time zone; outside it messages are held until the window",
    );

  cmd
    .command('set')
    .description("create or replace the quiet hours of a country (or of --account's traffic to it)")
    .argument('<country>', 'ISO 3166-1 alpha-2 destination country, e.g. GB')
    .option('--account <id>', "only this account's traffic (overrides the country's entry)")
    .requiredOption(
      '--window <spec>',
      'allowed window "ZONE [days] [HH:MM-HH:MM,...]", e.g. "Europe/London mon,tue,wed,thu,fri 08:00-21:00" (repeat)',
      collect,
      [],
    )
    .action(async (country: string, f: { account?: string; window: string[] }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'setQuietHours',
        SetQuietHoursRequest.fromPartial({
          quietHours: {
            country: country.toUpperCase(),
            accountId: f.account ?? '',
            allowed: f.window.map(parseWindow),
          },
        }),
      );
      const q = res.quietHours ? QuietHours.toJSON(res.quietHours) : {};
      ctx.emit({ quietHours: q }, () => keyValueTable(q as Record<string, unknown>));
    });

  cmd
    .command('list')
    .alias('ls')
    .description('the stored quiet hours')
    .option('--country <CC>', 'only this country')
    .option('--account <id>', "only the entries that apply to this account (its own and the countries')")
    .action(async (f: { country?: string; account?: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'listQuietHours',
        ListQuietHoursRequest.fromPartial({
          country: f.country?.toUpperCase() ?? '',
          accountId: f.account ?? '',
        }),
      );
      const rows = res.quietHours.map((q) => QuietHours.toJSON(q) as Record<string, unknown>);
      ctx.emit({ quietHours: rows }, () =>
        rows.length === 0 ? 'no quiet hours\n' : rows.map((r) => keyValueTable(r)).join('\n'),
      );
    });

  cmd
    .command('delete')
    .alias('rm')
    .description("remove the quiet hours of a country (or of --account's traffic to it)")
    .argument('<country>')
    .option('--account <id>', "the account's entry (default: the country's)")
    .action(async (country: string, f: { account?: string }, c: Command) => {
      const ctx = session.ctx(c);
      await ctx.rpc.unary(
        'admin',
        'deleteQuietHours',
        DeleteQuietHoursRequest.fromPartial({ country: country.toUpperCase(), accountId: f.account ?? '' }),
      );
      ctx.emit({}, () => 'deleted\n');
    });
}
