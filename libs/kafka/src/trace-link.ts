// One hub message, one trace, across services whose handlers work on whole batches.
//
// A batch handler has no active span per record, so a record it produces could not name its parent. The
// consumer therefore opens a CONSUMER span per record and remembers that span's context under the hub
// message id the record is about (the topic codec's messageId(), else the record key); the producer, when
// no span is active, continues the trace remembered for the message id of the record it produces, inside
// a PRODUCER span. A record about a message this process never consumed starts a new trace (ingress's
// sms.submitted.v1: the root of the message's trace).
import { context as otelContext, trace, type Context } from '@opentelemetry/api';

// Remembered traces in two generations, so memory stays bounded at O(1) per record: when the current one
// is full it becomes the previous one (the one before is dropped). A message is found while it is among
// the last GENERATION..2*GENERATION messages remembered.
const GENERATION = 25_000;
let current = new Map<string, Context>();
let previous = new Map<string, Context>();

/** Remembers `ctx` as the latest trace context of the message `id`. */
export function rememberTrace(id: string | null | undefined, ctx: Context): void {
  if (!id) return;
  if (current.size >= GENERATION && !current.has(id)) {
    previous = current;
    current = new Map();
  }
  current.set(id, ctx);
}

/**
 * The parent for a record about message `id`: the active context when a span is active (a record
 * handler, an explicit withSpan), else the context last remembered for `id`, else the active context.
 */
export function parentFor(id: string | null | undefined): Context {
  const active = otelContext.active();
  if (trace.getSpanContext(active)) return active;
  return (id ? (current.get(id) ?? previous.get(id)) : undefined) ?? active;
}
