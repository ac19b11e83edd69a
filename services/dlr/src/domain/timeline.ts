// Per-message timeline and state: a pure reducer `applyEvent(state, event, config) -> {state, outputs}`.
//
// The state is plain data (JSON-friendly apart from nothing: only strings, numbers, booleans, arrays),
// so the service can store it in Postgres and load it back. applyEvent never mutates its input;
// applyEventInPlace updates it (for a caller that owns the state).
//
// Rules:
// - A part's final state never changes (first final wins); a later different receipt is reported as
//   an `ignored` output (for a metric) and appended to the timeline; an identical receipt is a no-op.
// - Intermediate states only move forward (ENROUTE -> ACCEPTED).
// - The message status is aggregateStatus(parts) (status.ts). A `delivery` output is produced when the
//   customer-visible status changes: the final one exactly once; intermediate ones only when
//   `notifyIntermediate` is set.
// - A routing/firewall rejection makes every pending part REJECTED with the rejection's err.
// - An egress final failure makes that part UNDELIVERABLE with errFromSmppStatus(last status).
// - An `expire` event makes every pending part EXPIRED with err 009.

import {
  HUB_ERR,
  aggregateStatus,
  customerErr,
  errFromSmppStatus,
  isFinal,
  toMessageState,
  toStatText,
} from './status.js';
import type { DeliveryNotification, Dispatch, DlrStatus, NormalisedReceipt } from './types.js';
import { decideReroute, REROUTABLE, type RerouteDone, type RerouteState } from './reroute.js';
import { awaitsReroute } from './expiry.js';

export interface SupplierRef {
  connectorId: string;
  supplierMessageId: string;
}

export interface PartState {
  status: DlrStatus;
  /** Customer err of this part ('000' until a failure). */
  err: string;
  /** Connector of the last dispatch attempt. */
  connectorId?: string;
  /** Every supplier id this part was accepted under (normally one; two after an ambiguous retry). */
  supplierIds: SupplierRef[];
  attempts: number;
  /** Segments the supplier charges for this part (from the dispatch, when known). */
  segments?: number;
  acceptedAt?: number;
  finalAt?: number;
  /** Fingerprints of receipts already applied to this part (bounded). */
  seen: string[];
}

export type TimelineKind = 'submitted' | 'routed' | 'rejected' | 'dispatch' | 'receipt' | 'expired' | 'final';

export interface TimelineEntry {
  kind: TimelineKind;
  time: number;
  connectorId?: string;
  partIndex?: number;
  attempt?: number;
  status?: DlrStatus;
  err?: string;
  /** Free-form detail, e.g. 'ignored: after-final' or the SMPP status of a failed attempt. */
  note?: string;
}

export interface MessageState {
  hubMessageId: string;
  accountId?: string;
  /** Destination key for statistics (prefix or MCC-MNC). */
  destKey?: string;
  partsTotal: number;
  parts: PartState[];
  submittedAt?: number;
  /** End of validity (epoch ms) when the customer gave one. */
  validUntil?: number;
  status: DlrStatus;
  /** Last status the customer was notified of. */
  notified?: DlrStatus;
  finalNotified: boolean;
  finalAt?: number;
  /** Last time anything happened to this message (for eviction). */
  updatedAt: number;
  timeline: TimelineEntry[];
  /** Re-route terms from the routed event and whether the extra attempt was ordered (reroute.ts). */
  reroute?: RerouteState;
}

export type TimelineEvent =
  | {
      type: 'submitted';
      hubMessageId: string;
      accountId?: string;
      destKey?: string;
      partsTotal: number;
      validUntil?: number;
      time: number;
    }
  | {
      type: 'routed';
      hubMessageId: string;
      connectorId: string;
      time: number;
      /** SmsRouted.reroute with the candidate order; unset = never re-routed. */
      reroute?: Omit<RerouteState, 'done'>;
    }
  | {
      type: 'rejected';
      hubMessageId: string;
      err: string;
      reason?: string;
      time: number;
      /** Routing expired it (quiet hours outlast its validity): final EXPIRED instead of REJECTED. */
      expired?: boolean;
    }
  | { type: 'dispatch'; dispatch: Dispatch }
  | { type: 'receipt'; hubMessageId: string; partIndex: number; receipt: NormalisedReceipt }
  | { type: 'expire'; hubMessageId: string; time: number }
  | PartEvent;

/**
 * A part's new state as decided elsewhere (the service's join stage publishes it on dlr.parts.v1, keyed
 * by hub id, so the parts of an egress-split message meet in one place). Same rules as receipts: a final
 * state never changes (an identical repeat is a no-op, a different one is `ignored: after-final`),
 * intermediate states only move forward. `accepted` marks a supplier acceptance at `time` (the start of
 * the receipt latency); `doneAt` is the outcome time the supplier reported.
 */
export interface PartEvent {
  type: 'part';
  hubMessageId: string;
  partIndex: number;
  partsTotal: number;
  status: DlrStatus;
  /** Customer err of the part (ignored unless the status is a failure). */
  err: string;
  connectorId?: string;
  supplierMessageId?: string;
  accepted?: boolean;
  attempt?: number;
  segments?: number;
  accountId?: string;
  destKey?: string;
  doneAt?: number;
  time: number;
  /** The state comes from a supplier's receipt (not from a dispatch): may be re-routed (reroute.ts). */
  fromReceipt?: boolean;
}

export type DlrOutput =
  | { type: 'delivery'; notification: DeliveryNotification }
  | {
      /** A part reached its final state (input for delivery statistics). */
      type: 'part-final';
      hubMessageId: string;
      partIndex: number;
      connectorId?: string;
      destKey?: string;
      status: DlrStatus;
      /** Receipt time minus supplier acceptance time, when the outcome came from a receipt. */
      latencyMs?: number;
      time: number;
    }
  | {
      type: 'ignored';
      hubMessageId: string;
      partIndex: number;
      reason: 'after-final' | 'regress' | 'bad-part';
      status: DlrStatus;
    }
  | {
      /** A fast failure withheld from the customer: send the message once more (sms.reroute.v1). */
      type: 'reroute';
      hubMessageId: string;
      partIndex: number;
      done: RerouteDone;
    };

export interface TimelineConfig {
  /** Send ENROUTE/ACCEPTED notifications to the customer too. */
  notifyIntermediate: boolean;
  /** Maximum timeline entries kept per message (oldest after the first are dropped). Default 64. */
  maxTimeline?: number;
}

const MAX_SEEN = 8;
const INTERMEDIATE_RANK: Partial<Record<DlrStatus, number>> = { ENROUTE: 0, ACCEPTED: 1 };

export function newPart(): PartState {
  return { status: 'ENROUTE', err: HUB_ERR.NONE, supplierIds: [], attempts: 0, seen: [] };
}

export function initialState(hubMessageId: string, partsTotal: number, time: number): MessageState {
  return {
    hubMessageId,
    partsTotal: Math.max(1, partsTotal),
    parts: Array.from({ length: Math.max(1, partsTotal) }, newPart),
    status: 'ENROUTE',
    finalNotified: false,
    updatedAt: time,
    timeline: [],
  };
}

function eventHubId(event: TimelineEvent): string {
  return event.type === 'dispatch' ? event.dispatch.hubMessageId : event.hubMessageId;
}

function eventTime(event: TimelineEvent): number {
  switch (event.type) {
    case 'dispatch':
      return event.dispatch.time;
    case 'receipt':
      return event.receipt.receivedAt;
    default:
      return event.time;
  }
}

function fingerprint(r: NormalisedReceipt): string {
  return [r.status, r.err ?? '', r.doneDate ?? '', r.networkErrorCode ?? '', r.supplierMessageId ?? ''].join(
    '|',
  );
}

/**
 * Deep copy of a state (applyEvent works on a copy). Hand-written for the known shape: structuredClone
 * was the top cost of the correlator benchmark.
 */
export function cloneState(state: MessageState): MessageState {
  return {
    ...state,
    parts: state.parts.map((p) => ({
      ...p,
      supplierIds: p.supplierIds.map((r) => ({ ...r })),
      seen: [...p.seen],
    })),
    timeline: state.timeline.map((e) => ({ ...e })),
  };
}

const clone = cloneState;

function push(state: MessageState, entry: TimelineEntry, config: TimelineConfig): void {
  state.timeline.push(entry);
  const max = config.maxTimeline ?? 64;
  if (state.timeline.length > max) state.timeline.splice(1, state.timeline.length - max);
}

function ensureParts(state: MessageState, partsTotal: number): void {
  if (partsTotal > state.partsTotal) {
    for (let i = state.partsTotal; i < partsTotal; i++) state.parts.push(newPart());
    state.partsTotal = partsTotal;
  }
}

function finishPart(
  state: MessageState,
  index: number,
  status: DlrStatus,
  err: string,
  time: number,
  outputs: DlrOutput[],
  latencyMs?: number,
): void {
  const part = state.parts[index];
  if (part === undefined || isFinal(part.status)) return;
  part.status = status;
  part.err = err;
  part.finalAt = time;
  const out: DlrOutput = {
    type: 'part-final',
    hubMessageId: state.hubMessageId,
    partIndex: index,
    status,
    time,
  };
  if (part.connectorId !== undefined) out.connectorId = part.connectorId;
  if (state.destKey !== undefined) out.destKey = state.destKey;
  if (latencyMs !== undefined) out.latencyMs = latencyMs;
  outputs.push(out);
}

/** Recompute the aggregate status and emit the customer notification if it should see a change. */
function settle(state: MessageState, time: number, config: TimelineConfig, outputs: DlrOutput[]): void {
  const statuses = state.parts.map((p) => p.status);
  const status = aggregateStatus(statuses);
  state.status = status;
  if (state.finalNotified) return;
  const final = isFinal(status);
  if (!final && (!config.notifyIntermediate || state.notified === status)) return;
  // the part that decided the outcome gives err, connector and time: the first part in that status (not
  // for DELIVERED), else the first of the latest final ones. Loops, not find/sort/spread: settle runs for
  // every event applied.
  let decisive: PartState | undefined;
  let latest: PartState | undefined;
  let outcomeTime = final ? -Infinity : time;
  let partsDelivered = 0;
  for (const p of state.parts) {
    if (decisive === undefined && p.status === status && status !== 'DELIVERED') decisive = p;
    if (latest === undefined || (p.finalAt ?? 0) > (latest.finalAt ?? 0)) latest = p;
    if (final) outcomeTime = Math.max(outcomeTime, p.finalAt ?? time);
    if (p.status === 'DELIVERED') partsDelivered++;
  }
  decisive ??= latest;
  const n: DeliveryNotification = {
    hubMessageId: state.hubMessageId,
    status,
    stat: toStatText(status),
    messageState: toMessageState(status),
    err: status === 'DELIVERED' || !final ? HUB_ERR.NONE : (decisive?.err ?? HUB_ERR.NONE),
    final,
    partsTotal: state.partsTotal,
    partsDelivered,
    time: outcomeTime,
  };
  if (state.accountId !== undefined) n.accountId = state.accountId;
  if (decisive?.connectorId !== undefined) n.connectorId = decisive.connectorId;
  state.notified = status;
  if (final) {
    state.finalNotified = true;
    state.finalAt = outcomeTime;
    push(state, { kind: 'final', time: outcomeTime, status, err: n.err }, config);
  }
  outputs.push({ type: 'delivery', notification: n });
}

export interface ApplyResult {
  state: MessageState;
  outputs: DlrOutput[];
}

export function applyEvent(
  current: MessageState | undefined,
  event: TimelineEvent,
  config: TimelineConfig,
): ApplyResult {
  const state = current === undefined ? startState(event) : clone(current);
  const outputs: DlrOutput[] = [];
  const changed = reduce(state, event, config, outputs);
  return { state: changed ? state : (current ?? state), outputs };
}

export interface InPlaceResult extends ApplyResult {
  /** Whether the state changed (a new state, when `current` was undefined, always counts as changed). */
  changed: boolean;
}

/**
 * applyEvent without the copy: `current` itself is updated and returned (a new state when undefined).
 * For a caller that owns `current` and keeps no other reference to it (the aggregation stage's states,
 * read from their row for one transaction). Same outputs and same resulting state as applyEvent; when the
 * event changes nothing, `current` is left as it was (`changed` false).
 */
export function applyEventInPlace(
  current: MessageState | undefined,
  event: TimelineEvent,
  config: TimelineConfig,
): InPlaceResult {
  const outputs: DlrOutput[] = [];
  if (current === undefined) {
    const state = startState(event);
    reduce(state, event, config, outputs);
    return { state, outputs, changed: true };
  }
  // What reduce may set before it finds that an event changes nothing (ensureParts, the submitted and
  // part events' account, destination and validity): put back when it does.
  const { partsTotal, accountId, destKey, validUntil } = current;
  const partsLength = current.parts.length;
  const changed = reduce(current, event, config, outputs);
  if (!changed) {
    current.parts.length = partsLength;
    current.partsTotal = partsTotal;
    restore(current, 'accountId', accountId);
    restore(current, 'destKey', destKey);
    restore(current, 'validUntil', validUntil);
  }
  return { state: current, outputs, changed };
}

function restore<K extends 'accountId' | 'destKey' | 'validUntil'>(
  state: MessageState,
  key: K,
  value: MessageState[K],
): void {
  if (state[key] === value) return;
  if (value === undefined) delete state[key];
  else state[key] = value;
}

function startState(event: TimelineEvent): MessageState {
  return initialState(
    eventHubId(event),
    event.type === 'submitted' || event.type === 'part'
      ? event.partsTotal
      : event.type === 'dispatch'
        ? event.dispatch.partsTotal
        : 1,
    eventTime(event),
  );
}

/**
 * Applies `event` to `state` (mutated). Returns false when the event changes nothing: the caller then
 * keeps the state it had (applyEvent returns its input; applyEventInPlace undoes what was set before the
 * event was found to change nothing).
 */
function reduce(
  state: MessageState,
  event: TimelineEvent,
  config: TimelineConfig,
  outputs: DlrOutput[],
): boolean {
  const time = eventTime(event);
  switch (event.type) {
    case 'submitted': {
      ensureParts(state, event.partsTotal);
      if (event.accountId !== undefined) state.accountId = event.accountId;
      if (event.destKey !== undefined) state.destKey = event.destKey;
      if (event.validUntil !== undefined) state.validUntil = event.validUntil;
      if (state.submittedAt !== undefined) return false;
      state.submittedAt = event.time;
      push(state, { kind: 'submitted', time }, config);
      break;
    }
    case 'routed':
      push(state, { kind: 'routed', time, connectorId: event.connectorId }, config);
      if (event.reroute !== undefined && state.reroute === undefined) state.reroute = { ...event.reroute };
      break;
    case 'rejected': {
      const err = customerErr(event.err);
      const entry: TimelineEntry = { kind: 'rejected', time, err };
      if (event.reason !== undefined) entry.note = event.reason;
      push(state, entry, config);
      const status = event.expired === true ? 'EXPIRED' : 'REJECTED';
      state.parts.forEach((_, i) => finishPart(state, i, status, err, time, outputs));
      break;
    }
    case 'dispatch': {
      const d = event.dispatch;
      ensureParts(state, d.partsTotal);
      const part = state.parts[d.partIndex];
      if (part === undefined) {
        outputs.push({
          type: 'ignored',
          hubMessageId: state.hubMessageId,
          partIndex: d.partIndex,
          reason: 'bad-part',
          status: state.status,
        });
        return false;
      }
      part.attempts = Math.max(part.attempts, d.attempt);
      part.connectorId = d.connectorId;
      const entry: TimelineEntry = {
        kind: 'dispatch',
        time,
        connectorId: d.connectorId,
        partIndex: d.partIndex,
        attempt: d.attempt,
      };
      if (d.smppStatus !== undefined)
        entry.note = `command_status 0x${d.smppStatus.toString(16).padStart(8, '0')}`;
      else if (!d.accepted) entry.note = 'no response';
      push(state, entry, config);
      if (d.accepted) {
        part.acceptedAt ??= d.time;
        const id = d.supplierMessageId?.trim();
        if (
          id &&
          !part.supplierIds.some((s) => s.connectorId === d.connectorId && s.supplierMessageId === id)
        ) {
          part.supplierIds.push({ connectorId: d.connectorId, supplierMessageId: id });
        }
      } else if (d.finalFailure) {
        finishPart(state, d.partIndex, 'UNDELIVERABLE', errFromSmppStatus(d.smppStatus), d.time, outputs);
      }
      break;
    }
    case 'receipt': {
      const r = event.receipt;
      const part = state.parts[event.partIndex];
      if (part === undefined) {
        outputs.push({
          type: 'ignored',
          hubMessageId: state.hubMessageId,
          partIndex: event.partIndex,
          reason: 'bad-part',
          status: r.status,
        });
        return false;
      }
      const fp = fingerprint(r);
      if (part.seen.includes(fp)) return false; // identical receipt: no-op
      part.seen.push(fp);
      if (part.seen.length > MAX_SEEN) part.seen.shift();
      const entry: TimelineEntry = {
        kind: 'receipt',
        time,
        connectorId: r.connectorId,
        partIndex: event.partIndex,
        status: r.status,
      };
      if (r.err !== undefined) entry.err = r.err;
      if (isFinal(part.status)) {
        entry.note = 'ignored: after-final';
        push(state, entry, config);
        outputs.push({
          type: 'ignored',
          hubMessageId: state.hubMessageId,
          partIndex: event.partIndex,
          reason: 'after-final',
          status: r.status,
        });
        state.updatedAt = Math.max(state.updatedAt, time);
        return true;
      }
      push(state, entry, config);
      if (isFinal(r.status)) {
        const latency =
          part.acceptedAt === undefined ? undefined : Math.max(0, r.receivedAt - part.acceptedAt);
        const err = r.status === 'DELIVERED' ? HUB_ERR.NONE : customerErr(r.err);
        finishPart(state, event.partIndex, r.status, err, r.doneDate ?? r.receivedAt, outputs, latency);
      } else if ((INTERMEDIATE_RANK[r.status] ?? 0) >= (INTERMEDIATE_RANK[part.status] ?? 0)) {
        part.status = r.status;
      } else {
        outputs.push({
          type: 'ignored',
          hubMessageId: state.hubMessageId,
          partIndex: event.partIndex,
          reason: 'regress',
          status: r.status,
        });
      }
      break;
    }
    case 'part': {
      if (!applyPart(state, event, config, outputs)) return false;
      break;
    }
    case 'expire': {
      if (state.parts.every((p) => isFinal(p.status))) return false;
      // A part still waiting for its re-route's extra attempt (never accepted: the order dead-lettered, no
      // usable candidate, the re-route timeout of expiry.ts) ends with the supplier's withheld failure.
      const done = state.reroute?.done;
      const withheld = done?.status;
      if (done !== undefined && withheld !== undefined && isDlrStatus(withheld)) {
        const note = `re-route not carried out: the failure from ${done.from} stands`;
        const err = done.err ?? HUB_ERR.NONE;
        state.parts.forEach((_, i) => {
          if (!awaitsReroute(state, i)) return;
          push(
            state,
            { kind: 'receipt', time, connectorId: done.from, partIndex: i, status: withheld, err, note },
            config,
          );
          state.parts[i]!.connectorId = done.from;
          finishPart(state, i, withheld, err, time, outputs);
        });
      }
      if (state.parts.some((p) => !isFinal(p.status))) push(state, { kind: 'expired', time }, config);
      state.parts.forEach((_, i) => finishPart(state, i, 'EXPIRED', HUB_ERR.EXPIRED_IN_HUB, time, outputs));
      break;
    }
  }
  state.updatedAt = Math.max(state.updatedAt, time);
  settle(state, time, config, outputs);
  return true;
}

/**
 * A receipt's final failure that the re-route terms cover (reroute.ts): the part goes back to pending
 * for the next candidate instead of ending, the failure is kept in the timeline and in the statistics of
 * the failed connector, and a `reroute` output orders the extra attempt. Returns false when the failure
 * stands.
 */
function rerouteFailure(
  state: MessageState,
  e: PartEvent,
  err: string,
  config: TimelineConfig,
  outputs: DlrOutput[],
): boolean {
  const part = state.parts[e.partIndex];
  if (part === undefined || state.reroute === undefined) return false;
  const connectorId = e.connectorId ?? part.connectorId;
  const done = decideReroute(state.reroute, {
    status: e.status,
    err,
    connectorId,
    acceptedAt: part.acceptedAt,
    time: e.time,
    partsTotal: state.partsTotal,
  });
  if (done === undefined) return false;
  state.reroute = { ...state.reroute, done };
  const latencyMs = part.acceptedAt === undefined ? undefined : Math.max(0, e.time - part.acceptedAt);
  const sample: DlrOutput = {
    type: 'part-final',
    hubMessageId: state.hubMessageId,
    partIndex: e.partIndex,
    connectorId: done.from,
    status: e.status,
    time: e.doneAt ?? e.time,
  };
  if (state.destKey !== undefined) sample.destKey = state.destKey;
  if (latencyMs !== undefined) sample.latencyMs = latencyMs;
  outputs.push(sample);
  push(
    state,
    {
      kind: 'receipt',
      time: e.time,
      connectorId: done.from,
      partIndex: e.partIndex,
      status: e.status,
      err,
      note: `re-routed: ${done.reason}`,
    },
    config,
  );
  part.status = 'ENROUTE';
  part.err = HUB_ERR.NONE;
  delete part.acceptedAt;
  part.connectorId = state.reroute.candidates[done.fromCandidate];
  part.attempts += 1;
  outputs.push({ type: 'reroute', hubMessageId: state.hubMessageId, partIndex: e.partIndex, done });
  state.updatedAt = Math.max(state.updatedAt, e.time);
  return true;
}

function isDlrStatus(s: string): s is DlrStatus {
  return Object.values(REROUTABLE).includes(s);
}

/**
 * Whether replaying an accepted dispatch (a `part` event made from a dlr_dispatch_index row) could change
 * `state`: not when the part is final (a replay must never end up as `ignored: after-final`) nor when the
 * part already knows that supplier id (applied before: the row was written with it). Pure.
 */
export function dispatchUnknown(state: MessageState | undefined, e: PartEvent): boolean {
  if (state === undefined) return true;
  const part = state.parts[e.partIndex];
  if (part === undefined) return e.partIndex < e.partsTotal;
  if (isFinal(part.status)) return false;
  return !part.supplierIds.some(
    (s) => s.connectorId === e.connectorId && s.supplierMessageId === e.supplierMessageId,
  );
}

/** Applies a `part` event to `state` (a copy). Returns false when nothing changed. */
function applyPart(state: MessageState, e: PartEvent, config: TimelineConfig, outputs: DlrOutput[]): boolean {
  ensureParts(state, e.partsTotal);
  if (e.accountId !== undefined) state.accountId ??= e.accountId;
  if (e.destKey !== undefined) state.destKey ??= e.destKey;
  const part = state.parts[e.partIndex];
  if (part === undefined) {
    outputs.push({
      type: 'ignored',
      hubMessageId: state.hubMessageId,
      partIndex: e.partIndex,
      reason: 'bad-part',
      status: e.status,
    });
    return false;
  }
  const err = e.status === 'DELIVERED' || !isFinal(e.status) ? HUB_ERR.NONE : e.err;
  if (isFinal(part.status)) {
    if (part.status === e.status && part.err === err) return false; // a repeat of what we know
    push(
      state,
      {
        kind: 'receipt',
        time: e.time,
        partIndex: e.partIndex,
        status: e.status,
        note: 'ignored: after-final',
      },
      config,
    );
    outputs.push({
      type: 'ignored',
      hubMessageId: state.hubMessageId,
      partIndex: e.partIndex,
      reason: 'after-final',
      status: e.status,
    });
    state.updatedAt = Math.max(state.updatedAt, e.time);
    return true;
  }
  const rerouted = state.reroute?.done;
  // After a re-route, late or replayed states of the failed connector's attempt change nothing.
  if (rerouted !== undefined && e.connectorId === rerouted.from && part.connectorId !== e.connectorId)
    return false;
  if (isFinal(e.status) && e.fromReceipt === true && rerouteFailure(state, e, err, config, outputs))
    return true;
  if (e.connectorId !== undefined) part.connectorId = e.connectorId;
  if (e.attempt !== undefined) part.attempts = Math.max(part.attempts, e.attempt);
  if (e.segments !== undefined) part.segments = e.segments;
  if (e.accepted) {
    part.acceptedAt ??= e.time;
    const id = e.supplierMessageId?.trim();
    if (
      id &&
      e.connectorId !== undefined &&
      !part.supplierIds.some((s) => s.connectorId === e.connectorId && s.supplierMessageId === id)
    ) {
      part.supplierIds.push({ connectorId: e.connectorId, supplierMessageId: id });
    }
  }
  if (isFinal(e.status)) {
    const latency =
      part.acceptedAt === undefined || e.accepted ? undefined : Math.max(0, e.time - part.acceptedAt);
    finishPart(state, e.partIndex, e.status, err, e.doneAt ?? e.time, outputs, latency);
  } else if ((INTERMEDIATE_RANK[e.status] ?? 0) >= (INTERMEDIATE_RANK[part.status] ?? 0)) {
    part.status = e.status;
  } else {
    outputs.push({
      type: 'ignored',
      hubMessageId: state.hubMessageId,
      partIndex: e.partIndex,
      reason: 'regress',
      status: e.status,
    });
  }
  return true;
}
