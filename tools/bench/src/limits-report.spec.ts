import { describe, expect, it } from 'vitest';
import { judge } from './limits-report.js';

describe('limits verdict', () => {
  const f = { name: 'x', unit: 'msg/s', detail: '' };
  it('passes up to 10 % above the limit and fails beyond', () => {
    expect(judge({ ...f, configured: 200, measured: 220 }).ok).toBe(true);
    expect(judge({ ...f, configured: 200, measured: 221 }).ok).toBe(false);
  });
  it('asks the customer to use at least 90 % of its limit', () => {
    expect(judge({ ...f, configured: 200, measured: 179, minUsed: 0.9 }).ok).toBe(false);
    expect(judge({ ...f, configured: 200, measured: 180, minUsed: 0.9 }).ok).toBe(true);
    // Other limits may be under-used (a supplier limit is a ceiling).
    expect(judge({ ...f, configured: 150, measured: 120 }).ok).toBe(true);
  });
});
