import { describe, expect, it } from 'vitest';
import { MessageContext } from '@smshub/contracts';
import {
  dispatchesByMessage,
  replayStored,
  replayedDispatch,
  type IndexRow,
  type ReplayedDispatch,
} from './dispatch-replay.js';
import type { RerouteState } from './domain/reroute.js';
import { applyEvent, type MessageState, type PartEvent, type TimelineEvent } from './domain/timeline.js';

const T0 = Date.UTC(2026, 0, 1);
const ID = '01890000-0000-7000-8000-000000000001';
const cfg = { notifyIntermediate: false, maxTimeline: 1 };

function indexed(connector: string, supplierId: string, at: number, part = 0, total = 1): ReplayedDispatch {
  return replayedDispatch({
    message_id: ID,
    part_index: part,
    connector_id: connector,
    supplier_message_id: supplierId,
    parts_total: total,
    accepted_at: new Date(at),
    context: Buffer.from(
      MessageContext.encode(MessageContext.fromPartial({ messageId: ID, accountId: 'acc' })).finish(),
    ),
    segments: 1,
    attempt: 1,
  });
}

function run(state: MessageState | undefined, events: TimelineEvent[]): MessageState {
  let s = state;
  for (const e of events) s = applyEvent(s, e, cfg).state;
  if (s === undefined) throw new Error('no state');
  return s;
}

const submitted: TimelineEvent = {
  type: 'submitted',
  hubMessageId: ID,
  accountId: 'acc',
  partsTotal: 1,
  time: T0,
};
const receipt = (connectorId: string, status: PartEvent['status'], time: number): PartEvent => ({
  type: 'part',
  hubMessageId: ID,
  partIndex: 0,
  partsTotal: 1,
  status,
  err: status === 'DELIVERED' ? '000' : '001',
  connectorId,
  time,
  fromReceipt: true,
});

describe('replayed dispatches (DISPATCH_REPLAY)', () => {
  it('give the state the dispatch part state gave', () => {
    const d = indexed('con_a', 'A1', T0 + 100);
    const applied = run(undefined, [submitted, d.event]);
    const { state, changed } = replayStored(run(undefined, [submitted]), MessageContext.fromPartial({}), [d]);
    expect(changed).toBe(true);
    expect(state).toEqual(applied);
    expect(state.parts[0]).toMatchObject({
      acceptedAt: T0 + 100,
      connectorId: 'con_a',
      segments: 1,
      supplierIds: [{ connectorId: 'con_a', supplierMessageId: 'A1' }],
    });
  });

  it('are idempotent and leave a final part alone', () => {
    const d = indexed('con_a', 'A1', T0 + 100);
    const once = replayStored(run(undefined, [submitted]), MessageContext.fromPartial({}), [d]).state;
    expect(replayStored(once, MessageContext.fromPartial({}), [d, d]).changed).toBe(false);
    const final = run(once, [receipt('con_a', 'DELIVERED', T0 + 2000)]);
    const again = replayStored(final, MessageContext.fromPartial({}), [d, indexed('con_a', 'A9', T0 + 50)]);
    expect(again.changed).toBe(false);
    expect(again.state).toBe(final);
  });

  it('grow the parts of a multi-part message from any part', () => {
    const { state } = replayStored(run(undefined, [submitted]), MessageContext.fromPartial({}), [
      indexed('con_a', 'A2', T0 + 100, 1, 3),
    ]);
    expect(state.partsTotal).toBe(3);
    expect(state.parts[1]?.supplierIds).toEqual([{ connectorId: 'con_a', supplierMessageId: 'A2' }]);
  });

  it('replay the failed attempt of a re-routed part as a no-op, the new attempt as accepted', () => {
    const terms: RerouteState = {
      failures: ['UNDELIV'],
      exceptErrors: [],
      windowMs: 30_000,
      ruleId: 'rr',
      candidates: ['con_a', 'con_b'],
    };
    const a = indexed('con_a', 'A1', T0 + 100);
    const b = indexed('con_b', 'B1', T0 + 3000);
    const routed: TimelineEvent = {
      type: 'routed',
      hubMessageId: ID,
      connectorId: 'con_a',
      time: T0,
      reroute: terms,
    };
    // the receipt of attempt 1 (stored after replaying attempt 1): re-routed to con_b
    const rerouted = run(
      replayStored(run(undefined, [submitted, routed]), MessageContext.fromPartial({}), [a]).state,
      [receipt('con_a', 'UNDELIVERABLE', T0 + 1000)],
    );
    expect(rerouted.reroute?.done?.from).toBe('con_a');
    expect(rerouted.parts[0]).toMatchObject({ status: 'ENROUTE', connectorId: 'con_b' });
    // attempt 1 replayed again (before or after attempt 2) changes nothing; attempt 2 is the acceptance
    expect(replayStored(rerouted, MessageContext.fromPartial({}), [a]).changed).toBe(false);
    const { state } = replayStored(rerouted, MessageContext.fromPartial({}), [a, b]);
    const reversed = replayStored(rerouted, MessageContext.fromPartial({}), [b, a]).state;
    expect(reversed).toEqual(state);
    expect(state.parts[0]).toMatchObject({ status: 'ENROUTE', connectorId: 'con_b', acceptedAt: T0 + 3000 });
    expect(state.parts[0]?.supplierIds.map((s) => s.connectorId)).toEqual(['con_a', 'con_b']);
    // and its receipt ends the message with con_b's outcome
    const done = applyEvent(state, receipt('con_b', 'DELIVERED', T0 + 4000), cfg);
    expect(done.state.status).toBe('DELIVERED');
    expect(done.outputs).toContainEqual(expect.objectContaining({ type: 'part-final', latencyMs: 1000 }));
  });

  it('groups index rows per message, each in acceptance order, then attempt, then part', () => {
    const ctx = Buffer.from(MessageContext.encode(MessageContext.fromPartial({ messageId: ID })).finish());
    const row = (id: string, at: number, attempt: number, part: number): IndexRow => ({
      message_id: id,
      part_index: part,
      connector_id: 'c',
      supplier_message_id: `${at}/${attempt}/${part}`,
      parts_total: 2,
      accepted_at: new Date(at),
      context: ctx,
      segments: 1,
      attempt,
    });
    const other = '01890000-0000-7000-8000-000000000002';
    const grouped = dispatchesByMessage([
      row(ID, T0 + 2, 1, 0),
      row(other, T0 + 9, 1, 0),
      row(ID, T0 + 1, 2, 1),
      row(ID, T0 + 1, 2, 0),
      row(ID, T0 + 1, 1, 1),
    ]);
    expect(grouped.get(ID)?.map((d) => d.event.supplierMessageId)).toEqual([
      `${T0 + 1}/1/1`,
      `${T0 + 1}/2/0`,
      `${T0 + 1}/2/1`,
      `${T0 + 2}/1/0`,
    ]);
    expect(grouped.get(other)?.map((d) => d.event.supplierMessageId)).toEqual([`${T0 + 9}/1/0`]);
  });
});
