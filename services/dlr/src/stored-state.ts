// The reducer's MessageState as dlr_messages stores it (column `state_json`, migration 0402).
//
// Every write of a message row carries its state, so the stored form leaves out what the row already says
// or what is a default, and `unpackState` puts it back: the state read is deep-equal to the state written
// (unit-tested), whatever the reducer does with it. Left out:
//   - hubMessageId: the row's message_id;
//   - accountId when it equals the row's account_id;
//   - partsTotal when it equals the number of parts;
//   - the timeline when it is only the submitted entry at submittedAt (dlr_timeline holds the timeline; the
//     state keeps its first entry, and that is it for every message whose submitted event came first);
//   - per part: `seen` when empty, `attempts` when 0, and a supplier id's connectorId when it is the part's.
// A state stored whole (jsonb `state`, by a dlr before this version or with DLR_STATE_FORMAT=jsonb) has
// every field, and unpacks to itself.
import type { MessageState, PartState, SupplierRef } from './domain/timeline.js';

/**
 * STORED_STATE: the reducer state of a row, compact in `state_json` (stored-state.ts: what the row already
 * says left out; json is stored as written, where jsonb is converted to a binary form on every write and
 * back to text on every read), or whole in `state` (DLR_STATE_FORMAT=jsonb, and rows written before
 * migration 0402). Read back as one json value.
 */
export const STORED_STATE = 'coalesce(state_json, state::json)';

/** What the stored form may leave out of a part, as stored. */
type StoredPart = Omit<PartState, 'seen' | 'attempts' | 'supplierIds'> & {
  seen?: string[];
  attempts?: number;
  supplierIds: (Omit<SupplierRef, 'connectorId'> & { connectorId?: string })[];
};

/** MessageState as stored: the fields unpackState restores may be missing. */
export type StoredState = Omit<
  MessageState,
  'hubMessageId' | 'accountId' | 'partsTotal' | 'timeline' | 'parts'
> & {
  hubMessageId?: string;
  /** Packed: left out = the row's account_id; null = none (while the row has one). */
  accountId?: string | null;
  partsTotal?: number;
  timeline?: MessageState['timeline'];
  parts: StoredPart[];
};

/** The JSON text of `state` for a row whose account_id column is `accountId`. */
export function packState(state: MessageState, accountId: string): string {
  // fields copied one by one (object rest and spread cost several times as much here)
  const out: Record<string, unknown> = {};
  for (const key in state) {
    if (!LEFT_OUT.has(key)) out[key] = state[key as keyof MessageState];
  }
  out['parts'] = state.parts.map(packPart);
  const account = state.accountId;
  if (account === undefined) {
    if (accountId !== '') out['accountId'] = null;
  } else if (account !== accountId || accountId === '') out['accountId'] = account;
  if (state.partsTotal !== state.parts.length) out['partsTotal'] = state.partsTotal;
  if (!onlySubmitted(state)) out['timeline'] = state.timeline;
  return JSON.stringify(out);
}

/**
 * The state of row `messageId` (account `accountId`) from its stored form (packed or whole), as parsed
 * from the row: completed in place (the caller owns the parsed object).
 */
export function unpackState(stored: StoredState, messageId: string, accountId: string): MessageState {
  if (!Array.isArray(stored.parts)) return stored as unknown as MessageState; // not a reducer state (inbound)
  if (stored.hubMessageId !== undefined) return stored as MessageState; // stored whole
  const state = stored as unknown as MessageState & { accountId?: string | null };
  state.hubMessageId = messageId;
  if (state.accountId === null) delete state.accountId;
  else if (state.accountId === undefined && accountId !== '') state.accountId = accountId;
  state.partsTotal ??= state.parts.length;
  state.timeline ??= state.submittedAt !== undefined ? [{ kind: 'submitted', time: state.submittedAt }] : [];
  for (const p of stored.parts) {
    p.seen ??= [];
    p.attempts ??= 0;
    for (const r of p.supplierIds) r.connectorId ??= p.connectorId ?? '';
  }
  return state as MessageState;
}

/** MessageState fields packState writes only when they say more than the row. */
const LEFT_OUT = new Set(['hubMessageId', 'accountId', 'partsTotal', 'timeline', 'parts']);

function onlySubmitted(state: MessageState): boolean {
  if (state.timeline.length !== 1 || state.submittedAt === undefined) return false;
  const e = state.timeline[0];
  if (e === undefined || e.kind !== 'submitted' || e.time !== state.submittedAt) return false;
  for (const key in e) if (key !== 'kind' && key !== 'time') return false;
  return true;
}

function packPart(p: PartState): StoredPart {
  const out: Record<string, unknown> = {};
  for (const key in p) {
    if (key !== 'seen' && key !== 'attempts' && key !== 'supplierIds') out[key] = p[key as keyof PartState];
  }
  out['supplierIds'] = p.supplierIds.map((r) =>
    p.connectorId !== undefined && r.connectorId === p.connectorId
      ? { supplierMessageId: r.supplierMessageId }
      : r,
  );
  if (p.seen.length > 0) out['seen'] = p.seen;
  if (p.attempts !== 0) out['attempts'] = p.attempts;
  return out as StoredPart;
}
