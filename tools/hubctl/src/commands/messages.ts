// Message lookup over dlr's MessageService: one message with its timeline, and filtered lists.
import type { Command } from 'commander';
import {
  DeliveryStatus,
  DispatchOutcome,
  HoldReason,
  GetMessageRequest,
  GetMessageResponse,
  ListMessagesRequest,
  ListMessagesResponse,
  MessageState,
  type MessageSummary,
  type TimelineEvent,
} from '@smshub/contracts';
import Table from 'cli-table3';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { keyValueTable, listTable } from '../output.js';
import {
  enumLabel,
  formatMoney,
  parseDuration,
  parseEnum,
  parseIntFlag,
  parseTime,
  splitList,
} from '../values.js';

/** Which service produced each kind of timeline event. */
export const EVENT_SERVICE: Record<NonNullable<TimelineEvent['event']>['$case'], string> = {
  submitted: 'ingress',
  routed: 'routing',
  rejected: 'routing',
  dispatched: 'egress',
  receipt: 'egress',
  delivery: 'dlr',
  rated: 'rating',
  inbound: 'inbound',
  held: 'routing/ingress',
  released: 'scheduler',
  rerouted: 'dlr',
};

const status = (s: DeliveryStatus): string =>
  enumLabel(DeliveryStatus, 'DELIVERY_STATUS_', s).toUpperCase() || 'UNKNOWN';

/** What happened in one timeline event, in a few words. */
export function describeEvent(e: TimelineEvent): { what: string; detail: string } {
  const ev = e.event;
  if (!ev) return { what: 'unknown', detail: `event on ${e.topic}` };
  switch (ev.$case) {
    case 'submitted': {
      const m = ev.value;
      return {
        what: 'submitted',
        detail: `${m.source?.address ?? ''} -> ${m.destination?.address ?? ''}, account ${m.accountId}${m.systemId ? ` (${m.systemId})` : ''}, ${m.shortMessage.length} octets`,
      };
    }
    case 'routed': {
      const r = ev.value;
      const to = r.candidates.map((c) => c.connectorId).join(', ');
      const net = r.destinationInfo
        ? `${r.destinationInfo.countryCode} ${r.destinationInfo.mcc}-${r.destinationInfo.mnc}`.trim()
        : '';
      const first = r.candidates[0];
      return {
        what: 'routed',
        detail: `to ${to || '(none)'}${net ? `, network ${net}` : ''}${first?.reason ? `: ${first.reason}` : ''}`,
      };
    }
    case 'rejected': {
      const r = ev.value;
      return {
        what: 'rejected',
        detail: `${r.reason}${r.ruleId ? ` (rule ${r.ruleId})` : ''}${r.error ? `; customer sees ${r.error.code} err ${r.error.receiptError}` : ''}`,
      };
    }
    case 'dispatched': {
      const d = ev.value;
      const outcome = enumLabel(DispatchOutcome, 'DISPATCH_OUTCOME_', d.outcome).toUpperCase() || 'UNKNOWN';
      const part = d.partTotal > 1 ? ` part ${d.partNumber}/${d.partTotal}` : '';
      const status = d.commandStatus ? ` status 0x${d.commandStatus.toString(16).padStart(8, '0')}` : '';
      return {
        what: `dispatch ${outcome.toLowerCase()}`,
        detail: `attempt ${d.attempt}${part} via ${d.connectorId}${d.supplierMessageId ? `, supplier id ${d.supplierMessageId}` : ''}${status}${d.finalFailure ? ', final failure' : ''}${d.errorDetail ? `: ${d.errorDetail}` : ''}`,
      };
    }
    case 'receipt': {
      const r = ev.value;
      const stat = r.parsed?.stat || enumLabel(MessageState, 'MESSAGE_STATE_', r.messageState).toUpperCase();
      return {
        what: 'receipt',
        detail: `${stat || 'no state'}${r.parsed?.err ? ` err ${r.parsed.err}` : ''} from ${r.connectorId}${r.supplierMessageIdNormalised ? ` (supplier id ${r.supplierMessageIdNormalised})` : ''}`,
      };
    }
    case 'delivery': {
      const d = ev.value;
      return {
        what: `${d.final ? 'final' : 'status'} ${status(d.status)}`,
        detail: `revision ${d.revision}${d.error ? `, ${d.error.code} err ${String(d.error.receiptError).padStart(3, '0')}` : ''}${d.segments ? `, ${d.segments} segment(s)` : ''}`,
      };
    }
    case 'rated': {
      const r = ev.value;
      return {
        what: 'rated',
        detail: `sell ${formatMoney(r.sell)}, buy ${formatMoney(r.buy)}, ${r.segments} segment(s)`,
      };
    }
    case 'held': {
      const m = ev.value;
      const reason = enumLabel(HoldReason, 'HOLD_REASON_', m.holdReason).toLowerCase().replace(/_/g, ' ');
      return {
        what: 'held',
        detail: `until ${m.holdUntil?.toISOString() ?? '?'}${reason ? ` (${reason})` : ''}`,
      };
    }
    case 'released':
      return { what: 'released', detail: `by the scheduler at ${ev.value.releasedAt?.toISOString() ?? '?'}` };
    case 'rerouted': {
      const r = ev.value;
      const to =
        r.routed?.candidates
          .slice(r.fromCandidate)
          .map((c) => c.connectorId)
          .join(', ') ?? '';
      return {
        what: 're-routed',
        detail: `attempt ${r.attempt} to ${to || '(none)'}: ${r.reason}`,
      };
    }
    case 'inbound': {
      const m = ev.value;
      return {
        what: 'inbound (MO)',
        detail: `${m.source?.address ?? ''} -> ${m.destination?.address ?? ''}, account ${m.accountId}${m.keyword ? ` (keyword ${m.keyword})` : ''}${m.defaultAccount ? ' (default account)' : ''}, ${m.parts} part(s) via ${m.connectorId}`,
      };
    }
  }
}

/** The timeline as a table: time, service, event, detail. */
export function timelineTable(events: readonly TimelineEvent[]): string {
  if (events.length === 0) return 'no events recorded\n';
  const t = new Table({
    head: ['TIME', 'SERVICE', 'EVENT', 'DETAIL'],
    style: { head: [], border: [], compact: true },
    wordWrap: true,
    colWidths: [null, null, null, 70] as unknown as number[],
  });
  for (const e of events) {
    const { what, detail } = describeEvent(e);
    t.push([e.time ? e.time.toISOString() : '', e.event ? EVENT_SERVICE[e.event.$case] : '', what, detail]);
  }
  return `${t.toString()}\n`;
}

function summaryRows(m: MessageSummary | undefined): Record<string, string> {
  const c = m?.context;
  return {
    message_id: c?.messageId ?? '',
    customer_message_id: c?.customerMessageId ?? '',
    account: `${c?.accountId ?? ''}${c?.systemId ? ` (${c.systemId})` : ''}`,
    from: c?.source?.address ?? '',
    to: c?.destination?.address ?? '',
    received_at: c?.receivedAt?.toISOString() ?? '',
    status: m ? `${status(m.status)}${m.final ? ' (final)' : ''}` : '',
    done_at: m?.doneAt?.toISOString() ?? '',
    connector: m?.connectorId ?? '',
    segments: m ? String(m.segments) : '',
  };
}

const SUMMARY_COLUMNS = [
  { header: 'MESSAGE ID', value: (m: MessageSummary) => m.context?.messageId ?? '' },
  { header: 'RECEIVED', value: (m: MessageSummary) => m.context?.receivedAt?.toISOString() ?? '' },
  { header: 'TO', value: (m: MessageSummary) => m.context?.destination?.address ?? '' },
  { header: 'STATUS', value: (m: MessageSummary) => `${status(m.status)}${m.final ? '' : ' …'}` },
  { header: 'CONNECTOR', value: (m: MessageSummary) => m.connectorId },
  { header: 'SEG', value: (m: MessageSummary) => String(m.segments) },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function messageCommands(session: Session, program: Command): void {
  const messages = program
    .command('messages')
    .alias('msg')
    .description("look up messages and their timelines (dlr's MessageService)");

  messages
    .command('get')
    .description('show one message and its timeline: every state change with its time and service')
    .argument('[hub-message-id]', 'hub message id (UUID)')
    .option('--customer-id <id>', 'look up by the id the customer got in submit_sm_resp (needs --account)')
    .option('--account <id>', 'restrict to this account')
    .addHelpText(
      'after',
      '\nExamples:\n  $ hubctl messages get 0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b\n  $ hubctl messages get --customer-id 1234567 --account acme -o json\n',
    )
    .action(async (id: string | undefined, flags: { customerId?: string; account?: string }, c: Command) => {
      const ctx = session.ctx(c);
      if ((id === undefined) === (flags.customerId === undefined)) {
        throw new CliError('give a hub message id or --customer-id (with --account), not both', EXIT.USAGE);
      }
      if (id !== undefined && !UUID.test(id)) {
        throw new CliError(
          `"${id}" is not a hub message id (a UUID like 0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b)`,
          EXIT.USAGE,
        );
      }
      if (flags.customerId !== undefined && flags.account === undefined) {
        throw new CliError('--customer-id needs --account', EXIT.USAGE);
      }
      const res = await ctx.rpc.unary(
        'messages',
        'getMessage',
        GetMessageRequest.fromPartial({
          messageId: id ?? '',
          customerMessageId: flags.customerId ?? '',
          accountId: flags.account ?? '',
        }),
      );
      ctx.emit(
        GetMessageResponse.toJSON(res),
        () => `${keyValueTable(summaryRows(res.message))}\nTimeline:\n${timelineTable(res.timeline)}`,
      );
    });

  messages
    .command('list')
    .alias('ls')
    .description("an account's messages in a time range, newest first")
    .requiredOption('--account <id>', 'account whose messages to list')
    .option('--since <duration>', 'from this long ago to now (e.g. 1h, 7d); default 24h')
    .option('--from <time>', 'received at or after (RFC 3339, date, -2h, ...)')
    .option('--to <time>', 'received before (default now)')
    .option(
      '--status <status...>',
      `only these statuses (${['accepted', 'enroute', 'delivered', 'expired', 'deleted', 'undeliverable', 'rejected', 'unknown', 'failed'].join(', ')}; commas allowed)`,
    )
    .option('--destination-prefix <digits>', 'destination starts with these digits')
    .option('--limit <n>', 'results per page (server default 100, max 1000)')
    .option('--page-token <token>', 'continue from a previous page')
    .option('--all', 'follow every page')
    .addHelpText(
      'after',
      '\nThe range is at most 31 days.\n\nExamples:\n  $ hubctl messages list --account acme --since 2h --status undeliverable,rejected\n  $ hubctl messages list --account acme --from 2026-11-01 --to 2026-11-02 --all -o json\n',
    )
    .action(
      async (
        flags: {
          account: string;
          since?: string;
          from?: string;
          to?: string;
          status?: string[];
          destinationPrefix?: string;
          limit?: string;
          pageToken?: string;
          all?: boolean;
        },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const now = ctx.now();
        if (flags.since !== undefined && flags.from !== undefined)
          throw new CliError('use --since or --from, not both', EXIT.USAGE);
        const endTime = flags.to !== undefined ? parseTime(flags.to, '--to', now) : now;
        const startTime =
          flags.from !== undefined
            ? parseTime(flags.from, '--from', now)
            : new Date(endTime.getTime() - parseDuration(flags.since ?? '24h', '--since'));
        if (startTime >= endTime)
          throw new CliError('the start of the range must be before its end', EXIT.USAGE);
        const statuses = splitList(flags.status ?? []).map((s) =>
          parseEnum(DeliveryStatus, 'DELIVERY_STATUS_', s, '--status'),
        );
        if (flags.destinationPrefix !== undefined && !/^\d+$/.test(flags.destinationPrefix)) {
          throw new CliError('--destination-prefix must be digits', EXIT.USAGE);
        }
        const pageSize = flags.limit === undefined ? 0 : parseIntFlag(flags.limit, '--limit', 1, 1000);
        let pageToken = flags.pageToken ?? '';
        const all: MessageSummary[] = [];
        for (;;) {
          const res = await ctx.rpc.unary(
            'messages',
            'listMessages',
            ListMessagesRequest.fromPartial({
              accountId: flags.account,
              startTime,
              endTime,
              statuses,
              destinationPrefix: flags.destinationPrefix ?? '',
              pageSize,
              pageToken,
            }),
          );
          all.push(...res.messages);
          pageToken = res.nextPageToken;
          if (!flags.all || pageToken === '') break;
        }
        ctx.emit(
          {
            messages: [],
            ...(ListMessagesResponse.toJSON({ messages: all, nextPageToken: pageToken }) as object),
          },
          () =>
            listTable(
              all,
              SUMMARY_COLUMNS,
              `messages for ${flags.account} between ${startTime.toISOString()} and ${endTime.toISOString()}`,
            ),
        );
        if (pageToken && ctx.format === 'table')
          ctx.note(`more results: add --page-token ${pageToken} (or --all)`);
      },
    );
}
