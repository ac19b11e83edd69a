import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  DeliveryStatus,
  MessageServiceClient,
  type GetMessageResponse,
  type ListMessagesResponse,
  type MessageSummary,
  type Money,
  type TimelineEvent,
} from '@smshub/contracts';
import { PROBLEM_BASE, ProblemError } from './problems.js';
import type { MessageReader } from './server.js';

/**
 * GET /v1/messages/{id} and GET /v1/messages read dlr's MessageService (services never share tables),
 * with the CALLER's API key: a customer token is scoped to its account by dlr itself, and http-api also
 * passes the account id, so another account's message is a 404 here (dlr answers NOT_FOUND or
 * PERMISSION_DENIED; both become 404: no way to learn that an id exists elsewhere).
 */
const STATUS: Record<number, string> = {
  [DeliveryStatus.DELIVERY_STATUS_ACCEPTED]: 'accepted',
  [DeliveryStatus.DELIVERY_STATUS_ENROUTE]: 'enroute',
  [DeliveryStatus.DELIVERY_STATUS_DELIVERED]: 'delivered',
  [DeliveryStatus.DELIVERY_STATUS_EXPIRED]: 'expired',
  [DeliveryStatus.DELIVERY_STATUS_DELETED]: 'deleted',
  [DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE]: 'undeliverable',
  [DeliveryStatus.DELIVERY_STATUS_FAILED]: 'undeliverable',
  [DeliveryStatus.DELIVERY_STATUS_REJECTED]: 'rejected',
  [DeliveryStatus.DELIVERY_STATUS_UNKNOWN]: 'unknown',
};
const BY_NAME = new Map<string, DeliveryStatus>(
  Object.entries(STATUS).map(([k, v]) => [v, Number(k) as DeliveryStatus]),
);

function money(m: Money | undefined): { currency: string; amount: string } | undefined {
  if (!m || !m.currencyCode) return undefined;
  // Shown with at least the hub's 6 decimals (exactly rescaled), as the 202's quote is: one amount, one form.
  const scale = Math.max(m.scale, 6);
  const minor = BigInt(m.minorUnits) * 10n ** BigInt(scale - m.scale);
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString().padStart(scale + 1, '0');
  const amount = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return { currency: m.currencyCode, amount: neg ? `-${amount}` : amount };
}

function eventName(e: TimelineEvent): string {
  const ev = e.event;
  if (!ev) return e.topic;
  if (ev.$case === 'rejected') return `rejected: ${ev.value.error?.message ?? ev.value.reason}`;
  if (ev.$case === 'delivery') return `status ${STATUS[ev.value.status] ?? 'unknown'}`;
  return ev.$case;
}

type Ev = NonNullable<TimelineEvent['event']>;
type Of<K extends Ev['$case']> = Extract<Ev, { $case: K }>;

/** The public view of a message (schemas.ts MessageStatus). */
export function statusView(summary: MessageSummary, timeline: TimelineEvent[] = []): Record<string, unknown> {
  const c = summary.context;
  const events = timeline.flatMap((e) => (e.event ? [e.event] : []));
  const latest = [...events].reverse();
  const rejected = events.find((e): e is Of<'rejected'> => e.$case === 'rejected')?.value;
  const delivery = latest.find(
    (e): e is Of<'delivery'> => e.$case === 'delivery' && e.value.error !== undefined,
  )?.value;
  const error = rejected?.error ?? delivery?.error;
  const rated = latest.find((e): e is Of<'rated'> => e.$case === 'rated')?.value;
  const price = money(rated?.sell);
  return {
    id: c?.messageId ?? '',
    status: STATUS[summary.status] ?? 'unknown',
    final: summary.final,
    ...(c?.destination ? { to: `+${c.destination.address}` } : {}),
    ...(c?.source ? { from: c.source.ton === 1 ? `+${c.source.address}` : c.source.address } : {}),
    segments: summary.segments,
    ...(c?.clientReference ? { client_reference: c.clientReference } : {}),
    ...(c?.receivedAt ? { submitted_at: c.receivedAt.toISOString() } : {}),
    ...(summary.doneAt ? { done_at: summary.doneAt.toISOString() } : {}),
    ...(price ? { price } : {}),
    ...(error
      ? {
          error: {
            // The firewall's rejection has its own stable type; other errors carry the hub's code.
            type: `${PROBLEM_BASE}${error.code === 'FIREWALL_BLOCKED' ? 'firewall-rejected' : 'undeliverable'}`,
            code: error.code,
            message: error.message,
          },
        }
      : {}),
    ...(timeline.length > 0
      ? { timeline: timeline.map((e) => ({ time: e.time?.toISOString() ?? '', event: eventName(e) })) }
      : {}),
  };
}

interface Cursor {
  /** dlr's page token. */
  t: string;
  /** Window start and end, ms. */
  s: number;
  e: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(page: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(page, 'base64url').toString()) as Cursor;
    if (typeof c.t === 'string' && Number.isFinite(c.s) && Number.isFinite(c.e)) return c;
  } catch {
    // fall through
  }
  throw new ProblemError('validation-failed', 'the page token is not one this API gave');
}

export class DlrMessageReader implements MessageReader {
  private readonly client: MessageServiceClient;

  constructor(address: string, tls = false) {
    this.client = new MessageServiceClient(
      address,
      tls ? credentials.createSsl() : credentials.createInsecure(),
    );
  }

  private meta(token: string): Metadata {
    const m = new Metadata();
    m.set('authorization', `Bearer ${token}`);
    return m;
  }

  get(token: string, accountId: string, id: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.client.getMessage(
        { messageId: id, customerMessageId: '', accountId },
        this.meta(token),
        { deadline: Date.now() + 10_000 },
        (err: ServiceError | null, res?: GetMessageResponse) => {
          if (err) {
            if (
              err.code === grpcStatus.NOT_FOUND ||
              err.code === grpcStatus.PERMISSION_DENIED ||
              err.code === grpcStatus.INVALID_ARGUMENT
            )
              return resolve(undefined);
            return reject(err);
          }
          resolve(res?.message ? statusView(res.message, res.timeline) : undefined);
        },
      );
    });
  }

  list(
    token: string,
    accountId: string,
    q: { since?: string; status?: string; to?: string; page?: string; limit?: number },
  ): Promise<{ messages: unknown[]; next?: string }> {
    // dlr wants the same window on every page: the first page fixes it, the page token carries it.
    const cursor = q.page ? decodeCursor(q.page) : undefined;
    const end = new Date(cursor?.e ?? Date.now() + 60_000);
    // At most 31 days at once: `since` (default 7 days ago) up to now.
    const since = cursor ? cursor.s : q.since ? Date.parse(q.since) : end.getTime() - 7 * 86_400_000;
    const start = new Date(Math.max(since, end.getTime() - 31 * 86_400_000));
    const statuses = q.status ? [BY_NAME.get(q.status) ?? DeliveryStatus.DELIVERY_STATUS_UNKNOWN] : [];
    return new Promise((resolve, reject) => {
      this.client.listMessages(
        {
          accountId,
          startTime: start,
          endTime: end,
          statuses,
          destinationPrefix: (q.to ?? '').replace(/^\+/, ''),
          pageSize: q.limit ?? 100,
          pageToken: cursor?.t ?? '',
        },
        this.meta(token),
        { deadline: Date.now() + 10_000 },
        (err: ServiceError | null, res?: ListMessagesResponse) => {
          if (err) return reject(err);
          resolve({
            messages: (res?.messages ?? []).map((s) => statusView(s)),
            ...(res?.nextPageToken
              ? { next: encodeCursor({ t: res.nextPageToken, s: start.getTime(), e: end.getTime() }) }
              : {}),
          });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
