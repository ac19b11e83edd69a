import { describe, expect, it } from 'vitest';
import { CliError } from './exit-codes.js';
import {
  formatDecimal,
  formatMoney,
  parseDuration,
  parseEnum,
  parseKeyValues,
  parseMoney,
  parseTime,
} from './values.js';
import { AccountState } from '@smshub/contracts';

describe('money', () => {
  it('parses exact decimals at the hub scale, never through a float', () => {
    expect(parseMoney('0.00345', 'eur')).toEqual({ currencyCode: 'EUR', minorUnits: 3450n, scale: 6 });
    expect(parseMoney('-12', 'USD')).toEqual({ currencyCode: 'USD', minorUnits: -12_000_000n, scale: 6 });
    // 0.1 + 0.2 style values stay exact; more than 6 decimals raise the scale.
    expect(parseMoney('0.30000001', 'EUR')).toEqual({ currencyCode: 'EUR', minorUnits: 30000001n, scale: 8 });
    expect(parseMoney('92233720368.547758', 'EUR').minorUnits).toBe(92233720368547758n);
  });

  it('refuses what is not a decimal or a currency', () => {
    expect(() => parseMoney('1e3', 'EUR')).toThrow(/decimal number/);
    expect(() => parseMoney('1,5', 'EUR')).toThrow(CliError);
    expect(() => parseMoney('1.5', 'EURO')).toThrow(/3-letter ISO 4217/);
  });

  it('formats minor units back exactly', () => {
    expect(formatDecimal(3450n, 6)).toBe('0.00345');
    expect(formatDecimal(-12_000_000n, 6)).toBe('-12.00');
    expect(formatDecimal(5n, 0)).toBe('5');
    expect(formatMoney({ currencyCode: 'EUR', minorUnits: 99_500_000n, scale: 6 })).toBe('EUR 99.50');
  });
});

describe('times and durations', () => {
  const now = new Date('2026-11-29T12:00:00Z');
  it('reads RFC 3339, dates, now and offsets', () => {
    expect(parseTime('2026-11-01T10:00:00+01:00', 't', now).toISOString()).toBe('2026-11-01T09:00:00.000Z');
    expect(parseTime('2026-11-01', 't', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('now', 't', now)).toBe(now);
    expect(parseTime('-2h', 't', now).toISOString()).toBe('2026-11-29T10:00:00.000Z');
    expect(parseTime('30m ago', 't', now).toISOString()).toBe('2026-11-29T11:30:00.000Z');
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
  });
  it('names the flag when a time is wrong', () => {
    expect(() => parseTime('yesterday', '--from', now)).toThrow(/--from must be a time/);
    expect(() => parseTime('2026-13-45', '--from', now)).toThrow(CliError);
  });
});

describe('enums and key=value specs', () => {
  it('accepts short, dashed and full enum names', () => {
    expect(parseEnum(AccountState, 'ACCOUNT_STATE_', 'active', '--state')).toBe(
      AccountState.ACCOUNT_STATE_ACTIVE,
    );
    expect(parseEnum(AccountState, 'ACCOUNT_STATE_', 'ACCOUNT_STATE_CLOSED', '--state')).toBe(3);
    expect(() => parseEnum(AccountState, 'ACCOUNT_STATE_', 'gone', '--state')).toThrow(
      '--state must be one of active, suspended, closed; got "gone"',
    );
    expect(() => parseEnum(AccountState, 'ACCOUNT_STATE_', 'unspecified', '--state')).toThrow(CliError);
  });
  it('parses key=value lists and names unknown keys', () => {
    expect([...parseKeyValues('host=a,port=1', '--bind', ['host', 'port'])]).toEqual([
      ['host', 'a'],
      ['port', '1'],
    ]);
    expect(() => parseKeyValues('hots=a', '--bind', ['host'])).toThrow(
      '--bind: unknown key "hots"; known keys: host',
    );
  });
});
