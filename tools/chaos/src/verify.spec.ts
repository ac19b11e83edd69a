import { describe, expect, it } from 'vitest';
import {
  chaosSeq,
  chaosText,
  phaseIndex,
  rateIn,
  verdictTable,
  verify,
  type HubEvidence,
  type Phase,
  type SubmitRecord,
} from './verify.js';

const phases: Phase[] = [
  { fault: 'warm-up', startAt: 0, downtimeMs: null, simDuplicates: 0 },
  { fault: 'egress', startAt: 1000, downtimeMs: 4200, simDuplicates: 0 },
  { fault: 'kafka', startAt: 2000, downtimeMs: 21_000, simDuplicates: 0 },
];

/** An accepted message submitted at `at` with one final receipt, one accepted dispatch and one rated record. */
function good(id: string, at: number, hub: { d: Map<string, number>; r: Map<string, number> }): SubmitRecord {
  hub.d.set(`${id}#1`, 1);
  hub.r.set(id, 1);
  return { submitAt: at, status: 0, hubId: id, finalReceipts: 1 };
}

function evidence(): { d: Map<string, number>; r: Map<string, number>; hub: HubEvidence } {
  const d = new Map<string, number>();
  const r = new Map<string, number>();
  return { d, r, hub: { acceptedDispatches: d, rated: r } };
}

describe('phaseIndex', () => {
  it('puts a time in the last phase that started at or before it', () => {
    expect(phaseIndex(phases, -5)).toBe(0);
    expect(phaseIndex(phases, 999)).toBe(0);
    expect(phaseIndex(phases, 1000)).toBe(1);
    expect(phaseIndex(phases, 1999)).toBe(1);
    expect(phaseIndex(phases, 50_000)).toBe(2);
  });
});

describe('verify', () => {
  it('passes every phase when each accepted message was dispatched, receipted and rated once', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1500, e), good('c', 2500, e), good('d', 2600, e)];
    const v = verify(records, phases, e.hub);
    expect(v.pass).toBe(true);
    expect(v.rows.map((r) => [r.fault, r.accepted, r.finalReceipts, r.ratedOnce, r.lost])).toEqual([
      ['warm-up', 1, 1, 1, 0],
      ['egress', 1, 1, 1, 0],
      ['kafka', 2, 2, 2, 0],
    ]);
    expect(v.total).toMatchObject({ fault: 'all', accepted: 4, dispatched: 4, pass: true });
  });

  it('does not hold refused or unanswered submits against the hub', () => {
    const e = evidence();
    const records: SubmitRecord[] = [
      good('a', 10, e),
      good('b', 1100, e),
      { submitAt: 1200, status: -2, finalReceipts: 0 }, // link closed by the kill
      { submitAt: 1300, status: 0x58, finalReceipts: 0 }, // ESME_RTHROTTLED
      good('c', 2100, e),
    ];
    const v = verify(records, phases, e.hub);
    expect(v.rows[1]).toMatchObject({ submitted: 3, accepted: 1, refused: 1, unanswered: 1, pass: true });
    expect(v.pass).toBe(true);
  });

  it('counts an unanswered submit the hub took after all as sent once, apart; twice fails the phase', () => {
    const e = evidence();
    const records: SubmitRecord[] = [
      good('a', 10, e),
      good('b', 1100, e),
      { seq: 7, submitAt: 1200, status: -1, finalReceipts: 0 }, // the client gave up after 10 s
      good('c', 2100, e),
    ];
    e.d.set('late#1', 1);
    const once = verify(records, phases, { ...e.hub, hubIdsBySeq: new Map([[7, ['late']]]) });
    expect(once.rows[1]).toMatchObject({ unanswered: 1, unansweredSent: 1, refused: 0, pass: true });
    expect(verdictTable(once)).toContain('1 (1)');

    e.d.set('late2#1', 1); // the same submit_sm made a second message, also sent
    const twice = verify(records, phases, { ...e.hub, hubIdsBySeq: new Map([[7, ['late', 'late2']]]) });
    expect(twice.rows[1]).toMatchObject({ unanswered: 1, duplicateSendsHub: 1, pass: false });
    expect(twice.rows[1]?.samples[0]?.why).toContain('sent 2 times');
  });

  it('fails a phase that sent a message it answered with an error command_status', () => {
    const e = evidence();
    const records: SubmitRecord[] = [
      good('a', 10, e),
      good('b', 1100, e),
      { seq: 9, submitAt: 1300, status: 0x08, finalReceipts: 0 }, // ESME_RSYSERR
      good('c', 2100, e),
    ];
    e.d.set('ghost#1', 1);
    const v = verify(records, phases, { ...e.hub, hubIdsBySeq: new Map([[9, ['ghost']]]) });
    expect(v.rows[1]).toMatchObject({ refused: 1, refusedButSent: 1, pass: false });
    expect(v.rows[1]?.problems).toContain('1 answered with an error but sent anyway');
    // Refused and never on the topics: nothing to hold against the hub.
    const clean = verify(records, phases, { ...e.hub, hubIdsBySeq: new Map() });
    expect(clean.rows[1]).toMatchObject({ refused: 1, refusedButSent: 0, pass: true });
  });

  it('fails a phase in which one accepted submit_sm became two messages that were both sent', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1100, e), good('c', 2100, e)];
    records[1] = { ...records[1], seq: 3 } as SubmitRecord;
    e.d.set('b2#1', 1);
    const v = verify(records, phases, { ...e.hub, hubIdsBySeq: new Map([[3, ['b', 'b2']]]) });
    expect(v.rows[1]).toMatchObject({ accepted: 1, duplicateSendsHub: 1, pass: false });
  });

  it('measures the customer and supplier TPS per phase and fails a peak above limit + 10 %', () => {
    const e = evidence();
    const ph: Phase[] = [
      { fault: 'warm-up', startAt: 0, downtimeMs: null, simDuplicates: 0 },
      { fault: 'rolling', startAt: 20_000, downtimeMs: 1000, simDuplicates: 0 },
    ];
    const records: SubmitRecord[] = [];
    const dispatchTimes: { connectorId: string; at: number }[] = [];
    // 10/s for 20 s, then 15/s for 20 s; the supplier follows at 10/s throughout.
    for (let t = 0; t < 20_000; t += 100) records.push(good(`w${t}`, t, e));
    for (let t = 20_000; t < 40_000; t += 1000 / 15) records.push(good(`r${t}`, t, e));
    for (let t = 0; t < 40_000; t += 100) dispatchTimes.push({ connectorId: 'con_a', at: t });
    const v = verify(
      records,
      ph,
      { ...e.hub, dispatchTimes },
      { customerTps: 12, supplierTps: 10, windowMs: 10_000, endAt: 40_000 },
    );
    expect(v.rows[0]?.customerTps).toMatchObject({ limit: 12, pass: true });
    expect(v.rows[0]?.customerTps?.peak).toBeCloseTo(10, 5);
    expect(v.rows[1]?.customerTps?.peak).toBeCloseTo(15, 0);
    expect(v.rows[1]).toMatchObject({ pass: false });
    expect(v.rows[1]?.problems.join()).toMatch(/customer TPS 15\.\d\/s above its limit 12\/s/);
    expect(v.rows[1]?.supplierTps).toMatchObject({ peak: 10, mean: 10, limit: 10, pass: true });
    expect(verdictTable(v)).toMatch(/\| +15\/15\/12 FAIL \| +10\/10\/10 \|/);
  });

  it("takes the supplier's TPS from the simulator's samples when there are some", () => {
    const e = evidence();
    const records = [good('a', 100, e), good('b', 1100, e), good('c', 2100, e)];
    // 3 sends in the kafka phase's 1 s sample, none by Kafka time: the wire's count wins.
    const v = verify(
      records,
      phases,
      { ...e.hub, dispatchTimes: [], simAcceptTimes: [2500, 2500, 2500] },
      { supplierTps: 2, windowMs: 10_000, endAt: 3000 },
    );
    expect(v.rows[2]?.supplierTps).toMatchObject({ peak: 3, limit: 2, pass: false });
    expect(v.rows[1]?.supplierTps).toMatchObject({ peak: 0, pass: true });
  });

  it('fails the phase that lost a receipt, missed a dispatch or a rating, and names why', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1100, e), good('c', 2100, e)];
    records.push({ submitAt: 1200, status: 0, hubId: 'lost', finalReceipts: 0 });
    e.r.set('lost', 1);
    records.push({ submitAt: 1300, status: 0, hubId: 'unrated', finalReceipts: 1 });
    e.d.set('unrated#1', 1);
    const v = verify(records, phases, e.hub);
    expect(v.pass).toBe(false);
    expect(v.rows[0]?.pass).toBe(true);
    expect(v.rows[2]?.pass).toBe(true);
    const egress = v.rows[1];
    expect(egress).toMatchObject({ accepted: 3, lost: 1, dispatched: 2, ratedMissing: 1, pass: false });
    expect(egress?.problems).toEqual([
      '1 accepted without a final receipt',
      '1 accepted but never dispatched',
      '1 accepted but not rated',
    ]);
    expect(egress?.samples).toEqual([
      { hubId: 'lost', why: 'never dispatched, no final receipt' },
      { hubId: 'unrated', why: 'not rated' },
    ]);
    expect(v.total).toMatchObject({ lost: 1, ratedMissing: 1, pass: false });
  });

  it('fails on a second rated record, a part dispatched twice or a simulator duplicate', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1100, e), good('c', 2100, e)];
    e.r.set('a', 2); // rated twice
    e.d.set('b#1', 2); // egress sent part 1 of b twice
    const withSimDup = phases.map((p) => (p.fault === 'kafka' ? { ...p, simDuplicates: 3 } : p));
    const v = verify(records, withSimDup, e.hub);
    expect(v.rows.map((r) => r.pass)).toEqual([false, false, false]);
    expect(v.rows[0]).toMatchObject({ ratedOnce: 0, ratedExtra: 1 });
    expect(v.rows[1]).toMatchObject({ duplicateSendsHub: 1 });
    expect(v.rows[2]).toMatchObject({ duplicateSendsSim: 3 });
    expect(v.total).toMatchObject({ ratedExtra: 1, duplicateSendsHub: 1, duplicateSendsSim: 3 });
  });

  it('counts an extra rated record against the phase in which it was published', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1100, e), good('c', 2100, e)];
    e.r.set('a', 2);
    const v = verify(records, phases, { ...e.hub, ratedExtraAt: [{ hubId: 'a', at: 2500 }] });
    expect(v.rows.map((r) => r.pass)).toEqual([true, true, false]);
    expect(v.rows[2]).toMatchObject({
      ratedExtra: 1,
      samples: [{ hubId: 'a', why: 'rated again in this phase' }],
    });
    expect(v.rows[0]).toMatchObject({ ratedOnce: 0, ratedExtra: 0 });
    expect(v.total).toMatchObject({ ratedExtra: 1, pass: false });
  });

  it('does not fail a receipt the simulator lost by dying right after accepting the message', () => {
    const simPhases: Phase[] = [
      { fault: 'warm-up', startAt: 0, downtimeMs: null, simDuplicates: 0 },
      { fault: 'rating', startAt: 10_000, downtimeMs: 5000, simDuplicates: 0 },
      { fault: 'smsc-simulator', startAt: 20_000, downtimeMs: 4000, simDuplicates: 0 },
    ];
    const e = evidence();
    const records = [good('a', 10, e), good('b', 15_000, e), good('c', 21_000, e)];
    records.push({ submitAt: 19_500, status: 0, hubId: 'sim-lost', finalReceipts: 0 });
    records.push({ submitAt: 12_000, status: 0, hubId: 'hub-lost', finalReceipts: 0 });
    for (const id of ['sim-lost', 'hub-lost']) {
      e.d.set(`${id}#1`, 1);
      e.r.set(id, 1);
    }
    const dispatchAt = new Map([
      ['sim-lost', 19_900], // accepted by the simulator 100 ms before it was killed
      ['hub-lost', 12_100],
    ]);
    const v = verify(records, simPhases, { ...e.hub, acceptedDispatchAt: dispatchAt });
    expect(v.rows[1]).toMatchObject({ lost: 2, lostBySimulator: 1, pass: false });
    expect(v.rows[1]?.problems).toEqual(['1 accepted without a final receipt']);
    expect(v.rows[1]?.samples).toEqual([
      { hubId: 'sim-lost', why: 'no final receipt: the simulator died with it' },
      { hubId: 'hub-lost', why: 'no final receipt' },
    ]);
    e.d.delete('hub-lost#1');
    const withoutHubLoss = verify(
      records.filter((r) => r.hubId !== 'hub-lost'),
      simPhases,
      { ...e.hub, acceptedDispatchAt: dispatchAt },
    );
    expect(withoutHubLoss.rows[1]).toMatchObject({ lost: 1, lostBySimulator: 1, pass: true });
    expect(withoutHubLoss.pass).toBe(true);
  });

  it('reports duplicate receipts to the client without failing on them', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1100, e), good('c', 2100, e)];
    (records[1] as SubmitRecord).finalReceipts = 3;
    const v = verify(records, phases, e.hub);
    expect(v.rows[1]).toMatchObject({ finalReceipts: 1, duplicateReceipts: 2, pass: true });
  });

  it('fails a phase in which the hub accepted nothing', () => {
    const e = evidence();
    const records = [good('a', 10, e), { submitAt: 1100, status: -1, finalReceipts: 0 }, good('c', 2100, e)];
    const v = verify(records, phases, e.hub);
    expect(v.rows[1]).toMatchObject({ pass: false, problems: ['no submit_sm accepted in this phase'] });
  });
});

describe('verdictTable', () => {
  it('prints one line per phase and a total, with the result', () => {
    const e = evidence();
    const v = verify([good('a', 10, e), good('b', 1100, e), good('c', 2100, e)], phases, e.hub);
    const lines = verdictTable(v).split('\n');
    expect(lines).toHaveLength(2 + 3 + 1);
    expect(lines[0]).toMatch(/^\| fault +\| downtime \|/);
    expect(lines[3]).toMatch(/^\| egress .*\| +4\.2 s \|.*\| +PASS \|$/);
    expect(lines[5]).toMatch(/^\| all .*\| +PASS \|$/);
  });

  it('counts a part sent when egress was killed (outcome unknown, receipted UNKNOWN) as dispatched, apart', () => {
    const e = evidence();
    const records = [good('a', 10, e), good('b', 1100, e), good('c', 2100, e)];
    records.push({ submitAt: 1200, status: 0, hubId: 'inflight', finalReceipts: 1 });
    e.r.set('inflight', 1);
    const v = verify(records, phases, { ...e.hub, unknownOutcome: new Set(['inflight']) });
    expect(v.rows[1]).toMatchObject({ accepted: 2, dispatched: 2, unknownOutcome: 1, pass: true });
    expect(verdictTable(v)).toContain('2 (1 unknown)');
    const without = verify(records, phases, e.hub);
    expect(without.rows[1]).toMatchObject({ dispatched: 1, pass: false });
  });
});

describe('rateIn', () => {
  it('gives the peak over sliding windows and the mean over the span', () => {
    // 5 records in [0, 1 s), then 1 per second up to 10 s.
    const times = [0, 100, 200, 300, 400, ...Array.from({ length: 9 }, (_, i) => 1000 * (i + 1))];
    expect(rateIn(times, 0, 10_000, 2000)).toEqual({ peak: 3, mean: 1.4 });
    expect(rateIn(times, 0, 1000, 2000)).toEqual({ peak: 5, mean: 5 });
    expect(rateIn(times, 5000, 5000, 2000)).toEqual({ peak: 0, mean: 0 });
  });
});

describe('chaosText', () => {
  it('gives a text whose sequence number reads back, for this run only', () => {
    expect(chaosSeq(chaosText('20-41-07', 1234), '20-41-07')).toBe(1234);
    expect(chaosSeq(chaosText('20-41-07', 1234), '20-41-08')).toBeUndefined();
    expect(chaosSeq('hello', '20-41-07')).toBeUndefined();
  });
});
