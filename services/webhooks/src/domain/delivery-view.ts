// Every sms.delivery.v1 record (one or more per message) reaches webhooks, and most accounts have no webhook.
// So a record is first read only as far as its account id: `context` (field 1) and, inside it,
// `account_id` (field 2), walking the protobuf wire format without decoding anything else. Only the records
// of an account with an enabled endpoint are decoded whole.
// The rule, as protobuf's: a message field that occurs more than once is merged, so the last account_id
// of the last context wins; no context (or no account_id) is ''. Anything that is not well-formed wire
// format as far as the walk goes gives undefined, and the caller decodes the record whole (which fails the
// same way a full decode always did: the record is dead-lettered).
import { SmsDelivery } from '@smshub/contracts';
import type { TopicCodec } from '@smshub/kafka';

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Plain loops and module-level state, no closures: this runs for every record of the topic.
let at = 0;

/** The varint at `at` (moved past it); -1 past `end` or beyond 35 bits (not needed for tags and lengths). */
function varint(b: Uint8Array, end: number): number {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= end) return -1;
    const byte = b[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return value;
  }
  return -1;
}

/**
 * Moves `at` past the value of a field of wire type `wire` (a 64-bit varint too); for wire type 2 returns
 * the start of the bytes (`at` is then their end). -1 when malformed or past `end`; 0 otherwise. Groups
 * (wire types 3 and 4) are not proto3 and count as malformed.
 */
function skip(b: Uint8Array, wire: number, end: number): number {
  if (wire === 0) {
    for (let i = 0; i < 10; i++) {
      if (at >= end) return -1;
      if (b[at++]! < 0x80) return 0;
    }
    return -1;
  }
  if (wire === 1) at += 8;
  else if (wire === 5) at += 4;
  else if (wire === 2) {
    const len = varint(b, end);
    if (len < 0) return -1;
    const from = at;
    at += len;
    return at > end ? -1 : from;
  } else return -1;
  return at > end ? -1 : 0;
}

/** The account id of an encoded SmsDelivery ('' when it has none), or undefined when the walk fails. */
export function peekAccountId(b: Uint8Array): string | undefined {
  let from = -1;
  let to = -1;
  at = 0;
  const end = b.length;
  while (at < end) {
    const tag = varint(b, end);
    if (tag < 8) return undefined; // malformed, or field number 0
    const start = skip(b, tag % 8, end);
    if (start < 0) return undefined;
    if (tag !== 0x0a) continue; // not field 1 (context) as length-delimited bytes
    // Inside the context: field 2 (account_id), the last one wins.
    const outer = at;
    at = start;
    while (at < outer) {
      const inner = varint(b, outer);
      if (inner < 8) return undefined;
      const s = skip(b, inner % 8, outer);
      if (s < 0) return undefined;
      if (inner === 0x12) {
        from = s;
        to = at;
      }
    }
  }
  if (from < 0) return '';
  try {
    return utf8.decode(b.subarray(from, to));
  } catch {
    return undefined;
  }
}

/** A delivery event as webhooks first sees it: the account id, and the whole event on demand. */
export interface DeliveryView {
  readonly accountId: string;
  /** Decodes the whole event (once); throws what SmsDelivery.decode throws on malformed bytes. */
  event(): SmsDelivery;
}

/** Reads `bytes` as far as the account id; the rest is decoded the first time `event()` is called. */
export function deliveryView(bytes: Uint8Array): DeliveryView {
  const accountId = peekAccountId(bytes);
  if (accountId === undefined) {
    // Not walkable: decode now, so malformed bytes fail where they always did (and are dead-lettered).
    const event = SmsDelivery.decode(bytes);
    return { accountId: event.context?.accountId ?? '', event: () => event };
  }
  let event: SmsDelivery | undefined;
  return {
    accountId,
    event: () => (event ??= SmsDelivery.decode(bytes)),
  };
}

/**
 * sms.delivery.v1's codec for webhooks' consumer: its records come as DeliveryViews (the rest of the topic's
 * spec, name and key, is the contract's).
 */
export function deliveryViewCodec(topic: TopicCodec<SmsDelivery>): TopicCodec<DeliveryView> {
  return {
    name: topic.name,
    encode: (v) => topic.encode(v.event()),
    decode: deliveryView,
    key: (v) => topic.key(v.event()),
  };
}
