import { describe, expect, it } from 'vitest';
import { reroutePolicyFromJson } from './reroute-policy.js';

describe('reroutePolicyFromJson (routing_rules.reroute)', () => {
  it('reads what admin stores', () => {
    expect(
      reroutePolicyFromJson({
        enabled: true,
        failures: ['UNDELIV', 'REJECTD:045'],
        exceptErrors: ['069'],
        windowMs: 20_000,
      }),
    ).toEqual({
      enabled: true,
      failures: ['UNDELIV', 'REJECTD:045'],
      exceptErrors: ['069'],
      windowMs: 20_000,
    });
    expect(reroutePolicyFromJson({})).toEqual({ failures: [], exceptErrors: [] });
  });

  it('keeps only well-typed keys', () => {
    expect(reroutePolicyFromJson({ enabled: true, failures: ['REJECTD', 3], windowMs: 'x' })).toEqual({
      enabled: true,
      failures: ['REJECTD'],
      exceptErrors: [],
    });
    expect(reroutePolicyFromJson({ enabled: 'yes', exceptErrors: '069' })).toEqual({
      failures: [],
      exceptErrors: [],
    });
  });

  it('is no policy for anything but an object', () => {
    for (const v of [null, undefined, 'x', 3, ['UNDELIV']]) expect(reroutePolicyFromJson(v)).toBeUndefined();
  });
});
