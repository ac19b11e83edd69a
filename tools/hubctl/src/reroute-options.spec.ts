import { describe, expect, it } from 'vitest';
import { parseReroute, rerouteText } from './reroute-options.js';

describe('--reroute', () => {
  it('reads on/off and the key=value form', () => {
    expect(parseReroute('off')).toEqual({ enabled: false, failures: [], exceptErrors: [] });
    expect(
      parseReroute('enabled=true,failures=UNDELIV;REJECTD:045,except_errors=069,window_ms=20000'),
    ).toEqual({
      enabled: true,
      failures: ['UNDELIV', 'REJECTD:045'],
      exceptErrors: ['069'],
      windowMs: 20000,
    });
  });
  it('refuses what it cannot read', () => {
    expect(() => parseReroute('enabled=maybe')).toThrow(/enabled must be true or false/);
    expect(() => parseReroute('windows=3')).toThrow();
  });
  it('shows the policy in one cell', () => {
    expect(rerouteText({ enabled: true, failures: ['UNDELIV'], windowMs: 5000 })).toBe(
      'reroute on (UNDELIV, 5000 ms)',
    );
    expect(rerouteText(undefined)).toBe('');
  });
});
