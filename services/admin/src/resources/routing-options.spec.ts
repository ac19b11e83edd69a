import { describe, expect, it } from 'vitest';
import {
  patternsFromJson,
  patternsJson,
  senderRewriteFromJson,
  senderRewriteJson,
  strategyOptionsFromJson,
  strategyOptionsJson,
  timeWindowFromJson,
  timeWindowJson,
} from './routing-options.js';

const glob = (value: string) => ({ pattern: { $case: 'glob' as const, value } });
const regex = (value: string, flags?: string) => ({
  pattern: { $case: 'regex' as const, value },
  ...(flags === undefined ? {} : { flags }),
});

describe('sender patterns', () => {
  it('stores globs and regexes as routing reads them, and reads them back', () => {
    const json = patternsJson('s', [glob('ACME*'), regex('^\\d{5}$'), regex('^bank$', '')]);
    expect(json).toEqual([{ glob: 'ACME*' }, { regex: '^\\d{5}$' }, { regex: '^bank$', flags: '' }]);
    expect(patternsFromJson(json)).toEqual([glob('ACME*'), regex('^\\d{5}$'), regex('^bank$', '')]);
  });

  it('refuses patterns routing could not compile or that cannot work, naming the element', () => {
    expect(() => patternsJson('s', [glob('A'), regex('(')])).toThrow(/^s\[1\]\.regex: is not valid/);
    expect(() => patternsJson('s', [regex('a', 'q')])).toThrow(/^s\[0\]\.flags: is not valid/);
    expect(() => patternsJson('s', [regex('a', 'gi')])).toThrow(/^s\[0\]\.flags: "g" and "y"/);
    expect(() => patternsJson('s', [{}])).toThrow(/^s\[0\]: set glob or regex/);
    expect(() => patternsJson('s', [glob('')])).toThrow(/^s\[0\]\.glob: must not be empty/);
    expect(() => patternsJson('s', [{ ...glob('A'), flags: 'i' }])).toThrow(/^s\[0\]\.flags:/);
  });
});

describe('time window', () => {
  it('keeps days and HH:MM ranges in a known zone; none is null', () => {
    const w = { timeZone: 'Europe/London', days: ['mon', 'fri'], ranges: [{ from: '22:00', to: '06:00' }] };
    expect(timeWindowJson('w', w)).toEqual(w);
    expect(timeWindowFromJson(timeWindowJson('w', w))).toEqual(w);
    expect(timeWindowJson('w', undefined)).toBeNull();
    expect(timeWindowFromJson(null)).toBeUndefined();
  });

  it('refuses unknown zones, day names and times that are not HH:MM', () => {
    const ok = { timeZone: 'UTC', days: [], ranges: [] };
    expect(() => timeWindowJson('w', { ...ok, timeZone: 'Mars/Base' })).toThrow(/^w\.time_zone:/);
    expect(() => timeWindowJson('w', { ...ok, timeZone: '' })).toThrow(/^w\.time_zone: is required/);
    expect(() => timeWindowJson('w', { ...ok, days: ['mon', 'Monday'] })).toThrow(/^w\.days\[1\]:/);
    expect(() => timeWindowJson('w', { ...ok, ranges: [{ from: '9:00', to: '17:00' }] })).toThrow(
      /^w\.ranges\[0\]\.from:/,
    );
    expect(() => timeWindowJson('w', { ...ok, ranges: [{ from: '09:00', to: '24:00' }] })).toThrow(
      /^w\.ranges\[0\]\.to:/,
    );
  });
});

describe('strategy options', () => {
  it('writes only what is set; {} reads back as unset', () => {
    expect(strategyOptionsJson('o', undefined)).toEqual({});
    expect(strategyOptionsFromJson({})).toBeUndefined();
    const o = {
      minSamples: 0,
      prior: { deliveryRatio: 0.8, p50LatencyMs: 3000 },
      weights: { quality: 0.6, cost: 0.3, latency: 0.1 },
    };
    expect(strategyOptionsJson('o', o)).toEqual(o);
    expect(strategyOptionsFromJson(strategyOptionsJson('o', o))).toEqual(o);
  });

  it('adaptive: exploration, the service level and a pin as routing reads them', () => {
    const o = { exploration: 0.05, minDeliveryRatio: 0.95, maxP95LatencyMs: 10_000, pin: 'con_a' };
    expect(strategyOptionsJson('o', o)).toEqual({
      exploration: 0.05,
      sla: { minRatio: 0.95, maxP95Ms: 10_000 },
      pin: 'con_a',
    });
    expect(strategyOptionsFromJson(strategyOptionsJson('o', o))).toEqual(o);
    expect(() => strategyOptionsJson('o', { exploration: 0.5 })).toThrow(/^o\.exploration:/);
    expect(() => strategyOptionsJson('o', { minDeliveryRatio: 1.2 })).toThrow(/^o\.min_delivery_ratio:/);
    expect(() => strategyOptionsJson('o', { maxP95LatencyMs: 1000 })).toThrow(/needs min_delivery_ratio/);
  });

  it('refuses a prior outside its range and weights that are negative or sum to zero', () => {
    const prior = (deliveryRatio: number, p50LatencyMs = 1000) => ({
      prior: { deliveryRatio, p50LatencyMs },
    });
    expect(() => strategyOptionsJson('o', prior(1.5))).toThrow(/^o\.prior\.delivery_ratio:/);
    expect(() => strategyOptionsJson('o', prior(0.5, -1))).toThrow(/^o\.prior\.p50_latency_ms:/);
    expect(() => strategyOptionsJson('o', prior(Number.NaN))).toThrow(/^o\.prior\.delivery_ratio:/);
    expect(() => strategyOptionsJson('o', { weights: { quality: -1, cost: 2, latency: 0 } })).toThrow(
      /^o\.weights\.quality:/,
    );
    expect(() => strategyOptionsJson('o', { weights: { quality: 0, cost: 0, latency: 0 } })).toThrow(
      /^o\.weights: need a positive sum/,
    );
  });
});

describe('sender rewrite', () => {
  it('keeps TON/NPI only when given (routing defaults them) and the only-if patterns', () => {
    expect(senderRewriteJson('r', { sourceAddr: 'ACME', onlyIfSender: [glob('*')] })).toEqual({
      sourceAddr: 'ACME',
      onlyIfSender: [{ glob: '*' }],
    });
    const numeric = { sourceAddr: '+447700900123', sourceTon: 1, sourceNpi: 1, onlyIfSender: [] };
    expect(senderRewriteJson('r', numeric)).toEqual({
      sourceAddr: '+447700900123',
      sourceTon: 1,
      sourceNpi: 1,
    });
    expect(senderRewriteFromJson(senderRewriteJson('r', numeric))).toEqual(numeric);
    expect(senderRewriteJson('r', undefined)).toBeNull();
  });

  it('refuses sender ids SMPP cannot carry and TON/NPI outside 0..255', () => {
    const rw = (sourceAddr: string, sourceTon?: number, sourceNpi?: number) => ({
      sourceAddr,
      onlyIfSender: [],
      ...(sourceTon === undefined ? {} : { sourceTon }),
      ...(sourceNpi === undefined ? {} : { sourceNpi }),
    });
    expect(() => senderRewriteJson('r', rw(''))).toThrow(/^r\.source_addr: is required/);
    expect(() => senderRewriteJson('r', rw('ACMEBANKLTD1'))).toThrow(/^r\.source_addr: an alphanumeric/);
    expect(() => senderRewriteJson('r', rw('ACMÉ'))).toThrow(/^r\.source_addr:/);
    expect(() => senderRewriteJson('r', rw('ACME', 1))).toThrow(/^r\.source_addr: with TON 1/);
    expect(() => senderRewriteJson('r', rw('1234567890123456'))).toThrow(/^r\.source_addr: with TON 1/);
    expect(senderRewriteJson('r', rw('1234567890123456', 0))).toMatchObject({ sourceTon: 0 });
    expect(() => senderRewriteJson('r', rw('1'.repeat(21), 0))).toThrow(/^r\.source_addr: with TON 0/);
    expect(() => senderRewriteJson('r', rw('ACME', 256))).toThrow(/^r\.source_ton:/);
    expect(() => senderRewriteJson('r', rw('ACME', 5, 300))).toThrow(/^r\.source_npi:/);
    expect(() => senderRewriteJson('r', { sourceAddr: 'ACME', onlyIfSender: [regex('[')] })).toThrow(
      /^r\.only_if_sender\[0\]\.regex:/,
    );
  });
});
