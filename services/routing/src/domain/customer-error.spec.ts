import { describe, expect, it } from 'vitest';
import { CUSTOMER_ERRORS, formatErr, reject } from './customer-error.js';

describe('customer error mapping', () => {
  it('gives every category a distinct 3-digit code, UNDELIV for network reasons and REJECTD for policy', () => {
    const codes = Object.values(CUSTOMER_ERRORS).map((e) => e.err);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(formatErr(c)).toMatch(/^\d{3}$/);
    expect(CUSTOMER_ERRORS.invalid_number).toEqual({ stat: 'UNDELIV', err: 1 });
    expect(CUSTOMER_ERRORS.no_route.stat).toBe('UNDELIV');
    expect(CUSTOMER_ERRORS.velocity.stat).toBe('REJECTD');
  });

  it('builds a rejected decision carrying the rule, reason and mapping', () => {
    expect(reject('duplicate', 'fw-dup', 'same text within 60 s')).toEqual({
      kind: 'rejected',
      ruleId: 'fw-dup',
      reason: 'same text within 60 s',
      customerError: { stat: 'REJECTD', err: 16 },
      category: 'duplicate',
    });
    expect(formatErr(CUSTOMER_ERRORS.duplicate.err)).toBe('016');
  });
});
