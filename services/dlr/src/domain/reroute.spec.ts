import { describe, expect, it } from 'vitest';
import { expiryDeadline } from './expiry.js';
import { decideReroute, listedFailure, type RerouteState } from './reroute.js';
import {
  applyEvent,
  type DlrOutput,
  type MessageState,
  type PartEvent,
  type TimelineEvent,
} from './timeline.js';

const T0 = Date.UTC(2026, 0, 1);
const terms: RerouteState = {
  failures: ['UNDELIV', 'REJECTD'],
  exceptErrors: ['069'],
  windowMs: 30_000,
  ruleId: 'rr_otp',
  candidates: ['con_a', 'con_b'],
};
const failure = {
  status: 'UNDELIVERABLE',
  err: '001',
  connectorId: 'con_a',
  acceptedAt: T0,
  time: T0 + 1200,
  partsTotal: 1,
};

describe('decideReroute', () => {
  it('re-routes a listed failure within the window to the next candidate', () => {
    expect(decideReroute(terms, failure)).toEqual({
      from: 'con_a',
      fromCandidate: 1,
      time: T0 + 1200,
      status: 'UNDELIVERABLE',
      err: '001',
      reason: 'UNDELIV err 001 from con_a 1200 ms after acceptance (rule rr_otp)',
    });
    expect(decideReroute(terms, { ...failure, status: 'REJECTED' })?.fromCandidate).toBe(1);
  });

  it('never re-routes statuses that may mean delivered', () => {
    for (const status of ['UNKNOWN', 'EXPIRED', 'DELETED', 'ACCEPTED', 'ENROUTE', 'DELIVERED', 'FAILED'])
      expect(
        decideReroute({ ...terms, failures: ['UNKNOWN', 'EXPIRED', 'UNDELIV'] }, { ...failure, status }),
      ).toBeUndefined();
  });

  it('keeps the failure outside the window, for an excepted err, without a next candidate, or after one re-route', () => {
    expect(decideReroute(terms, { ...failure, time: T0 + 30_001 })).toBeUndefined();
    expect(decideReroute(terms, { ...failure, err: '069' })).toBeUndefined();
    expect(decideReroute(terms, { ...failure, connectorId: 'con_b' })).toBeUndefined();
    expect(decideReroute(terms, { ...failure, partsTotal: 2 })).toBeUndefined();
    expect(decideReroute(terms, { ...failure, acceptedAt: undefined })).toBeUndefined();
    expect(
      decideReroute({ ...terms, done: { from: 'con_a', fromCandidate: 1, time: T0, reason: '' } }, failure),
    ).toBeUndefined();
    expect(decideReroute(undefined, failure)).toBeUndefined();
  });

  it('reads "STAT:err" entries as that err only', () => {
    expect(listedFailure({ failures: ['UNDELIV:001'], exceptErrors: [] }, 'UNDELIVERABLE', '001')).toBe(true);
    expect(listedFailure({ failures: ['UNDELIV:001'], exceptErrors: [] }, 'UNDELIVERABLE', '002')).toBe(
      false,
    );
    expect(listedFailure({ failures: ['UNDELIV:001'], exceptErrors: [] }, 'REJECTED', '001')).toBe(false);
  });
});

describe('the reducer with re-route terms', () => {
  const part = (e: Partial<PartEvent>): TimelineEvent => ({
    type: 'part',
    hubMessageId: 'm1',
    partIndex: 0,
    partsTotal: 1,
    status: 'ACCEPTED',
    err: '000',
    time: T0,
    ...e,
  });
  const flow: TimelineEvent[] = [
    { type: 'routed', hubMessageId: 'm1', connectorId: 'con_a', time: T0 - 10, reroute: terms },
    part({ connectorId: 'con_a', supplierMessageId: 'A1', accepted: true, segments: 1 }),
    part({ status: 'UNDELIVERABLE', err: '001', connectorId: 'con_a', time: T0 + 1200, fromReceipt: true }),
  ];
  function run(events: TimelineEvent[], start?: MessageState) {
    let state = start;
    const outputs: DlrOutput[] = [];
    for (const e of events) {
      const r = applyEvent(state, e, { notifyIntermediate: false });
      state = r.state;
      outputs.push(...r.outputs);
    }
    return { state: state!, outputs };
  }

  it('withholds the failure, orders one re-route, and ends with the second attempt outcome once', () => {
    const first = run(flow);
    expect(first.outputs.filter((o) => o.type === 'delivery')).toEqual([]);
    expect(first.outputs.filter((o) => o.type === 'reroute')).toHaveLength(1);
    // the failed connector's outcome still teaches the statistics
    expect(first.outputs).toContainEqual(
      expect.objectContaining({ type: 'part-final', connectorId: 'con_a', status: 'UNDELIVERABLE' }),
    );
    expect(first.state.parts[0]?.status).toBe('ENROUTE');
    // a replayed failing receipt changes nothing and orders nothing
    const replay = run([flow[2]!], first.state);
    expect(replay.outputs).toEqual([]);
    const second = run(
      [
        part({ connectorId: 'con_b', supplierMessageId: 'B1', accepted: true, segments: 1, time: T0 + 2000 }),
        part({ status: 'DELIVERED', connectorId: 'con_b', time: T0 + 3000, fromReceipt: true }),
      ],
      first.state,
    );
    const finals = second.outputs.flatMap((o) => (o.type === 'delivery' ? [o.notification] : []));
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ status: 'DELIVERED', final: true, connectorId: 'con_b' });
  });

  it('a second fast failure is final (at most one extra attempt)', () => {
    const three: RerouteState = { ...terms, candidates: ['con_a', 'con_b', 'con_c'] };
    const first = run([
      { ...(flow[0] as Extract<TimelineEvent, { type: 'routed' }>), reroute: three },
      flow[1]!,
      flow[2]!,
    ]);
    const second = run(
      [
        part({ connectorId: 'con_b', supplierMessageId: 'B1', accepted: true, time: T0 + 2000 }),
        part({
          status: 'UNDELIVERABLE',
          err: '001',
          connectorId: 'con_b',
          time: T0 + 3000,
          fromReceipt: true,
        }),
      ],
      first.state,
    );
    expect(second.outputs.filter((o) => o.type === 'reroute')).toEqual([]);
    const finals = second.outputs.flatMap((o) => (o.type === 'delivery' ? [o.notification] : []));
    expect(finals).toEqual([
      expect.objectContaining({ status: 'UNDELIVERABLE', final: true, connectorId: 'con_b' }),
    ]);
  });

  it('without terms (rule with re-route off) the failure is final at once', () => {
    const { outputs } = run([
      { type: 'routed', hubMessageId: 'm1', connectorId: 'con_a', time: T0 - 10 },
      flow[1]!,
      flow[2]!,
    ]);
    expect(outputs.filter((o) => o.type === 'reroute')).toEqual([]);
    expect(outputs.filter((o) => o.type === 'delivery')).toHaveLength(1);
  });

  it('an extra attempt never accepted ends with the withheld failure after the re-route timeout, not EXPIRED', () => {
    const cfg = { defaultValidityMs: 48 * 3_600_000, graceMs: 600_000, rerouteTimeoutMs: 900_000 };
    const first = run(flow);
    // waiting for egress: the deadline is the order's time + the timeout, not the end of validity
    expect(expiryDeadline(first.state, cfg)).toBe(T0 + 1200 + 900_000);
    expect(expiryDeadline(first.state, { ...cfg, rerouteTimeoutMs: undefined })).toBeGreaterThan(
      T0 + 3_600_000,
    );
    const ended = run([{ type: 'expire', hubMessageId: 'm1', time: T0 + 901_200 }], first.state);
    const finals = ended.outputs.flatMap((o) => (o.type === 'delivery' ? [o.notification] : []));
    expect(finals).toEqual([
      expect.objectContaining({ status: 'UNDELIVERABLE', err: '001', final: true, connectorId: 'con_a' }),
    ]);
    expect(ended.state.timeline.some((e) => e.kind === 'expired')).toBe(false);
    // once the extra attempt is accepted, the message waits for its receipt until validity ends as any other
    const accepted = run(
      [part({ connectorId: 'con_b', supplierMessageId: 'B1', accepted: true, time: T0 + 2000 })],
      first.state,
    );
    expect(expiryDeadline(accepted.state, cfg)).toBeGreaterThan(T0 + 3_600_000);
    const late = run([{ type: 'expire', hubMessageId: 'm1', time: T0 + 48 * 3_600_000 }], accepted.state);
    expect(late.outputs.flatMap((o) => (o.type === 'delivery' ? [o.notification] : []))).toEqual([
      expect.objectContaining({ status: 'EXPIRED', final: true }),
    ]);
  });
});
