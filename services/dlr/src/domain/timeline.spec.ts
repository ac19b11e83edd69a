import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  applyEventInPlace,
  cloneState,
  type DlrOutput,
  type MessageState,
  type TimelineConfig,
  type TimelineEvent,
} from './timeline.js';
import type { DeliveryNotification, Dispatch, DlrStatus, NormalisedReceipt } from './types.js';

const T0 = Date.UTC(2026, 0, 1);
const quiet: TimelineConfig = { notifyIntermediate: false };
const chatty: TimelineConfig = { notifyIntermediate: true };

/**
 * Applies `events` with applyEvent, and every step with applyEventInPlace on a copy too: same state, same
 * outputs, `changed` exactly when applyEvent returned a new state (so every test here checks both).
 */
function run(events: TimelineEvent[], config: TimelineConfig = quiet, start?: MessageState) {
  let state = start;
  let inPlace = start === undefined ? undefined : structuredClone(start);
  const outputs: DlrOutput[] = [];
  for (const e of events) {
    const r = applyEvent(state, e, config);
    const p = applyEventInPlace(inPlace, structuredClone(e), config);
    expect(p.state).toEqual(r.state);
    expect(p.outputs).toEqual(r.outputs);
    expect(p.changed).toBe(r.state !== state);
    if (inPlace !== undefined) expect(p.state).toBe(inPlace);
    state = r.state;
    inPlace = p.state;
    outputs.push(...r.outputs);
  }
  if (state === undefined) throw new Error('no events');
  return { state, outputs };
}

const notes = (outputs: DlrOutput[]): DeliveryNotification[] =>
  outputs.flatMap((o) => (o.type === 'delivery' ? [o.notification] : []));

const submitted = (
  parts = 1,
  extra: Partial<Extract<TimelineEvent, { type: 'submitted' }>> = {},
): TimelineEvent => ({
  type: 'submitted',
  hubMessageId: 'm1',
  accountId: 'acc',
  destKey: '26201',
  partsTotal: parts,
  time: T0,
  ...extra,
});

function dispatch(partIndex: number, d: Partial<Dispatch> = {}): TimelineEvent {
  return {
    type: 'dispatch',
    dispatch: {
      hubMessageId: 'm1',
      partIndex,
      partsTotal: 2,
      connectorId: 'c1',
      attempt: 1,
      supplierMessageId: `S${partIndex}`,
      smppStatus: 0,
      accepted: true,
      finalFailure: false,
      time: T0 + 1_000,
      ...d,
    },
  };
}

function receipt(
  partIndex: number,
  status: DlrStatus,
  at: number,
  r: Partial<NormalisedReceipt> = {},
  hubMessageId = 'm1',
): TimelineEvent {
  return {
    type: 'receipt',
    hubMessageId,
    partIndex,
    receipt: {
      connectorId: 'c1',
      status,
      receivedAt: at,
      idSource: 'tlv',
      supplierMessageId: `S${partIndex}`,
      ...r,
    },
  };
}

describe('applyEvent: single-part happy path', () => {
  it('records an ordered timeline and emits exactly one final DELIVRD', () => {
    const { state, outputs } = run([
      submitted(1),
      { type: 'routed', hubMessageId: 'm1', connectorId: 'c1', time: T0 + 10 },
      dispatch(0, { partsTotal: 1, accepted: false, smppStatus: 0x58, attempt: 1, time: T0 + 20 }),
      dispatch(0, { partsTotal: 1, attempt: 2, time: T0 + 1_000 }),
      receipt(0, 'ACCEPTED', T0 + 2_000),
      receipt(0, 'DELIVERED', T0 + 5_000, { err: '000' }),
    ]);
    expect(state.timeline.map((e) => e.kind)).toEqual([
      'submitted',
      'routed',
      'dispatch',
      'dispatch',
      'receipt',
      'receipt',
      'final',
    ]);
    expect(state.timeline[2]).toMatchObject({
      attempt: 1,
      note: 'command_status 0x00000058',
      connectorId: 'c1',
    });
    expect(notes(outputs)).toEqual([
      {
        hubMessageId: 'm1',
        accountId: 'acc',
        status: 'DELIVERED',
        stat: 'DELIVRD',
        messageState: 2,
        err: '000',
        final: true,
        partsTotal: 1,
        partsDelivered: 1,
        connectorId: 'c1',
        time: T0 + 5_000,
      },
    ]);
    const partFinal = outputs.find((o) => o.type === 'part-final');
    expect(partFinal).toMatchObject({
      status: 'DELIVERED',
      latencyMs: 4_000,
      destKey: '26201',
      connectorId: 'c1',
    });
  });

  it('emits intermediate notifications only when configured, each status change once', () => {
    const events = [
      submitted(1),
      dispatch(0, { partsTotal: 1 }),
      receipt(0, 'ACCEPTED', T0 + 2_000),
      receipt(0, 'ACCEPTED', T0 + 2_500),
      receipt(0, 'DELIVERED', T0 + 3_000),
    ];
    expect(notes(run(events, quiet).outputs).map((n) => n.stat)).toEqual(['DELIVRD']);
    const loud = notes(run(events, chatty).outputs);
    expect(loud.map((n) => [n.stat, n.final])).toEqual([
      ['ENROUTE', false],
      ['ACCEPTD', false],
      ['DELIVRD', true],
    ]);
  });

  it('clones a state deeply', () => {
    const a = run([submitted(2), dispatch(0), receipt(0, 'DELIVERED', T0 + 5)]).state;
    const b = cloneState(a);
    expect(b).toEqual(a);
    b.parts[0]?.supplierIds.push({ connectorId: 'x', supplierMessageId: 'y' });
    b.parts[0]?.seen.push('z');
    if (b.timeline[0]) b.timeline[0].time = 0;
    expect(b).not.toEqual(a);
    expect(a.parts[0]?.supplierIds).toHaveLength(1);
    expect(a.parts[0]?.seen).toHaveLength(1);
    expect(a.timeline[0]?.time).toBe(T0);
  });

  it('does not mutate the input state', () => {
    const first = run([submitted(1), dispatch(0, { partsTotal: 1 })]).state;
    const copy = structuredClone(first);
    applyEvent(first, receipt(0, 'DELIVERED', T0 + 9), quiet);
    expect(first).toEqual(copy);
  });

  it('uses the done date as the outcome time when the supplier gives one', () => {
    const { outputs } = run([
      submitted(1),
      dispatch(0, { partsTotal: 1 }),
      receipt(0, 'DELIVERED', T0 + 9_000, { doneDate: T0 + 4_000 }),
    ]);
    expect(notes(outputs)[0]?.time).toBe(T0 + 4_000);
  });
});

describe('applyEvent: duplicates and regressions', () => {
  it('ignores an identical receipt completely', () => {
    const base = run([
      submitted(1),
      dispatch(0, { partsTotal: 1 }),
      receipt(0, 'DELIVERED', T0 + 5_000),
    ]).state;
    const again = applyEvent(base, receipt(0, 'DELIVERED', T0 + 5_000), quiet);
    expect(again.outputs).toEqual([]);
    expect(again.state).toEqual(base);
  });

  it('never lets a final state regress; a different late receipt is reported as ignored', () => {
    const base = run([
      submitted(1),
      dispatch(0, { partsTotal: 1 }),
      receipt(0, 'UNDELIVERABLE', T0 + 5_000, { err: '034' }),
    ]).state;
    const late = applyEvent(base, receipt(0, 'DELIVERED', T0 + 6_000), quiet);
    expect(late.state.status).toBe('UNDELIVERABLE');
    expect(late.outputs).toEqual([
      { type: 'ignored', hubMessageId: 'm1', partIndex: 0, reason: 'after-final', status: 'DELIVERED' },
    ]);
    const enroute = applyEvent(late.state, receipt(0, 'ENROUTE', T0 + 7_000), quiet);
    expect(notes(enroute.outputs)).toEqual([]);
    expect(enroute.state.status).toBe('UNDELIVERABLE');
  });

  it('does not move an intermediate state backwards', () => {
    const { state, outputs } = run(
      [
        submitted(1),
        dispatch(0, { partsTotal: 1 }),
        receipt(0, 'ACCEPTED', T0 + 1),
        receipt(0, 'ENROUTE', T0 + 2),
      ],
      chatty,
    );
    expect(state.parts[0]?.status).toBe('ACCEPTED');
    expect(outputs.some((o) => o.type === 'ignored' && o.reason === 'regress')).toBe(true);
  });

  it('reports a receipt for a part that does not exist', () => {
    const base = run([submitted(1)]).state;
    const r = applyEvent(base, receipt(3, 'DELIVERED', T0 + 1), quiet);
    expect(r.outputs).toEqual([
      { type: 'ignored', hubMessageId: 'm1', partIndex: 3, reason: 'bad-part', status: 'DELIVERED' },
    ]);
  });
});

describe('applyEvent: multi-part', () => {
  it('takes the connector of the latest final part (the first of equally late ones), and the failing part when one fails', () => {
    const delivered = (at0: number, at1: number) =>
      notes(
        run([
          submitted(2),
          dispatch(0, { connectorId: 'c0' }),
          dispatch(1, { connectorId: 'c1' }),
          receipt(0, 'DELIVERED', at0),
          receipt(1, 'DELIVERED', at1),
        ]).outputs,
      )[0];
    expect(delivered(T0 + 5_000, T0 + 3_000)).toMatchObject({
      connectorId: 'c0',
      time: T0 + 5_000,
      partsDelivered: 2,
    });
    expect(delivered(T0 + 3_000, T0 + 5_000)).toMatchObject({ connectorId: 'c1', time: T0 + 5_000 });
    expect(delivered(T0 + 3_000, T0 + 3_000)).toMatchObject({ connectorId: 'c0', time: T0 + 3_000 });
    const failed = notes(
      run([
        submitted(2),
        dispatch(0, { connectorId: 'c0' }),
        dispatch(1, { connectorId: 'c1' }),
        receipt(0, 'DELIVERED', T0 + 5_000),
        receipt(1, 'UNDELIVERABLE', T0 + 3_000, { err: '0x0b' }),
      ]).outputs,
    )[0];
    expect(failed).toMatchObject({
      status: 'UNDELIVERABLE',
      connectorId: 'c1',
      partsDelivered: 1,
      time: T0 + 5_000,
    });
  });

  it('is DELIVERED only when all parts are, and final exactly once', () => {
    const { outputs, state } = run([
      submitted(2),
      dispatch(0),
      dispatch(1),
      receipt(1, 'DELIVERED', T0 + 3_000),
      receipt(0, 'DELIVERED', T0 + 4_000),
    ]);
    const n = notes(outputs);
    expect(n).toHaveLength(1);
    expect(n[0]).toMatchObject({ status: 'DELIVERED', partsDelivered: 2, partsTotal: 2, time: T0 + 4_000 });
    expect(state.finalNotified).toBe(true);
  });

  it('stays intermediate while one part is pending, then applies the precedence', () => {
    const partial = run(
      [submitted(2), dispatch(0), dispatch(1), receipt(0, 'DELIVERED', T0 + 3_000)],
      chatty,
    );
    expect(notes(partial.outputs).map((n) => n.stat)).toEqual(['ENROUTE', 'ACCEPTD']);
    const done = applyEvent(partial.state, receipt(1, 'EXPIRED', T0 + 9_000, { err: '3' }), chatty);
    expect(notes(done.outputs)).toEqual([
      expect.objectContaining({
        status: 'EXPIRED',
        stat: 'EXPIRED',
        messageState: 3,
        err: '003',
        partsDelivered: 1,
        final: true,
      }),
    ]);
  });

  it('gives REJECTED precedence over UNDELIVERABLE across parts', () => {
    const { outputs } = run([
      submitted(2),
      dispatch(0),
      dispatch(1),
      receipt(0, 'UNDELIVERABLE', T0 + 1, { err: '1' }),
      receipt(1, 'REJECTED', T0 + 2, { err: '7' }),
    ]);
    expect(notes(outputs)).toEqual([expect.objectContaining({ status: 'REJECTED', err: '007' })]);
  });
});

describe('applyEvent: rejections and egress failures', () => {
  it('turns a routing rejection into a final REJECTD with the rejection err', () => {
    const { outputs, state } = run([
      submitted(3),
      { type: 'rejected', hubMessageId: 'm1', err: '11', reason: 'no route', time: T0 + 5 },
    ]);
    expect(notes(outputs)).toEqual([
      expect.objectContaining({
        status: 'REJECTED',
        stat: 'REJECTD',
        messageState: 8,
        err: '011',
        final: true,
        partsTotal: 3,
      }),
    ]);
    expect(state.parts.map((p) => p.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED']);
    expect(state.timeline.at(-2)).toMatchObject({ kind: 'rejected', note: 'no route' });
  });

  it('turns a routing expiry (quiet hours outlast the validity) into a final EXPIRED with err 009', () => {
    const { outputs, state } = run([
      submitted(1),
      {
        type: 'rejected',
        hubMessageId: 'm1',
        err: '009',
        reason: 'quiet hours',
        time: T0 + 5,
        expired: true,
      },
    ]);
    expect(notes(outputs)).toEqual([
      expect.objectContaining({ status: 'EXPIRED', stat: 'EXPIRED', err: '009', final: true }),
    ]);
    expect(state.parts.map((p) => p.status)).toEqual(['EXPIRED']);
  });

  it('turns an egress final failure into UNDELIV with the err mapped from the last SMPP status', () => {
    const { outputs } = run([
      submitted(1),
      dispatch(0, { partsTotal: 1, accepted: false, smppStatus: 0x58, attempt: 1 }),
      dispatch(0, {
        partsTotal: 1,
        accepted: false,
        smppStatus: 0x0b,
        attempt: 2,
        finalFailure: true,
        time: T0 + 7_000,
      }),
    ]);
    expect(notes(outputs)).toEqual([
      expect.objectContaining({
        status: 'UNDELIVERABLE',
        stat: 'UNDELIV',
        err: '001',
        final: true,
        time: T0 + 7_000,
        connectorId: 'c1',
      }),
    ]);
  });

  it('maps a final failure without any response to err 007', () => {
    const { outputs } = run([
      submitted(1),
      dispatch(0, { partsTotal: 1, accepted: false, smppStatus: undefined, finalFailure: true }),
    ]);
    expect(notes(outputs)[0]?.err).toBe('007');
  });
});

describe('timeline bound', () => {
  it('keeps at most maxTimeline entries, always keeping the first', () => {
    const events: TimelineEvent[] = [submitted(1)];
    for (let i = 1; i <= 20; i++)
      events.push(
        dispatch(0, { partsTotal: 1, attempt: i, accepted: false, smppStatus: 0x58, time: T0 + i }),
      );
    const { state } = run(events, { notifyIntermediate: false, maxTimeline: 5 });
    expect(state.timeline).toHaveLength(5);
    expect(state.timeline[0]?.kind).toBe('submitted');
    expect(state.timeline.at(-1)?.attempt).toBe(20);
  });
});

describe('part events (part states decided by the join stage)', () => {
  const part = (
    partIndex: number,
    status: DlrStatus,
    extra: Partial<Extract<TimelineEvent, { type: 'part' }>> = {},
  ): TimelineEvent => ({
    type: 'part',
    hubMessageId: 'm1',
    partIndex,
    partsTotal: 3,
    status,
    err: status === 'DELIVERED' || status === 'ENROUTE' ? '000' : '012',
    connectorId: 'c1',
    time: T0 + 5_000,
    ...extra,
  });

  it('finishes a 3-part message only when all 3 parts are final, DELIVERED only if all are', () => {
    const accepted = [0, 1, 2].map((i) =>
      part(i, 'ENROUTE', { accepted: true, supplierMessageId: `S${i}`, segments: 1, time: T0 + 1_000 }),
    );
    const { state, outputs } = run([submitted(1), ...accepted, part(0, 'DELIVERED'), part(2, 'DELIVERED')]);
    expect(notes(outputs)).toEqual([]);
    expect(state.partsTotal).toBe(3);
    const last = run([part(1, 'DELIVERED', { time: T0 + 9_000 })], quiet, state);
    expect(notes(last.outputs)).toEqual([
      expect.objectContaining({ status: 'DELIVERED', final: true, partsDelivered: 3, partsTotal: 3 }),
    ]);
    const finalsOut = last.outputs.filter((o) => o.type === 'part-final');
    expect(finalsOut).toEqual([
      expect.objectContaining({ partIndex: 1, latencyMs: 8_000, connectorId: 'c1' }),
    ]);
    expect(last.state.parts.map((p) => p.segments)).toEqual([1, 1, 1]);
  });

  it('ignores a repeat of a final part state and reports a different one as after-final', () => {
    const base = run([
      submitted(1),
      part(0, 'ENROUTE', { partsTotal: 1, accepted: true, supplierMessageId: 'S' }),
    ]);
    const first = run([part(0, 'UNDELIVERABLE', { partsTotal: 1 })], quiet, base.state);
    expect(notes(first.outputs)).toEqual([expect.objectContaining({ status: 'UNDELIVERABLE', err: '012' })]);
    const repeat = applyEvent(first.state, part(0, 'UNDELIVERABLE', { partsTotal: 1 }), quiet);
    expect(repeat.state).toBe(first.state);
    expect(repeat.outputs).toEqual([]);
    const late = applyEvent(first.state, part(0, 'DELIVERED', { partsTotal: 1 }), quiet);
    expect(late.outputs).toEqual([expect.objectContaining({ type: 'ignored', reason: 'after-final' })]);
    expect(late.state.status).toBe('UNDELIVERABLE');
  });

  it('in place: an event that changes nothing leaves the state exactly as it was (set fields put back)', () => {
    const a = run([
      submitted(1, { accountId: undefined, destKey: undefined }),
      part(0, 'DELIVERED', { partsTotal: 1 }),
    ]);
    const before = structuredClone(a.state);
    const noChange: TimelineEvent[] = [
      // a second submitted event (its account, destination, validity and 3 parts are not taken)
      submitted(3, { accountId: 'other', destKey: '44', validUntil: T0 + 1 }),
      // a repeat of the final part state, from a 4-part view of the message
      part(0, 'DELIVERED', { partsTotal: 4, accountId: 'other', destKey: '44' }),
      // a part that does not exist even with the event's part total
      part(7, 'DELIVERED', { partsTotal: 5, accountId: 'other' }),
      dispatch(6, { partsTotal: 3 }),
      { type: 'expire', hubMessageId: 'm1', time: T0 + 9_000 },
    ];
    for (const e of noChange) {
      const r = applyEventInPlace(a.state, e, quiet);
      expect(r.changed).toBe(false);
      expect(r.state).toBe(a.state);
      expect(a.state).toEqual(before);
      expect(Object.keys(a.state).sort()).toEqual(Object.keys(before).sort());
    }
    // and the same through run(), which compares with applyEvent step by step
    expect(run(noChange, quiet, a.state).state).toEqual(before);
  });

  it('moves intermediate states forward only', () => {
    const a = run([submitted(1), part(0, 'ACCEPTED', { partsTotal: 1 })], chatty);
    const b = applyEvent(a.state, part(0, 'ENROUTE', { partsTotal: 1 }), chatty);
    expect(b.outputs).toEqual([expect.objectContaining({ type: 'ignored', reason: 'regress' })]);
    expect(b.state.parts[0]?.status).toBe('ACCEPTED');
  });
});
