import { describe, expect, it } from 'vitest';
import { CommandStatus } from '@smshub/smpp';
import { compilePlan, pickError, pickStat, sampleRange, TokenBucket, wantsReceipt } from './behaviour.js';
import { createRng } from './prng.js';

describe('createRng', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const a = createRng(1);
    const b = createRng(1);
    const c = createRng(2);
    const sa = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(sa);
    expect(Array.from({ length: 5 }, c)).not.toEqual(sa);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe('compilePlan', () => {
  it('has defaults: no latency, no cap, no errors, every receipt DELIVRD in hex, standard text in both carriers', () => {
    const p = compilePlan({});
    expect(p).toMatchObject({
      hasLatency: false,
      tpsCap: 0,
      errorTotal: 0,
      stats: ['DELIVRD'],
      idStyle: 'hex',
      pad: 0,
      textVariant: 'standard',
      carrier: 'both',
      intermediate: false,
      disconnectEvery: 0,
    });
  });

  it('refuses bad values, naming the option', () => {
    expect(() => compilePlan({ errorRates: { 8: 1.5 } })).toThrow(/errorRates\[8\]/);
    expect(() => compilePlan({ errorRates: { 8: 0.6, 20: 0.6 } })).toThrow(/more than 1/);
    expect(() => compilePlan({ receipts: { mix: { DELIVRD: 0 } } })).toThrow(/positive weight/);
    expect(() => compilePlan({ receipts: { mix: { BOGUS: 1 } as never } })).toThrow(/unknown stat BOGUS/);
    expect(() => compilePlan({ acceptLatencyMs: { min: 10, max: 5 } })).toThrow(/acceptLatencyMs/);
    expect(() => compilePlan({ tpsCap: -1 })).toThrow(/tpsCap/);
    expect(() => compilePlan({ disconnectEvery: 1.5 })).toThrow(/disconnectEvery/);
    expect(() => compilePlan({ receipts: { carrier: 'smoke' as never } })).toThrow(/carrier/);
  });
});

describe('sampling', () => {
  it('draws ranges within bounds and constants as given', () => {
    const rng = createRng(3);
    expect(sampleRange(25, rng)).toBe(25);
    const draws = Array.from({ length: 2000 }, () => sampleRange({ min: 10, max: 20 }, rng));
    expect(Math.min(...draws)).toBe(10);
    expect(Math.max(...draws)).toBe(20);
  });

  it('injects errors at their rates (seeded, so exact counts are stable)', () => {
    const plan = compilePlan({
      errorRates: { [CommandStatus.ESME_RTHROTTLED]: 0.1, [CommandStatus.ESME_RSYSERR]: 0.05 },
    });
    const rng = createRng(11);
    const counts: Record<number, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const s = pickError(plan, rng);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    expect(counts[CommandStatus.ESME_RTHROTTLED]! / 20_000).toBeCloseTo(0.1, 1);
    expect(counts[CommandStatus.ESME_RSYSERR]! / 20_000).toBeCloseTo(0.05, 1);
    expect(counts[0]! / 20_000).toBeCloseTo(0.85, 1);
    const again = createRng(11);
    const first = Array.from({ length: 50 }, () => pickError(plan, again));
    const rng2 = createRng(11);
    expect(Array.from({ length: 50 }, () => pickError(plan, rng2))).toEqual(first);
  });

  it('draws stats by weight', () => {
    const plan = compilePlan({ receipts: { mix: { DELIVRD: 90, UNDELIV: 8, EXPIRED: 2 } } });
    const rng = createRng(5);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const s = pickStat(plan, rng);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    expect(counts.DELIVRD! / 20_000).toBeCloseTo(0.9, 1);
    expect(counts.UNDELIV! / 20_000).toBeCloseTo(0.08, 1);
    expect(counts.EXPIRED! / 20_000).toBeCloseTo(0.02, 1);
    expect(counts.REJECTD).toBeUndefined();
  });
});

describe('wantsReceipt', () => {
  it('follows registered_delivery bits 0-1', () => {
    expect(wantsReceipt(0, 'DELIVRD')).toBe(false);
    expect(wantsReceipt(1, 'DELIVRD')).toBe(true);
    expect(wantsReceipt(1, 'UNDELIV')).toBe(true);
    expect(wantsReceipt(2, 'DELIVRD')).toBe(false);
    expect(wantsReceipt(2, 'EXPIRED')).toBe(true);
    expect(wantsReceipt(3, 'DELIVRD')).toBe(true);
    expect(wantsReceipt(3, 'REJECTD')).toBe(false);
    expect(wantsReceipt(0x11, 'DELIVRD')).toBe(true); // intermediate bit does not hide the final receipt
  });
});

describe('TokenBucket', () => {
  it('allows a second of burst, then the rate', () => {
    const b = new TokenBucket(10, 1000);
    let ok = 0;
    for (let i = 0; i < 50; i++) if (b.take(1000)) ok++;
    expect(ok).toBe(10);
    expect(b.take(1050)).toBe(false); // half a token
    expect(b.take(1100)).toBe(true);
    expect(b.take(1100)).toBe(false);
    let later = 0;
    for (let i = 0; i < 50; i++) if (b.take(10_000)) later++;
    expect(later).toBe(10); // never more than one second's worth
  });

  it('does not limit at rate 0', () => {
    const b = new TokenBucket(0, 0);
    for (let i = 0; i < 1000; i++) expect(b.take(0)).toBe(true);
  });
});
