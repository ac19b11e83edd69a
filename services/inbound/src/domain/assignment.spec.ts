import { describe, expect, it } from 'vitest';
import { firstWord, numberKey, resolveAssignment, type Assignment } from './assignment.js';

const t = (s: string) => new Date(s);
const a = (
  id: string,
  accountId: string,
  keywords: string[],
  from = '2026-01-01',
  to: string | null = null,
): Assignment => ({
  id,
  accountId,
  keywords,
  validFrom: t(from),
  validTo: to === null ? null : t(to),
});

describe('resolveAssignment', () => {
  const at = t('2026-06-01');

  it('a long code goes to its account while the assignment is valid', () => {
    const rows = [a('n1', 'acc1', [], '2026-01-01', '2026-07-01')];
    expect(resolveAssignment(rows, 'hello', at)?.accountId).toBe('acc1');
    expect(resolveAssignment(rows, 'hello', t('2026-07-01'))).toBeUndefined();
    expect(resolveAssignment(rows, 'hello', t('2025-12-31'))).toBeUndefined();
  });

  it('a shared short code goes by the first word, else to the catch-all', () => {
    const rows = [a('n1', 'pizza', ['PIZZA']), a('n2', 'taxi', ['TAXI', 'CAB']), a('n3', 'main', [])];
    expect(resolveAssignment(rows, 'pizza large please', at)).toEqual({
      accountId: 'pizza',
      assignmentId: 'n1',
      keyword: 'PIZZA',
    });
    expect(resolveAssignment(rows, '  Cab, now', at)?.accountId).toBe('taxi');
    expect(resolveAssignment(rows, 'STOP', at)).toEqual({
      accountId: 'main',
      assignmentId: 'n3',
      keyword: '',
    });
  });

  it('without a catch-all an MO without a keyword has no owner', () => {
    expect(resolveAssignment([a('n1', 'pizza', ['PIZZA'])], 'hello', at)).toBeUndefined();
  });
});

describe('numberKey and firstWord', () => {
  it('normalise', () => {
    expect(numberKey('+447700900123')).toBe('447700900123');
    expect(firstWord('"stop" now')).toBe('STOP');
    expect(firstWord('   ')).toBe('');
  });
});
