import { describe, expect, it } from 'vitest';
import { parseMix, percentiles } from './loadgen.js';

describe('helpers', () => {
  it('parses a mix and computes percentiles', () => {
    expect(parseMix('gsm7=70, ucs2=20,long=10')).toEqual({ gsm7: 70, ucs2: 20, long: 10 });
    expect(() => parseMix('sms=5')).toThrow(/bad mix item/);
    const p = percentiles(Float64Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(p).toMatchObject({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });
});
