// Dead letters: the records a consumer group could not process (`<group>.dlq`), listed per group and
// replayed into that group only (admin's DeadLetterService; docs/architecture.md "Dead letters").
// Admin or operations.
import { Command } from 'commander';
import {
  ListDeadLetterGroupsRequest,
  ListDeadLetterGroupsResponse,
  ListDeadLettersRequest,
  ListDeadLettersResponse,
  ReplayDeadLettersRequest,
  ReplayDeadLettersResponse,
  type DeadLetterEntry,
  type DeadLetterGroup,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { listTable } from '../output.js';
import { parseBigIntFlag, parseIntFlag } from '../values.js';

const time = (d: Date | undefined): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/** The groups table (pure). */
export function groupsTable(groups: readonly DeadLetterGroup[]): string {
  return listTable(
    groups,
    [
      { header: 'GROUP', value: (g) => g.group },
      { header: 'COUNT', value: (g) => String(g.count) },
      { header: 'REPLAYED', value: (g) => String(g.replayed) },
      { header: 'OLDEST', value: (g) => time(g.oldestTime) },
      { header: 'NEWEST', value: (g) => time(g.newestTime) },
      { header: 'OFFSETS', value: (g) => (g.count > 0n ? `${g.startOffset}..${g.endOffset - 1n}` : '') },
    ],
    'dead letters',
  );
}

/** The dead letters table (pure): where each came from and why it failed; never the message body. */
export function lettersTable(letters: readonly DeadLetterEntry[]): string {
  return listTable(
    letters,
    [
      { header: 'OFFSET', value: (d) => String(d.offset) },
      { header: 'FAILED AT', value: (d) => time(d.failedAt) },
      {
        header: 'SOURCE',
        value: (d) => `${d.sourceTopic}/${d.sourcePartition}@${d.sourceOffset < 0n ? '?' : d.sourceOffset}`,
      },
      {
        header: 'ERROR',
        value: (d) => [d.errorType, d.errorMessage].filter(Boolean).join(': ').slice(0, 80),
      },
      { header: 'ATTEMPTS', value: (d) => String(d.attempts) },
      { header: 'MESSAGE ID', value: (d) => d.messageId || (d.decodable ? '' : `(undecodable) ${d.key}`) },
      { header: 'SIZE', value: (d) => String(d.size) },
      { header: 'REPLAYED', value: (d) => (d.replayedAt ? `${time(d.replayedAt)} ${d.replayedBy}` : '') },
    ],
    'dead letters',
  );
}

export function deadLetterCommands(session: Session, program: Command): void {
  const cmd = program
    .command('dead-letters')
    .description(
      'records consumer groups could not process (<group>.dlq): list them, replay them into the group that failed them',
    );

  cmd
    .command('groups')
    .description(
      'every consumer group holding dead letters: count, how many were replayed, oldest and newest',
    )
    .option('--all', 'also groups whose dead-letter topic is empty')
    .action(async (f: { all?: boolean }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'listDeadLetterGroups',
        ListDeadLetterGroupsRequest.fromPartial({ includeEmpty: f.all === true }),
      );
      ctx.emit(ListDeadLetterGroupsResponse.toJSON(res), () => groupsTable(res.groups));
    });

  cmd
    .command('list')
    .description("a group's dead letters, newest first (or oldest first with --from)")
    .argument('<group>', 'consumer group (the topic name without .dlq)')
    .option('--limit <n>', 'page size, 1..500', '50')
    .option('--before <offset>', 'newest first, below this offset (the next page of a listing)')
    .option('--from <offset>', 'oldest first, from this offset')
    .action(async (group: string, f: { limit: string; before?: string; from?: string }, c: Command) => {
      const ctx = session.ctx(c);
      if (f.before !== undefined && f.from !== undefined)
        throw new CliError('--before and --from exclude each other', EXIT.USAGE);
      const res = await ctx.rpc.unary(
        'admin',
        'listDeadLetters',
        ListDeadLettersRequest.fromPartial({
          group,
          pageSize: parseIntFlag(f.limit, '--limit', 1, 500),
          beforeOffset: f.before !== undefined ? parseBigIntFlag(f.before, '--before') : 0n,
          oldestFirst: f.from !== undefined,
          fromOffset: f.from !== undefined ? parseBigIntFlag(f.from, '--from') : 0n,
        }),
      );
      ctx.emit(ListDeadLettersResponse.toJSON(res), () => {
        const more =
          res.nextOffset >= 0n
            ? `more: ${f.from !== undefined ? '--from' : '--before'} ${res.nextOffset}\n`
            : '';
        return `${lettersTable(res.deadLetters)}${more}`;
      });
    });

  cmd
    .command('replay')
    .description(
      'replay dead letters into the group that failed them (only that group sees them again); once each unless --force',
    )
    .argument('<group>', 'consumer group')
    .argument('[offsets...]', 'dead-letter offsets (from `dead-letters list`)')
    .option('--all', 'every dead letter the group holds')
    .option('--up-to <offset>', 'every dead letter from the oldest up to and including this offset')
    .option('--force', 'replay dead letters that were replayed before too')
    .action(
      async (
        group: string,
        offsets: string[],
        f: { all?: boolean; upTo?: string; force?: boolean },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const ways = [offsets.length > 0, f.all === true, f.upTo !== undefined].filter(Boolean).length;
        if (ways !== 1) throw new CliError('give offsets, --all or --up-to (one of them)', EXIT.USAGE);
        const res = await ctx.rpc.unary(
          'admin',
          'replayDeadLetters',
          ReplayDeadLettersRequest.fromPartial({
            group,
            offsets: offsets.map((o) => parseBigIntFlag(o, 'offset')),
            ...(f.all ? { upToOffset: -1n } : {}),
            ...(f.upTo !== undefined ? { upToOffset: parseBigIntFlag(f.upTo, '--up-to') } : {}),
            force: f.force === true,
          }),
        );
        ctx.emit(ReplayDeadLettersResponse.toJSON(res), () => {
          const lines = [`replayed ${res.replayed} dead letters of ${group} (to ${res.replayTopic})`];
          if (res.alreadyReplayedCount > 0n)
            lines.push(
              `skipped ${res.alreadyReplayedCount} replayed before (--force replays them again): ${res.alreadyReplayed.join(' ')}`,
            );
          if (res.missing.length > 0)
            lines.push(`not held (retention, or no such offset): ${res.missing.join(' ')}`);
          if (res.unreplayable.length > 0)
            lines.push(`cannot be replayed (no source topic): ${res.unreplayable.join(' ')}`);
          return `${lines.join('\n')}\n`;
        });
      },
    );
}
