import { describe, expect, it } from 'vitest';
import { validateTarget } from './probes.js';

const target = {
  id: 'gb-vodafone',
  connectorId: 'con_a',
  number: '+447700900101',
  destination: '4477',
  intervalS: 0,
  enabled: true,
  accountId: '',
  sender: '',
  nextAt: undefined,
};

describe('probe target validation', () => {
  it('stores digits, the default interval and unset account/sender as NULL (routing defaults)', () => {
    expect(validateTarget(target)).toEqual({
      id: 'gb-vodafone',
      connector_id: 'con_a',
      number: '447700900101',
      destination: '4477',
      interval_s: 60,
      enabled: true,
      account_id: null,
      sender: null,
    });
  });
  it('refuses a bad id, number, prefix, interval or sender, naming the field', () => {
    expect(() => validateTarget({ ...target, id: 'a b' })).toThrow(/target.id/);
    expect(() => validateTarget({ ...target, number: 'abc' })).toThrow(/target.number/);
    expect(() => validateTarget({ ...target, destination: '+44' })).toThrow(/target.destination/);
    expect(() => validateTarget({ ...target, intervalS: 100_000 })).toThrow(/target.interval_s/);
    expect(() => validateTarget({ ...target, sender: 'BANK' })).toThrow(/target.sender/);
    expect(() => validateTarget(undefined)).toThrow(/target/);
  });
});
