// Every sms.delivery.v1 record (one or more per message) reaches webhooks, and most accounts have no webhook.
// So a record is first read only as far as its account id: `context` (field 1) and, inside it,
// `account_id` (field 2), walking the protobuf wire format (libs/contracts WireReader) without decoding
// anything else. Only the records of an account with an enabled endpoint are decoded whole.
// The rule, as protobuf's: a message field that occurs more than once is merged, so the last account_id
// of the last context wins; no context (or no account_id) is ''. Anything that is not well-formed wire
// format as far as the walk goes gives undefined, and the caller decodes the record whole (which fails the
// same way a full decode always did: the record is dead-lettered).
import { SmsDelivery, WIRE_FALLBACK, WireReader } from '@smshub/contracts';
import type { TopicCodec } from '@smshub/kafka';

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Two readers reused for every record (the record, its context): no allocation per record.
const record = new WireReader();
const context = new WireReader();

/** The account id of an encoded SmsDelivery ('' when it has none), or undefined when the walk fails. */
export function peekAccountId(b: Uint8Array): string | undefined {
  let from = -1;
  let to = -1;
  try {
    const r = record.reset(b);
    while (r.pos < r.end) {
      const tag = r.varint();
      if (tag < 8) return undefined; // field number 0
      if (tag !== 0x0a) {
        r.skip(tag % 8); // not field 1 (context) as length-delimited bytes
        continue;
      }
      // Inside the context: field 2 (account_id), the last one wins.
      const c = context.reset(b, r.delimited(), r.pos);
      while (c.pos < c.end) {
        const inner = c.varint();
        if (inner < 8) return undefined;
        if (inner === 0x12) {
          from = c.delimited();
          to = c.pos;
        } else c.skip(inner % 8);
      }
    }
  } catch (err) {
    if (err === WIRE_FALLBACK) return undefined; // malformed, or more than the walk reads
    throw err;
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
