import { describe, expect, it } from 'vitest';
import { rerouteTerms } from './reroute.js';

describe('rerouteTerms', () => {
  it('is on by default for OTP and transactional traffic, off for marketing and undeclared', () => {
    expect(rerouteTerms(undefined, 'OTP', 'r1')).toEqual({
      failures: ['UNDELIV', 'REJECTD'],
      exceptErrors: [],
      windowMs: 30_000,
      ruleId: 'r1',
    });
    expect(rerouteTerms(undefined, 'TRANSACTIONAL', 'r1')).toBeDefined();
    expect(rerouteTerms(undefined, 'MARKETING', 'r1')).toBeUndefined();
    expect(rerouteTerms(undefined, 'UNSPECIFIED', 'r1')).toBeUndefined();
  });

  it("follows the rule's policy", () => {
    expect(rerouteTerms({ enabled: false }, 'OTP', 'r1')).toBeUndefined();
    expect(
      rerouteTerms(
        { enabled: true, failures: ['UNDELIV:001'], exceptErrors: ['069'], windowMs: 5000 },
        'MARKETING',
        'r2',
      ),
    ).toEqual({ failures: ['UNDELIV:001'], exceptErrors: ['069'], windowMs: 5000, ruleId: 'r2' });
  });
});
