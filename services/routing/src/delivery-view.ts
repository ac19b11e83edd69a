// What routing reads of an sms.delivery.v1 record, decoded from its bytes without the rest.
//
// Routing reads every delivery record (one or more per message) only to learn from final statuses: the
// adaptive estimates (adaptive-store.ts) and the grey-route monitor (grey-routes.ts). The generated
// decoder builds the whole SmsDelivery: every MessageContext field (addresses, ids, receipt text, ...),
// every part state, and each timestamp through a BigInt. This one walks the record once and keeps only
// what those two use: status, final, connector, done/updated times, and of the context the message id,
// channel, traffic type, receive time and destination network.
//
// Rule: a record that teaches nothing (not final, or no connector) is returned without its context and
// times (observationOf and GreyRouteMonitor.onDelivery stop at that test). Otherwise every field of the
// view is what SmsDelivery.decode gives for it (same last-one-wins rule, same timestamp arithmetic,
// unknown fields and wrong wire types skipped). Anything the wire reader (libs/contracts wire.ts) does not
// handle cheaply (a varint longer than 35 bits: negative enums or times; groups; a record cut short) is
// decoded by SmsDelivery.decode instead, so its answer and its errors are the generated decoder's.

import {
  SmsDelivery,
  WIRE_FALLBACK,
  WireReader,
  type DeliveryStatus,
  type SubmitChannel,
  type TrafficType,
} from '@smshub/contracts';
import type { TopicCodec } from '@smshub/kafka';

/** The destination network fields routing keys its estimates by. */
export interface DestinationView {
  readonly countryCode: string;
  readonly mcc: string;
  readonly mnc: string;
}

/** The MessageContext fields routing uses. */
export interface ContextView {
  readonly messageId: string;
  readonly channel: SubmitChannel;
  readonly trafficType: TrafficType;
  readonly receivedAt?: Date | undefined;
  readonly destinationInfo?: DestinationView | undefined;
}

/** The SmsDelivery fields routing uses (an SmsDelivery is one). */
export interface DeliveryView {
  readonly final: boolean;
  readonly status: DeliveryStatus;
  readonly connectorId: string;
  readonly doneAt?: Date | undefined;
  readonly updatedAt?: Date | undefined;
  readonly context?: ContextView | undefined;
}

function text(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : buf.toString('utf8', start, end);
}

/** google.protobuf.Timestamp at [start, end) as SmsDelivery.decode turns it into a Date. */
function timestamp(buf: Buffer, start: number, end: number): Date {
  const r = new WireReader(buf, start, end);
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.varint() >>> 0;
    if (tag === 8) seconds = r.varint();
    else if (tag === 16) nanos = r.varint() | 0;
    else r.skip(tag & 7);
  }
  return new Date(seconds * 1_000 + nanos / 1_000_000);
}

function destinationInfo(buf: Buffer, start: number, end: number): DestinationView {
  const r = new WireReader(buf, start, end);
  let countryCode = '';
  let mcc = '';
  let mnc = '';
  while (r.pos < end) {
    const tag = r.varint() >>> 0;
    if (tag === 10) countryCode = text(buf, r.delimited(), r.pos);
    else if (tag === 18) mcc = text(buf, r.delimited(), r.pos);
    else if (tag === 26) mnc = text(buf, r.delimited(), r.pos);
    else r.skip(tag & 7);
  }
  return { countryCode, mcc, mnc };
}

function context(buf: Buffer, start: number, end: number): ContextView {
  const r = new WireReader(buf, start, end);
  let messageId = '';
  let channel = 0;
  let trafficType = 0;
  let receivedAt: Date | undefined;
  let info: DestinationView | undefined;
  while (r.pos < end) {
    const tag = r.varint() >>> 0;
    switch (tag) {
      case 10: // message_id
        messageId = text(buf, r.delimited(), r.pos);
        break;
      case 72: // traffic_type
        trafficType = r.varint() | 0;
        break;
      case 82: // received_at
        receivedAt = timestamp(buf, r.delimited(), r.pos);
        break;
      case 98: // destination_info
        info = destinationInfo(buf, r.delimited(), r.pos);
        break;
      case 112: // channel
        channel = r.varint() | 0;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return {
    messageId,
    channel: channel as SubmitChannel,
    trafficType: trafficType as TrafficType,
    receivedAt,
    destinationInfo: info,
  };
}

function view(buf: Buffer): DeliveryView {
  const end = buf.length;
  const r = new WireReader(buf, 0, end);
  let status = 0;
  let final = false;
  let ctxStart = -1;
  let ctxEnd = -1;
  let conStart = 0;
  let conEnd = 0;
  let doneStart = -1;
  let doneEnd = -1;
  let updStart = -1;
  let updEnd = -1;
  while (r.pos < end) {
    const tag = r.varint() >>> 0;
    switch (tag) {
      case 10: // context
        ctxStart = r.delimited();
        ctxEnd = r.pos;
        break;
      case 16: // status
        status = r.varint() | 0;
        break;
      case 24: // final
        final = r.varint() !== 0;
        break;
      case 50: // done_at
        doneStart = r.delimited();
        doneEnd = r.pos;
        break;
      case 58: // connector_id
        conStart = r.delimited();
        conEnd = r.pos;
        break;
      case 82: // updated_at
        updStart = r.delimited();
        updEnd = r.pos;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  const connectorId = text(buf, conStart, conEnd);
  if (!final || connectorId === '') return { final, status: status as DeliveryStatus, connectorId };
  return {
    final,
    status: status as DeliveryStatus,
    connectorId,
    doneAt: doneStart < 0 ? undefined : timestamp(buf, doneStart, doneEnd),
    updatedAt: updStart < 0 ? undefined : timestamp(buf, updStart, updEnd),
    context: ctxStart < 0 ? undefined : context(buf, ctxStart, ctxEnd),
  };
}

/** The view of an encoded SmsDelivery (see the rule above). */
export function decodeDeliveryView(bytes: Uint8Array): DeliveryView {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return view(buf);
  } catch (err) {
    if (err !== WIRE_FALLBACK) throw err;
    return viewOf(SmsDelivery.decode(bytes));
  }
}

/** The view of a decoded SmsDelivery (the same fields, by the same rule). */
export function viewOf(d: SmsDelivery): DeliveryView {
  const { final, status, connectorId } = d;
  if (!final || connectorId === '') return { final, status, connectorId };
  const c = d.context;
  const info = c?.destinationInfo;
  return {
    final,
    status,
    connectorId,
    doneAt: d.doneAt,
    updatedAt: d.updatedAt,
    context: c && {
      messageId: c.messageId,
      channel: c.channel,
      trafficType: c.trafficType,
      receivedAt: c.receivedAt,
      destinationInfo: info && { countryCode: info.countryCode, mcc: info.mcc, mnc: info.mnc },
    },
  };
}

/**
 * The sms.delivery.v1 codec for routing's reader: the topic's own, decoding to the view. Only for
 * consuming (routing never produces this topic): encode and key take full SmsDelivery values.
 */
export function deliveryViewCodec(topic: TopicCodec<SmsDelivery>): TopicCodec<DeliveryView> {
  return {
    name: topic.name,
    decode: decodeDeliveryView,
    encode: (v) => topic.encode(v as SmsDelivery),
    key: (v) => topic.key(v as SmsDelivery),
  };
}
