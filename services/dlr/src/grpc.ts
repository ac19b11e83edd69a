// smshub.messages.v1.MessageService over the dlr tables (every call authenticated, libs/auth), plus
// grpc.health.v1 (grpc-health-check, no token).
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  RpcError,
  startGrpcServer as startServer,
  unaryHandlers,
  type GrpcServer,
  type TlsFiles,
} from '@smshub/grpc';
import {
  accountScope,
  AuthError,
  callInfo,
  guardService,
  hasPermission,
  type Guard,
  type Principal,
} from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import {
  BillingRated,
  MessageContext,
  MessageServiceService,
  SmsDelivery,
  SmsInbound,
  SmsDispatched,
  SmsReceiptRaw,
  SmsRejected,
  SmsReroute,
  SmsRouted,
  SmsSubmitted,
  type GetMessageRequest,
  type GetMessageResponse,
  type ListMessagesRequest,
  type ListMessagesResponse,
  type MessageServiceServer,
  type MessageSummary,
  type TimelineEvent,
} from '@smshub/contracts';
import { isUuid, type Queryable } from './sql.js';
import { indexedDispatches, lastConnectorOf, replayStored, segmentsOf } from './dispatch-replay.js';
import { STORED_STATE, unpackState, type StoredState } from './stored-state.js';
import { toProtoStatus } from './mapping.js';
import { FLOW_ORDER, type TimelineKind } from './timeline-rows.js';

const MAX_RANGE_MS = 31 * 86_400_000;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

interface SummaryRow {
  message_id: string;
  account_id: string;
  context: Buffer;
  status: number;
  final: boolean;
  connector_id: string;
  segments: number;
  done_at: Date | null;
  received_at: Date;
}

const SUMMARY_COLUMNS =
  'message_id, account_id, context, status, final, connector_id, segments, done_at, received_at';

function summary(row: SummaryRow, context = MessageContext.decode(row.context)): MessageSummary {
  const s: MessageSummary = {
    context,
    status: row.status,
    final: row.final,
    connectorId: row.connector_id,
    segments: row.segments,
  };
  if (row.done_at !== null) s.doneAt = row.done_at;
  return s;
}

function timelineEvent(kind: TimelineKind, topic: string, time: Date, payload: Buffer): TimelineEvent {
  const base = { topic, time };
  switch (kind) {
    case 'submitted':
      return { ...base, event: { $case: 'submitted', value: SmsSubmitted.decode(payload) } };
    case 'held':
      return { ...base, event: { $case: 'held', value: SmsSubmitted.decode(payload) } };
    case 'released':
      return { ...base, event: { $case: 'released', value: SmsSubmitted.decode(payload) } };
    case 'routed':
      return { ...base, event: { $case: 'routed', value: SmsRouted.decode(payload) } };
    case 'rejected':
      return { ...base, event: { $case: 'rejected', value: SmsRejected.decode(payload) } };
    case 'dispatched':
      return { ...base, event: { $case: 'dispatched', value: SmsDispatched.decode(payload) } };
    case 'receipt':
      return { ...base, event: { $case: 'receipt', value: SmsReceiptRaw.decode(payload) } };
    case 'delivery':
      return { ...base, event: { $case: 'delivery', value: SmsDelivery.decode(payload) } };
    case 'inbound':
      return { ...base, event: { $case: 'inbound', value: SmsInbound.decode(payload) } };
    case 'rated':
      return { ...base, event: { $case: 'rated', value: BillingRated.decode(payload) } };
    case 'rerouted':
      return { ...base, event: { $case: 'rerouted', value: SmsReroute.decode(payload) } };
  }
}

/**
 * The timeline of message $1, in order: its dlr_timeline rows, the receipts folded into its delivery rows
 * (RECEIPT_IN_DELIVERY in aggregator.ts) and the dispatch events kept in its dlr_dispatch_index rows
 * (DISPATCH_EVENT_IN_INDEX in joiner.ts; the event key as joiner.ts dispatchEventKey), one event per key
 * (a row of its own first, as ON CONFLICT DO NOTHING kept the first written; then the earliest index row).
 */
const TIMELINE_OF = `
  SELECT kind, topic, event_time, payload
    FROM (SELECT DISTINCT ON (event_key) kind, topic, event_time, flow_order, event_key, payload
            FROM (SELECT kind, topic, event_time, flow_order, event_key, payload, 0 AS source, '' AS tie
                    FROM dlr_timeline WHERE message_id = $1
                  UNION ALL
                  SELECT 'receipt', receipt_topic, receipt_time, ${FLOW_ORDER.receipt}, receipt_key, receipt, 1, ''
                    FROM dlr_timeline WHERE message_id = $1 AND receipt IS NOT NULL
                  UNION ALL
                  SELECT 'dispatched', topic, accepted_at, ${FLOW_ORDER.dispatched},
                         'dispatch/' || part_index || '/' || attempt || '/' || connector_id, payload, 1,
                         supplier_message_id
                    FROM dlr_dispatch_index WHERE message_id = $1 AND payload IS NOT NULL) AS e
           ORDER BY event_key, source, event_time, tie) AS e
   ORDER BY event_time, flow_order, event_key`;

interface Cursor {
  /** received_at (epoch ms) and message id of the last row of the previous page. */
  t: number;
  i: string;
  /** Hash of the filters the token belongs to. */
  f: string;
}

function filterHash(req: ListMessagesRequest): string {
  const f = [
    req.accountId,
    req.startTime?.getTime(),
    req.endTime?.getTime(),
    [...req.statuses].sort((a, b) => a - b).join(','),
    req.destinationPrefix,
  ];
  return createHash('sha256').update(JSON.stringify(f)).digest('base64url').slice(0, 16);
}

function decodeCursor(token: string, req: ListMessagesRequest): Cursor {
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'page_token is not a token this service issued');
  }
  if (typeof c.t !== 'number' || typeof c.i !== 'string' || !isUuid(c.i) || typeof c.f !== 'string') {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'page_token is not a token this service issued');
  }
  if (c.f !== filterHash(req)) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'page_token belongs to a request with other filters');
  }
  return c;
}

/**
 * The summaries of `rows`, those of messages still in flight with their accepted dispatches replayed from
 * dlr_dispatch_index (DISPATCH_REPLAY in dispatch-replay.ts: dlr writes no row for an accepted dispatch),
 * so connector, segments and context read as the row would hold them had the dispatch been written.
 */
async function summaries(db: Queryable, rows: readonly SummaryRow[]): Promise<MessageSummary[]> {
  const open = rows.filter((r) => !r.final).map((r) => r.message_id);
  const replays = await indexedDispatches(db, open);
  if (replays.size === 0) return rows.map((r) => summary(r));
  const states = await db.query<{ message_id: string; account_id: string; state: StoredState }>(
    `SELECT message_id, account_id, ${STORED_STATE} AS state FROM dlr_messages WHERE message_id = ANY($1::uuid[])`,
    [[...replays.keys()]],
  );
  const stateOf = new Map(
    states.rows.map((r) => [r.message_id, unpackState(r.state, r.message_id, r.account_id)]),
  );
  return rows.map((row) => {
    const list = replays.get(row.message_id);
    const stored = stateOf.get(row.message_id);
    if (list === undefined || stored === undefined) return summary(row);
    const { state, ctx, changed } = replayStored(stored, MessageContext.decode(row.context), list);
    if (!changed) return summary(row);
    return summary(
      {
        ...row,
        status: toProtoStatus(state.status),
        connector_id: lastConnectorOf(state),
        segments: segmentsOf(state),
      },
      ctx,
    );
  });
}

/** The queries behind MessageService (no gRPC types beyond the messages: testable on their own). */
export class MessageQueries {
  constructor(private readonly pool: Pool) {}

  async getMessage(req: GetMessageRequest): Promise<GetMessageResponse> {
    if (req.messageId && req.customerMessageId) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'set message_id or customer_message_id, not both');
    }
    if (!req.messageId && !req.customerMessageId) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'message_id or customer_message_id is required');
    }
    if (req.messageId && !isUuid(req.messageId)) {
      throw new RpcError(
        grpc.status.INVALID_ARGUMENT,
        `message_id "${req.messageId.slice(0, 64)}" is not a UUID`,
      );
    }
    if (req.customerMessageId && !req.accountId) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'customer_message_id requires account_id');
    }
    // One snapshot for the row and its timeline: a message being updated is seen before or after the
    // update, never half of each.
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let row: SummaryRow | undefined;
      if (req.messageId) {
        const r = await client.query<SummaryRow>(
          `SELECT ${SUMMARY_COLUMNS} FROM dlr_messages WHERE message_id = $1`,
          [req.messageId.toLowerCase()],
        );
        row = r.rows[0];
        if (row !== undefined && req.accountId && row.account_id !== req.accountId) row = undefined;
      } else {
        const r = await client.query<SummaryRow>(
          `SELECT ${SUMMARY_COLUMNS} FROM dlr_messages WHERE account_id = $1 AND customer_message_id = $2
            ORDER BY received_at DESC LIMIT 1`,
          [req.accountId, req.customerMessageId],
        );
        row = r.rows[0];
      }
      if (row === undefined) {
        throw new RpcError(
          grpc.status.NOT_FOUND,
          `message ${req.messageId || req.customerMessageId} not found (unknown, or older than the retention)`,
        );
      }
      const events = await client.query<{
        kind: TimelineKind;
        topic: string;
        event_time: Date;
        payload: Buffer;
      }>(TIMELINE_OF, [row.message_id]);
      const [message] = await summaries(client, [row]);
      return {
        message,
        timeline: events.rows.map((e) => timelineEvent(e.kind, e.topic, e.event_time, e.payload)),
      };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  async listMessages(req: ListMessagesRequest): Promise<ListMessagesResponse> {
    if (!req.accountId) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'account_id is required');
    if (req.startTime === undefined || req.endTime === undefined) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'start_time and end_time are required');
    }
    const start = req.startTime.getTime();
    const end = req.endTime.getTime();
    if (!(end > start)) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'end_time must be after start_time');
    if (end - start > MAX_RANGE_MS) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'the time range is at most 31 days');
    }
    if (req.pageSize < 0) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'page_size must not be negative');
    if (req.destinationPrefix && !/^\d{1,20}$/.test(req.destinationPrefix)) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'destination_prefix must be digits');
    }
    const pageSize = Math.min(MAX_PAGE, req.pageSize || DEFAULT_PAGE);
    const cursor = req.pageToken ? decodeCursor(req.pageToken, req) : undefined;
    const r = await this.pool.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM dlr_messages
        WHERE account_id = $1 AND received_at >= $2 AND received_at < $3
          AND (cardinality($4::smallint[]) = 0 OR status = ANY($4::smallint[]))
          AND ($5::text = '' OR destination LIKE $5::text || '%')
          AND ($6::timestamptz IS NULL OR (received_at, message_id) < ($6::timestamptz, $7::uuid))
        ORDER BY received_at DESC, message_id DESC
        LIMIT $8`,
      [
        req.accountId,
        req.startTime,
        req.endTime,
        req.statuses,
        req.destinationPrefix,
        cursor ? new Date(cursor.t) : null,
        cursor ? cursor.i : null,
        pageSize + 1,
      ],
    );
    const rows = r.rows.slice(0, pageSize);
    const last = rows.at(-1);
    const more = r.rows.length > pageSize && last !== undefined;
    return {
      messages: await summaries(this.pool, rows),
      nextPageToken: more
        ? Buffer.from(
            JSON.stringify({
              t: last.received_at.getTime(),
              i: last.message_id,
              f: filterHash(req),
            } satisfies Cursor),
          ).toString('base64url')
        : '',
    };
  }
}

/** Unary handlers given the authenticated caller (libs/auth's guard ran first); AuthError reaches the client. */
function unaryWithCaller(log: Logger) {
  const handler = unaryHandlers(log, { clientErrors: [AuthError] });
  return <Req, Res>(name: string, fn: (req: Req, caller: Principal) => Promise<Res>) =>
    handler<Req, Res>(name, (req, call) => fn(req, callInfo(call).principal));
}

/**
 * What a caller sees of the rated entries (billing.rated.v1) of a timeline: everything with rates.read
 * (admin); a customer its own price only (the sell side: never the supplier, the hub's cost or margin);
 * other roles (operations: no money, docs/security.md) none of them.
 */
export function moneyView(res: GetMessageResponse, caller: Principal): GetMessageResponse {
  if (hasPermission(caller.role, 'rates.read')) return res;
  const timeline = res.timeline.flatMap((e): TimelineEvent[] => {
    if (e.event?.$case !== 'rated') return [e];
    if (caller.role !== 'customer') return [];
    const v = e.event.value;
    const sell = BillingRated.fromPartial({
      messageId: v.messageId,
      revision: v.revision,
      accountId: v.accountId,
      destinationCountry: v.destinationCountry,
      segments: v.segments,
      ...(v.sell ? { sell: v.sell } : {}),
      status: v.status,
      deliveryStatus: v.deliveryStatus,
      trafficType: v.trafficType,
      ...(v.submittedAt ? { submittedAt: v.submittedAt } : {}),
      ...(v.doneAt ? { doneAt: v.doneAt } : {}),
      ...(v.ratedAt ? { ratedAt: v.ratedAt } : {}),
    });
    return [{ ...e, event: { $case: 'rated', value: sell } }];
  });
  return { ...res, timeline };
}

/**
 * MessageService behind libs/auth (every call authenticated; messages.read needed). A customer token
 * reads only its own account: account_id is filled in, another account is PERMISSION_DENIED, and a
 * message of another account is NOT_FOUND (as if it did not exist).
 */
export function messageService(queries: MessageQueries, log: Logger, guard: Guard): MessageServiceServer {
  const unary = unaryWithCaller(log);
  return guardService(
    MessageServiceService,
    {
      getMessage: unary('GetMessage', async (r: GetMessageRequest, caller) =>
        moneyView(await queries.getMessage({ ...r, accountId: accountScope(caller, r.accountId) }), caller),
      ),
      listMessages: unary('ListMessages', (r: ListMessagesRequest, caller) =>
        queries.listMessages({ ...r, accountId: accountScope(caller, r.accountId) }),
      ),
    },
    guard,
  );
}

export const MESSAGE_SERVICE_NAME = 'smshub.messages.v1.MessageService';

export type { GrpcServer };

/** Binds MessageService and grpc.health.v1 (libs/grpc: host, default 127.0.0.1; TLS; graceful stop). */
export function startGrpcServer(
  impl: MessageServiceServer,
  log: Logger,
  listen: { port: number; host?: string; tls?: TlsFiles },
): Promise<GrpcServer> {
  return startServer({
    ...listen,
    services: [
      {
        name: MESSAGE_SERVICE_NAME,
        definition: MessageServiceService,
        implementation: impl as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    logger: log,
  });
}
