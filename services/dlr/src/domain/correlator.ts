// Correlator: joins receipts to dispatched parts and keeps per-message state in a bounded in-memory
// index. No I/O: the service persists `snapshot()`s (plain data) and `load()`s them back.
//
// - Ids are matched on canonical keys (message-id.ts), scoped by connector (ids of different
//   suppliers may collide). A receipt's TLV id is tried first (read in the connector's native format),
//   then its text id (read in the format the per-connector evidence supports, else 'auto').
// - When a key matches several parts, the one whose native (first) key equals the matched key wins,
//   then the most recently accepted one.
// - A receipt that matches nothing is parked: it is retried whenever a dispatch arrives (and on every
//   sweep) until `parkTtlMs` has passed, then emitted as `unmatched` (metric + dead-letter). When more
//   than `maxParked` receipts are parked the oldest is emitted as `unmatched` with reason 'overflow'.
//   A receipt with no id at all is `unmatched` at once. Nothing is dropped silently.
// - Messages whose outcome is final are kept `retainFinalMs` to absorb duplicate receipts, then evicted.
//   Above `maxMessages` the least recently updated message is evicted early. Every eviction is an
//   `evicted` output carrying the state so the service can persist it.

import { sweepExpired, type ExpiryConfig } from './expiry.js';
import {
  NO_EVIDENCE,
  candidateKeys,
  observeIdPair,
  textFormatFromEvidence,
  type IdEvidence,
  type IdKey,
} from './message-id.js';
import { receiptTextId } from './receipt-text.js';
import { normaliseReceipt } from './status.js';
import {
  applyEvent,
  type DlrOutput,
  type MessageState,
  type TimelineConfig,
  type TimelineEvent,
} from './timeline.js';
import type { Dispatch, IdFormatSetting, NormalisedReceipt, Receipt } from './types.js';

export interface CorrelatorConfig extends TimelineConfig, ExpiryConfig {
  /** Id format of a connector; unknown connectors use { format: 'auto' }. */
  idSetting: (connectorId: string) => IdFormatSetting;
  /** IANA time zone of a connector's receipt text dates; UTC when absent. */
  receiptTimeZone?: (connectorId: string) => string;
  parkTtlMs: number;
  maxParked: number;
  retainFinalMs: number;
  maxMessages: number;
  /** Apply the expiry sweep in sweep() (default true; off where another stage owns expiry). */
  expire?: boolean;
  /** Emit a `matched` output before the outputs of every receipt joined to a part (default false). */
  reportMatches?: boolean;
}

export const DEFAULT_CORRELATOR_CONFIG: Omit<CorrelatorConfig, 'idSetting'> = Object.freeze({
  notifyIntermediate: false,
  parkTtlMs: 5 * 60_000,
  maxParked: 100_000,
  retainFinalMs: 60 * 60_000,
  maxMessages: 2_000_000,
  defaultValidityMs: 48 * 3_600_000,
  graceMs: 10 * 60_000,
});

export type CorrelatorOutput =
  | DlrOutput
  | {
      type: 'unmatched';
      reason: 'park-expired' | 'overflow' | 'no-id';
      receipt: Receipt;
      normalised: NormalisedReceipt;
      parkedAt: number;
    }
  | { type: 'parked'; connectorId: string; supplierMessageId?: string }
  | {
      /** A receipt was joined to a part (only with `reportMatches`). */
      type: 'matched';
      hubMessageId: string;
      partIndex: number;
      receipt: Receipt;
      normalised: NormalisedReceipt;
    }
  | { type: 'evicted'; state: MessageState };

interface IndexEntry {
  hubMessageId: string;
  partIndex: number;
  /** The entry's first (native) key. */
  primary: IdKey;
  acceptedAt: number;
}

interface Parked {
  seq: number;
  receipt: Receipt;
  normalised: NormalisedReceipt;
  keys: string[];
  parkedAt: number;
}

export class Correlator {
  private readonly config: CorrelatorConfig;
  /** Insertion order = least recently updated first (entries are re-inserted on update). */
  private readonly messages = new Map<string, MessageState>();
  private readonly index = new Map<string, IndexEntry[]>();
  /** The index keys each message was entered under (removal needs no id parsing). */
  private readonly indexedKeys = new Map<string, string[]>();
  /** Parked receipts in arrival order (Map keeps insertion order). */
  private readonly parked = new Map<number, Parked>();
  private readonly parkedByKey = new Map<string, Set<number>>();
  private readonly evidence = new Map<string, IdEvidence>();
  private parkSeq = 0;
  /** Each receipt is normalised (its text parsed) once, however often it is looked at. */
  private readonly normalisedOf = new WeakMap<Receipt, NormalisedReceipt>();
  /** The id in each receipt's text (null: none), parsed once per receipt object (it is asked for several times). */
  private readonly textIds = new WeakMap<Receipt, string | null>();

  constructor(config: Partial<CorrelatorConfig> & Pick<CorrelatorConfig, 'idSetting'>) {
    this.config = { ...DEFAULT_CORRELATOR_CONFIG, ...config };
  }

  get size(): { messages: number; parked: number; indexKeys: number } {
    return { messages: this.messages.size, parked: this.parked.size, indexKeys: this.index.size };
  }

  /** Plain-data copy of one message's state, for persistence. */
  snapshot(hubMessageId: string): MessageState | undefined {
    const s = this.messages.get(hubMessageId);
    return s === undefined ? undefined : structuredClone(s);
  }

  /** Load a persisted state (replaces any in-memory one) and re-index its supplier ids. */
  load(state: MessageState): void {
    this.put(structuredClone(state));
  }

  evidenceFor(connectorId: string): IdEvidence {
    return this.evidence.get(connectorId) ?? NO_EVIDENCE;
  }

  /** Apply a lifecycle event (submitted, routed, rejected, expire) from upstream services. */
  onEvent(event: Exclude<TimelineEvent, { type: 'dispatch' } | { type: 'receipt' }>): CorrelatorOutput[] {
    return this.apply(event);
  }

  onDispatch(dispatch: Dispatch): CorrelatorOutput[] {
    const outputs = this.apply({ type: 'dispatch', dispatch });
    if (dispatch.accepted && dispatch.supplierMessageId?.trim()) {
      const setting = this.config.idSetting(dispatch.connectorId);
      for (const key of candidateKeys(dispatch.supplierMessageId, setting.format)) {
        const seqs = this.parkedByKey.get(`${dispatch.connectorId}|${key}`);
        if (seqs === undefined) continue;
        for (const seq of [...seqs].sort((a, b) => a - b)) {
          const p = this.parked.get(seq);
          if (p === undefined) continue;
          const match = this.lookup(p.receipt.connectorId, p.keys);
          if (match === undefined) continue;
          this.unpark(p);
          outputs.push(...this.applyReceipt(match, p.receipt, p.normalised));
        }
      }
    }
    return outputs;
  }

  /** The receipt's normalised status and ids (computed once per receipt object; receipts are not mutated). */
  normalise(receipt: Receipt): NormalisedReceipt {
    let n = this.normalisedOf.get(receipt);
    if (n === undefined) {
      n = normaliseReceipt(receipt, this.config.receiptTimeZone?.(receipt.connectorId) ?? 'UTC');
      this.normalisedOf.set(receipt, n);
    }
    return n;
  }

  onReceipt(receipt: Receipt): CorrelatorOutput[] {
    const normalised = this.normalise(receipt);
    const keys = this.receiptKeys(receipt, normalised);
    if (keys.length === 0) {
      return [{ type: 'unmatched', reason: 'no-id', receipt, normalised, parkedAt: receipt.receivedAt }];
    }
    const match = this.lookup(receipt.connectorId, keys);
    if (match !== undefined) return this.applyReceipt(match, receipt, normalised);
    const outputs: CorrelatorOutput[] = [];
    const p: Parked = { seq: ++this.parkSeq, receipt, normalised, keys, parkedAt: receipt.receivedAt };
    this.parked.set(p.seq, p);
    for (const k of keys) {
      const full = `${receipt.connectorId}|${k}`;
      let set = this.parkedByKey.get(full);
      if (set === undefined) this.parkedByKey.set(full, (set = new Set()));
      set.add(p.seq);
    }
    const parkedOut: CorrelatorOutput = { type: 'parked', connectorId: receipt.connectorId };
    if (normalised.supplierMessageId !== undefined)
      parkedOut.supplierMessageId = normalised.supplierMessageId;
    outputs.push(parkedOut);
    while (this.parked.size > this.config.maxParked) {
      const oldest = this.parked.values().next().value;
      if (oldest === undefined) break;
      this.unpark(oldest);
      outputs.push({
        type: 'unmatched',
        reason: 'overflow',
        receipt: oldest.receipt,
        normalised: oldest.normalised,
        parkedAt: oldest.parkedAt,
      });
    }
    return outputs;
  }

  /**
   * Periodic maintenance at `now`: retry parked receipts, emit those older than parkTtlMs as
   * unmatched, expire messages past validity, evict final messages older than retainFinalMs.
   */
  sweep(now: number): CorrelatorOutput[] {
    const outputs: CorrelatorOutput[] = [];
    for (const p of [...this.parked.values()]) {
      const match = this.lookup(p.receipt.connectorId, p.keys);
      if (match !== undefined) {
        this.unpark(p);
        outputs.push(...this.applyReceipt(match, p.receipt, p.normalised));
      } else if (now - p.parkedAt >= this.config.parkTtlMs) {
        this.unpark(p);
        outputs.push({
          type: 'unmatched',
          reason: 'park-expired',
          receipt: p.receipt,
          normalised: p.normalised,
          parkedAt: p.parkedAt,
        });
      }
    }
    if (this.config.expire !== false) {
      for (const ev of sweepExpired(this.messages.values(), now, this.config))
        outputs.push(...this.apply(ev));
    }
    for (const s of [...this.messages.values()]) {
      if (s.finalNotified && now - (s.finalAt ?? s.updatedAt) >= this.config.retainFinalMs) {
        this.evict(s.hubMessageId);
        outputs.push({ type: 'evicted', state: s });
      }
    }
    return outputs;
  }

  /**
   * The canonical keys (without the connector) a receipt is matched on, in the order they are tried.
   * No side effect (evidence is only recorded by onReceipt): for pre-loading persisted dispatches.
   */
  candidateKeysOf(receipt: Receipt): IdKey[] {
    const n = this.normalise(receipt);
    return this.receiptKeys(receipt, n, false);
  }

  /** The part a receipt would be joined to now, without applying it. */
  match(receipt: Receipt): { hubMessageId: string; partIndex: number } | undefined {
    const e = this.lookup(receipt.connectorId, this.candidateKeysOf(receipt));
    return e === undefined ? undefined : { hubMessageId: e.hubMessageId, partIndex: e.partIndex };
  }

  /** Whether a state for this message is held in memory. */
  has(hubMessageId: string): boolean {
    return this.messages.has(hubMessageId);
  }

  /**
   * Drops the messages of `hubMessageIds` whose outcome is final from memory (no `evicted` output), for a
   * service that keeps the state elsewhere and only needs the in-flight messages here: a later receipt of
   * one of them (a duplicate) then matches nothing in memory until the service loads its dispatch again.
   * Returns how many were dropped.
   */
  forgetFinal(hubMessageIds: Iterable<string>): number {
    let n = 0;
    for (const id of hubMessageIds) {
      if (this.messages.get(id)?.finalNotified !== true) continue;
      this.evict(id);
      n++;
    }
    return n;
  }

  /** Forgets every parked receipt without reporting it (for a service that keeps them elsewhere). */
  clearParked(): void {
    this.parked.clear();
    this.parkedByKey.clear();
  }

  private applyReceipt(
    match: IndexEntry,
    receipt: Receipt,
    normalised: NormalisedReceipt,
  ): CorrelatorOutput[] {
    const out: CorrelatorOutput[] = [];
    if (this.config.reportMatches) {
      out.push({
        type: 'matched',
        hubMessageId: match.hubMessageId,
        partIndex: match.partIndex,
        receipt,
        normalised,
      });
    }
    out.push(
      ...this.apply({
        type: 'receipt',
        hubMessageId: match.hubMessageId,
        partIndex: match.partIndex,
        receipt: normalised,
      }),
    );
    return out;
  }

  private receiptKeys(receipt: Receipt, n: NormalisedReceipt, observe = true): IdKey[] {
    const setting = this.config.idSetting(receipt.connectorId);
    const keys: IdKey[] = [];
    const tlv = receipt.tlvMessageId?.trim();
    const textId =
      receipt.textId?.trim() ||
      (n.idSource === 'text' ? n.supplierMessageId : undefined) ||
      this.textIdOf(receipt);
    if (tlv) {
      keys.push(...candidateKeys(tlv, setting.format));
      if (textId && observe) {
        this.evidence.set(
          receipt.connectorId,
          observeIdPair(this.evidenceFor(receipt.connectorId), tlv, textId, setting.format),
        );
      }
    }
    if (textId) {
      const fmt = setting.textFormat ?? textFormatFromEvidence(this.evidenceFor(receipt.connectorId));
      for (const k of candidateKeys(textId, fmt)) if (!keys.includes(k)) keys.push(k);
    }
    return keys;
  }

  private textIdOf(receipt: Receipt): string | undefined {
    if (receipt.text === undefined) return undefined;
    let id = this.textIds.get(receipt);
    if (id === undefined) this.textIds.set(receipt, (id = receiptTextId(receipt.text) ?? null));
    return id ?? undefined;
  }

  private lookup(connectorId: string, keys: readonly IdKey[]): IndexEntry | undefined {
    for (const key of keys) {
      const entries = this.index.get(`${connectorId}|${key}`);
      if (entries === undefined || entries.length === 0) continue;
      const native = entries.filter((e) => e.primary === key);
      const pool = native.length > 0 ? native : entries;
      return pool.reduce((a, b) => (b.acceptedAt > a.acceptedAt ? b : a));
    }
    return undefined;
  }

  private apply(event: TimelineEvent): CorrelatorOutput[] {
    const hubId = event.type === 'dispatch' ? event.dispatch.hubMessageId : event.hubMessageId;
    const { state, outputs } = applyEvent(this.messages.get(hubId), event, this.config);
    this.put(state);
    const result: CorrelatorOutput[] = [...outputs];
    while (this.messages.size > this.config.maxMessages) {
      const oldest = this.messages.values().next().value;
      if (oldest === undefined || oldest.hubMessageId === hubId) break;
      this.evict(oldest.hubMessageId);
      result.push({ type: 'evicted', state: oldest });
    }
    return result;
  }

  private put(state: MessageState): void {
    const old = this.messages.get(state.hubMessageId);
    this.messages.delete(state.hubMessageId);
    if (old !== undefined && indexSignature(old) === indexSignature(state)) {
      this.messages.set(state.hubMessageId, state); // same supplier ids: the index is still right
      return;
    }
    if (old !== undefined) {
      this.messages.set(state.hubMessageId, old);
      this.removeIndex(state.hubMessageId);
    }
    this.messages.set(state.hubMessageId, state);
    const indexed: string[] = [];
    this.indexedKeys.set(state.hubMessageId, indexed);
    state.parts.forEach((part, partIndex) => {
      for (const ref of part.supplierIds) {
        const keys = candidateKeys(ref.supplierMessageId, this.config.idSetting(ref.connectorId).format);
        const primary = keys[0];
        if (primary === undefined) continue;
        for (const key of keys) {
          const full = `${ref.connectorId}|${key}`;
          let list = this.index.get(full);
          if (list === undefined) this.index.set(full, (list = []));
          indexed.push(full);
          list.push({
            hubMessageId: state.hubMessageId,
            partIndex,
            primary,
            acceptedAt: part.acceptedAt ?? 0,
          });
        }
      }
    });
  }

  private removeIndex(hubMessageId: string): void {
    const keys = this.indexedKeys.get(hubMessageId);
    if (keys === undefined) return;
    this.indexedKeys.delete(hubMessageId);
    for (const full of keys) {
      const list = this.index.get(full);
      if (list === undefined) continue;
      if (list.length === 1 && list[0]?.hubMessageId === hubMessageId) {
        this.index.delete(full);
        continue;
      }
      const kept = list.filter((e) => e.hubMessageId !== hubMessageId);
      if (kept.length === 0) this.index.delete(full);
      else this.index.set(full, kept);
    }
  }

  private evict(hubMessageId: string): void {
    this.removeIndex(hubMessageId);
    this.messages.delete(hubMessageId);
  }

  private unpark(p: Parked): void {
    this.parked.delete(p.seq);
    for (const k of p.keys) {
      const full = `${p.receipt.connectorId}|${k}`;
      const set = this.parkedByKey.get(full);
      if (set === undefined) continue;
      set.delete(p.seq);
      if (set.size === 0) this.parkedByKey.delete(full);
    }
  }
}

/** What the id index depends on: every (part, connector, supplier id, accepted time). */
function indexSignature(state: MessageState): string {
  return state.parts
    .map((p, i) =>
      p.supplierIds
        .map((r) => `${i}|${r.connectorId}|${r.supplierMessageId}|${p.acceptedAt ?? 0}`)
        .join('\n'),
    )
    .join('\n');
}
