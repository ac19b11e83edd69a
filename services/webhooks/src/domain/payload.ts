import { deliveryStatusToJSON, type SmsDelivery } from '@smshub/contracts';

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

/** Whether an event is sent to an endpoint: final ones always, intermediate ones when it asked for them. */
export function wanted(event: SmsDelivery, includeIntermediate: boolean): boolean {
  return event.final || includeIntermediate;
}
