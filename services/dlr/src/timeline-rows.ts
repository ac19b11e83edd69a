// Rows of dlr_timeline: every event of a message as it was on its topic (protobuf bytes).
import type { TypedColumn } from './sql.js';

export type TimelineKind =
  | 'submitted'
  | 'held'
  | 'released'
  | 'routed'
  | 'rejected'
  | 'dispatched'
  | 'receipt'
  | 'delivery'
  | 'inbound'
  | 'rated'
  | 'rerouted';

/** Position of each kind in the flow: orders events that share a timestamp. */
export const FLOW_ORDER: Record<TimelineKind, number> = {
  submitted: 1,
  held: 1,
  released: 1,
  routed: 2,
  rejected: 3,
  dispatched: 4,
  receipt: 5,
  delivery: 6,
  inbound: 0,
  rated: 7,
  rerouted: 5,
};

export const TIMELINE_COLUMNS: readonly TypedColumn[] = [
  ['message_id', 'uuid'],
  ['event_key', 'text'],
  ['topic', 'text'],
  ['kind', 'text'],
  ['event_time', 'timestamptz'],
  ['flow_order', 'smallint'],
  ['payload', 'bytea'],
];

export type TimelineRow = [string, string, string, TimelineKind, Date, number, Buffer];

export function timelineRow(
  messageId: string,
  eventKey: string,
  kind: TimelineKind,
  topic: string,
  time: number,
  payload: Uint8Array,
): TimelineRow {
  // no copy when the payload is already a Buffer (the consumed record's bytes)
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return [messageId, eventKey, topic, kind, new Date(time), FLOW_ORDER[kind], bytes];
}
