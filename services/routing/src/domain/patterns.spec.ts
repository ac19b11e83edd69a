import { describe, expect, it } from 'vitest';
import { compilePattern, senderKind } from './patterns.js';

describe('sender patterns', () => {
  it('matches globs case-insensitively and anchored', () => {
    const p = compilePattern({ glob: 'BANK*' });
    expect(p.test('bankofx')).toBe(true);
    expect(p.test('MyBank')).toBe(false);
    expect(compilePattern({ glob: 'A?C' }).test('abc')).toBe(true);
    expect(compilePattern({ glob: 'A.C' }).test('abc')).toBe(false);
    expect(compilePattern({ glob: 'Acme' }).test('ACME')).toBe(true);
    expect(compilePattern({ glob: 'Acme' }).test('Acme2')).toBe(false);
  });

  it('matches regexes as written', () => {
    expect(compilePattern({ regex: '^\\+?44\\d{10}$' }).test('+447400123456')).toBe(true);
    expect(compilePattern({ regex: 'paypa1' }).test('xPAYPA1x')).toBe(true);
    expect(compilePattern({ regex: 'paypa1', flags: '' }).test('PAYPA1')).toBe(false);
  });

  it('tells numeric from alphanumeric senders', () => {
    expect(senderKind('447400123456', 1)).toBe('numeric');
    expect(senderKind('+447400123456', 0)).toBe('numeric');
    expect(senderKind('12345', 3)).toBe('numeric');
    expect(senderKind('ACME', 5)).toBe('alphanumeric');
    expect(senderKind('12345', 5)).toBe('alphanumeric');
    expect(senderKind('Acme 24', 0)).toBe('alphanumeric');
  });
});
