import { describe, expect, it } from 'vitest';
import { reroutePolicyFromJson } from '@smshub/contracts';
import { reroutePolicyJson } from './reroute-policy.js';

describe('routing_rule.reroute', () => {
  it('stores what is set and reads it back', () => {
    const json = reroutePolicyJson('routing_rule.reroute', {
      enabled: true,
      failures: ['undeliv', 'REJECTD:045'],
      exceptErrors: ['069'],
      windowMs: 20_000,
    });
    expect(json).toEqual({
      enabled: true,
      failures: ['UNDELIV', 'REJECTD:045'],
      exceptErrors: ['069'],
      windowMs: 20_000,
    });
    expect(reroutePolicyFromJson(json)).toEqual({
      enabled: true,
      failures: ['UNDELIV', 'REJECTD:045'],
      exceptErrors: ['069'],
      windowMs: 20_000,
    });
    expect(reroutePolicyJson('f', undefined)).toBeNull();
  });

  it('refuses statuses that may mean delivered, bad errs and windows', () => {
    const p = { failures: [] as string[], exceptErrors: [] as string[] };
    for (const s of ['UNKNOWN', 'ACCEPTD', 'EXPIRED', 'DELETED', 'ENROUTE', 'DELIVRD:000'])
      expect(() => reroutePolicyJson('r', { ...p, failures: [s] })).toThrow(/may mean delivered/);
    expect(() => reroutePolicyJson('r', { ...p, failures: ['UNDELIV:1'] })).toThrow(/UNDELIV or REJECTD/);
    expect(() => reroutePolicyJson('r', { ...p, exceptErrors: ['69'] })).toThrow(/3-digit/);
    expect(() => reroutePolicyJson('r', { ...p, windowMs: 999 })).toThrow(/1000\.\.600000/);
  });
});
