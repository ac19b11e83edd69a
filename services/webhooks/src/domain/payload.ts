import { deliveryStatusToJSON, SubmitChannel, type SmsDelivery } from '@smshub/contracts';

/**
 * The JSON body of a delivery-receipt webhook, built once from an sms.delivery.v1 event (every retry
 * sends the same bytes). Statuses are the hub's normalised names without the enum prefix
 * ("DELIVERED", "UNDELIVERABLE", "ENROUTE"...). `id` is the delivery id (the same on every retry and
 * replay: receivers deduplicate on it); `data.revision` orders the events of one message.
 */
export interface DeliveryWebhookBody {
  id: string;
  type: 'message.status';
  created_at: string;
  data: {
    message_id: string;
    account_id: string;
    customer_message_id: string;
    /** The HTTP customer's own reference (client_reference); null when none was given. */
    client_reference: string | null;
    to: string;
    from: string;
    status: string;
    final: boolean;
    error: { code: string; receipt_error: number; message: string } | null;
    segments: number;
    revision: number;
    submitted_at: string | null;
    done_at: string | null;
    updated_at: string | null;
  };
}

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

export function statusName(status: SmsDelivery['status']): string {
  return deliveryStatusToJSON(status).replace(/^DELIVERY_STATUS_/, '');
}

export function deliveryBody(id: string, event: SmsDelivery, now: Date): DeliveryWebhookBody {
  const ctx = event.context;
  return {
    id,
    type: 'message.status',
    created_at: now.toISOString(),
    data: {
      message_id: ctx?.messageId ?? '',
      account_id: ctx?.accountId ?? '',
      customer_message_id: ctx?.customerMessageId ?? '',
      client_reference: ctx?.clientReference ? ctx.clientReference : null,
      to: ctx?.destination?.address ?? '',
      from: ctx?.source?.address ?? '',
      status: statusName(event.status),
      final: event.final,
      error: event.error
        ? { code: event.error.code, receipt_error: event.error.receiptError, message: event.error.message }
        : null,
      segments: event.segments,
      revision: event.revision,
      submitted_at: iso(ctx?.receivedAt),
      done_at: iso(event.doneAt),
      updated_at: iso(event.updatedAt),
    },
  };
}

/**
 * Whether a message's callback_url may be POSTed to. It is given by the customer per message (unlike the
 * account's URL, which an operator sets), so an address inside the hub's network would let a customer
 * make the hub call it (SSRF): http(s) only, and no loopback, private, link-local or unspecified IP
 * literal nor "localhost" unless `allowPrivate`. A DNS name that resolves to such an address is for the
 * network policy to stop (docs/webhooks.md).
 */
export function callbackAllowed(raw: string, allowPrivate: boolean): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
  if (u.username || u.password) return false;
  if (allowPrivate) return true;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return false;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (host.includes(':')) {
    return !(
      host === '::' ||
      host === '::1' ||
      /^f[cd]/.test(host) ||
      /^fe[89ab]/.test(host) ||
      host.startsWith('::ffff:')
    );
  }
  return true;
}

/**
 * Whether an event is sent to an endpoint: final ones always, intermediate ones when it asked for them;
 * never the hub's own grey-route probes (channel PROBE: internal traffic, docs/routing.md "Grey routes").
 */
export function wanted(event: SmsDelivery, includeIntermediate: boolean): boolean {
  if (event.context?.channel === SubmitChannel.SUBMIT_CHANNEL_PROBE) return false;
  return event.final || includeIntermediate;
}
