// Accepted dispatches replayed from dlr_dispatch_index (DISPATCH_REPLAY).
//
// The join stage no longer writes a message row for an accepted dispatch's part state (ENROUTE, with the
// supplier id, the part total, segments and acceptance time): everything that state carries is in the
// dispatch's dlr_dispatch_index row, committed before the dispatch can be joined to any receipt. Whoever
// needs the message's state past its dispatch (the aggregation stage before applying a receipt's part
// state, an expiry or a rejection; MessageService for a message still in flight) replays those rows as
// the `part` events the dispatch used to make, in acceptance order. A replay that the state already knows
// (the supplier id recorded, the part final) or that a re-route made stale is a no-op, so it is idempotent
// and a row written by an older version (dispatch applied) replays to the same state.
import { MessageContext } from '@smshub/contracts';
import { arrayLiteralOf } from '@smshub/db';
import { applyEvent, dispatchUnknown, type MessageState, type PartEvent } from './domain/timeline.js';
import { mergeContext } from './mapping.js';
import type { Queryable } from './sql.js';

/** One accepted dispatch as the aggregation stage replays it: the part event and the dispatch's context. */
export interface ReplayedDispatch {
  context: MessageContext;
  event: PartEvent;
}

/** A dlr_dispatch_index row as replayed (DISPATCH_COLUMNS). */
export interface IndexRow {
  message_id: string;
  part_index: number;
  connector_id: string;
  supplier_message_id: string;
  parts_total: number;
  accepted_at: Date;
  context: Buffer;
  segments: number;
  attempt: number;
}

/** The dlr_dispatch_index columns of an IndexRow. */
export const DISPATCH_COLUMNS =
  'message_id, part_index, connector_id, supplier_message_id, parts_total, accepted_at, context, segments, attempt';

/**
 * The `part` event of an accepted dispatch, exactly as the join stage made it from the dispatch
 * (SmsPartStatus: status ENROUTE, the part total, segments, the supplier id, acceptance at the dispatch's
 * time) and the aggregation stage read it back (partInputs). Pure.
 */
export function replayedDispatch(row: IndexRow): ReplayedDispatch {
  const context = MessageContext.decode(row.context);
  const event: PartEvent = {
    type: 'part',
    hubMessageId: row.message_id,
    partIndex: row.part_index,
    partsTotal: Math.max(1, row.parts_total),
    status: 'ENROUTE',
    err: '000',
    time: row.accepted_at.getTime(),
    accepted: true,
  };
  if (row.connector_id) event.connectorId = row.connector_id;
  if (row.supplier_message_id) event.supplierMessageId = row.supplier_message_id;
  if (row.segments > 0) event.segments = row.segments;
  if (context.accountId) event.accountId = context.accountId;
  return { context, event };
}

/** The accepted dispatches of `ids` from dlr_dispatch_index, per message, in acceptance order. */
export async function indexedDispatches(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, ReplayedDispatch[]>> {
  const out = new Map<string, ReplayedDispatch[]>();
  if (ids.length === 0) return out;
  const res = await db.query<IndexRow>(
    `SELECT ${DISPATCH_COLUMNS}
       FROM dlr_dispatch_index WHERE message_id = ANY($1::uuid[])
      ORDER BY message_id, accepted_at, attempt, part_index`,
    [arrayLiteralOf(ids)],
  );
  return dispatchesByMessage(res.rows);
}

/** `rows` as replayed dispatches per message, each message's in acceptance order (then attempt, part). */
export function dispatchesByMessage(rows: readonly IndexRow[]): Map<string, ReplayedDispatch[]> {
  const byMessage = new Map<string, IndexRow[]>();
  for (const row of rows) {
    let list = byMessage.get(row.message_id);
    if (list === undefined) byMessage.set(row.message_id, (list = []));
    list.push(row);
  }
  const out = new Map<string, ReplayedDispatch[]>();
  for (const [id, list] of byMessage) {
    if (list.length > 1) list.sort(acceptanceOrder);
    out.set(id, list.map(replayedDispatch));
  }
  return out;
}

function acceptanceOrder(a: IndexRow, b: IndexRow): number {
  return (
    a.accepted_at.getTime() - b.accepted_at.getTime() || a.attempt - b.attempt || a.part_index - b.part_index
  );
}

/** Connector of the message's last attempt, as dlr_messages.connector_id holds it ('' if never dispatched). */
export function lastConnectorOf(state: MessageState): string {
  for (let i = state.parts.length - 1; i >= 0; i--) {
    const c = state.parts[i]?.connectorId;
    if (c !== undefined) return c;
  }
  return '';
}

/** Segments of the message, as dlr_messages.segments holds them. */
export function segmentsOf(state: MessageState): number {
  return state.parts.reduce((a, p) => a + (p.segments ?? 0), 0);
}

/**
 * A stored message (state and context) with its accepted dispatches replayed, for readers (MessageService):
 * what the row would hold had the dispatches been written to it. Pure; `changed` false when none applied.
 */
export function replayStored(
  state: MessageState,
  ctx: MessageContext,
  dispatches: readonly ReplayedDispatch[],
): { state: MessageState; ctx: MessageContext; changed: boolean } {
  let changed = false;
  for (const d of dispatches) {
    if (!dispatchUnknown(state, d.event)) continue;
    ctx = mergeContext(ctx, d.context);
    state = applyEvent(state, d.event, { notifyIntermediate: false, maxTimeline: 1 }).state;
    changed = true;
  }
  return { state, ctx, changed };
}
