// One hub message, one trace, across services whose handlers work on whole batches.
//
// A batch handler has no active span per record, so a record it produces could not name its parent. The
// consumer therefore opens a CONSUMER span per record and remembers that span's context under the hub
// message id the record is about (the topic codec's messageId(), else the record key); the producer, when
// no span is active, continues the trace remembered for the message id of the record it produces, inside
// a PRODUCER span. A record about a message this process never consumed starts a new trace (ingress's
// sms.submitted.v1: the root of the message's trace).
import { context as otelContext, trace, type Context } from '@opentelemetry/api';

/** Remembered traces, oldest first (a Map keeps insertion order); bounded so memory stays flat. */
const remembered = new Map<string, Context>();
const MAX_REMEMBERED = 50_000;

/** Remembers `ctx` as the latest trace context of the message `id`. */
export function rememberTrace(id: string | null | undefined, ctx: Context): void {
  if (!id) return;
  remembered.delete(id);
  remembered.set(id, ctx);
  if (remembered.size > MAX_REMEMBERED) {
    const oldest = remembered.keys().next();
    if (!oldest.done) remembered.delete(oldest.value);
  }
}

/**
 * The parent for a record about message `id`: the active context when a span is active (a record
 * handler, an explicit withSpan), else the context last remembered for `id`, else the active context.
 */
export function parentFor(id: string | null | undefined): Context {
  const active = otelContext.active();
  if (trace.getSpanContext(active)) return active;
  return (id ? remembered.get(id) : undefined) ?? active;
}
