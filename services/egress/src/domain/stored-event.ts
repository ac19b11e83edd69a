// The dispatch event a dedupe row keeps for a redelivery, without the message's context.
//
// A finished part's row (sent, failed, unknown) holds its SmsDispatched so that a redelivered routed record
// re-publishes the same event instead of sending the part again. Most of that event is field 1, the
// MessageContext copied from the routed message (ids, addresses, account, text metadata: ~160 of ~270
// bytes), which the redelivered record carries again: the row keeps the other fields only, and the context
// is put back in front of them when the event is re-published. Protobuf writes fields in number order and
// the context is field 1, so "context field + the rest" is byte for byte the event as first encoded.
// Rows written before (the whole event, starting with field 1's tag) are re-published as they are.
import { encodeShared, MessageContext } from '@smshub/contracts';

/** SmsDispatched field 1 (context), length-delimited: its tag (1 << 3 | 2). */
const CONTEXT_TAG = 0x0a;

/** Field 1 of an SmsDispatched carrying `context`: tag, length, MessageContext bytes. */
export function contextField(context: MessageContext): Buffer {
  const body = encodeShared(MessageContext, context);
  let lenBytes = 1;
  for (let n = body.length; n >= 0x80; n >>>= 7) lenBytes++;
  const out = Buffer.allocUnsafe(1 + lenBytes + body.length);
  out[0] = CONTEXT_TAG;
  let i = 1;
  let n = body.length;
  while (n >= 0x80) {
    out[i++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[i++] = n;
  out.set(body, i);
  return out;
}

/**
 * The whole event from a row's stored bytes and the message's context: the stored bytes as they are when
 * they already start with a context (a row written before this format).
 */
export function withContext(stored: Uint8Array, context: MessageContext): Buffer {
  if (stored.length > 0 && stored[0] === CONTEXT_TAG)
    return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  return Buffer.concat([contextField(context), stored]);
}
