import { describe, expect, it } from 'vitest';
import {
  MIN,
  oracleChoice,
  receiptsOf,
  networkState,
  scenarioSteps,
  shareSvg,
  summarise,
  verdict,
  type SentMessage,
} from './routing-scenario.js';

describe('routing scenario', () => {
  it('scripts A at minutes 2 and 6, B at 4, F at 7, scaled alike', () => {
    expect(scenarioSteps().map((s) => [s.id, s.atMs / MIN, s.kind])).toEqual([
      ['A', 2, 'behaviour'],
      ['B', 4, 'behaviour'],
      ['A', 6, 'behaviour'],
      ['F', 7, 'appear'],
    ]);
    expect(scenarioSteps(0.5).map((s) => s.atMs)).toEqual([60_000, 120_000, 180_000, 210_000]);
    expect(receiptsOf(networkState('A', 3 * MIN))).toEqual({
      mix: { DELIVRD: 60, UNDELIV: 40 },
      delayMs: { min: 1000, max: 3000 },
    });
    expect(receiptsOf(networkState('F', 8 * MIN)).mix).toEqual({ DELIVRD: 100, UNDELIV: 0 });
  });

  it('the oracle picks A, then B while A degrades, C while B is slow, A again; never the fake route', () => {
    expect([1, 3, 5, 6.5, 8, 11].map((m) => oracleChoice(m * MIN))).toEqual(['A', 'B', 'C', 'A', 'A', 'A']);
  });
});

describe('summarise and verdict', () => {
  const msg = (at: number, id: 'A' | 'C' | 'F', truly: boolean, latencyMs = 2000): SentMessage => ({
    at,
    attempts: [{ id, at: at + 100, stat: 'DELIVRD', receiptAt: at + latencyMs, truly }],
    reported: 'DELIVRD',
  });
  const durationMs = 12 * MIN;

  it('counts true deliveries, cost, p95 and the share on the fake route after it appears and after detection', () => {
    const messages = [
      ...Array.from({ length: 50 }, (_, i) => msg(i * 1000, 'A', true)),
      ...Array.from({ length: 50 }, (_, i) => msg(8 * MIN + i * 1000, i < 10 ? 'F' : 'A', i >= 10)),
    ];
    const row = summarise('x', messages, { durationMs, detectedAt: 8 * MIN + 10_000 });
    expect(row.accepted).toBe(100);
    expect(row.trulyDelivered).toBe(90);
    expect(row.reportedDelivered).toBe(100);
    expect(row.costMicro).toBe(90 * 1000 + 10 * 600);
    expect(row.perEur).toBeCloseTo(90 / 0.096, 6);
    expect(row.p95Ms).toBe(2000);
    expect(row.meets).toBe(false); // 90 % < 95 %
    expect(row.fakeAfterAppear).toBeCloseTo(10 / 50);
    expect(row.fakeAfterDetect).toBe(0);
    expect(row.oraclePerEur).toBeCloseTo(970, 6); // the oracle picks A (97 %) at these times
    expect(row.shares.length).toBe(24);
  });

  it('passes only when adaptive meets the level with the best delivered per EUR and avoids the detected fake route', () => {
    const good = Array.from({ length: 100 }, (_, i) => msg(i * 1000, 'A', true));
    const dear = Array.from({ length: 100 }, (_, i) => msg(i * 1000, 'C', true));
    const rows = [
      summarise('least cost', dear, { durationMs }),
      summarise('adaptive', good, { durationMs, detectedAt: 0 }),
    ];
    expect(verdict(rows)).toMatchObject({ pass: true, best: true, fakeOk: true });
    const undetected = [rows[0]!, summarise('adaptive', good, { durationMs })];
    expect(verdict(undetected)).toMatchObject({ pass: false, best: true, fakeOk: false });
    expect(verdict(undetected).why).toMatch(/never detected/);
    const svg = shareSvg(rows, { marks: [{ at: 0.5, label: 'A' }] });
    expect(svg).toMatch(/^<svg/);
    expect(svg.match(/<polyline/g)).toHaveLength(8);
  });
});
