import { describe, expect, it } from 'vitest';
import { probeState, probesTable } from './probes.js';

const base = {
  messageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f',
  targetId: 't1',
  connectorId: 'con_a',
  sentAt: new Date('2026-12-07T01:00:00Z'),
  receiptStatus: '',
  receiptAt: undefined,
  confirmedAt: undefined,
};

describe('probe states', () => {
  it('says what came back for each probe', () => {
    expect(probeState(base)).toBe('waiting for the receipt');
    const dlr = { ...base, receiptStatus: 'DELIVERED', receiptAt: new Date('2026-12-07T01:00:02Z') };
    expect(probeState(dlr)).toBe('DELIVRD, no confirmation (yet)');
    expect(probeState({ ...dlr, confirmedAt: new Date('2026-12-07T01:00:05Z') })).toBe(
      'confirmed 3.0 s after the receipt',
    );
    expect(probeState({ ...base, receiptStatus: 'UNDELIVERABLE' })).toBe('failed (UNDELIVERABLE)');
    expect(probesTable([dlr])).toContain('DELIVRD, no confirmation');
  });
});
