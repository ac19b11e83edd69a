// BatchOutcome.stopAt: a batch handler that holds its tail back has offsets resolved only up to the record
// before it (kafkajs then fetches the tail again).
import { describe, expect, it } from 'vitest';
import { resolvedUpTo } from './consumer.js';

const batch = [{ offset: '40' }, { offset: '41' }, { offset: '43' }]; // 42 was a gap (compaction)

describe('resolvedUpTo', () => {
  it('resolves the whole batch without stopAt', () => {
    expect(resolvedUpTo(batch, undefined)).toBe('43');
  });
  it('resolves up to the record before the held one', () => {
    expect(resolvedUpTo(batch, '41')).toBe('40');
    expect(resolvedUpTo(batch, '43')).toBe('42');
  });
  it('resolves nothing when the first record is held (the whole batch comes again)', () => {
    expect(resolvedUpTo(batch, '40')).toBeUndefined();
  });
  it('resolves the whole batch when stopAt is past it, and nothing for an empty batch', () => {
    expect(resolvedUpTo(batch, '44')).toBe('43');
    expect(resolvedUpTo([], '1')).toBeUndefined();
  });
  it('keeps 64-bit offsets exact', () => {
    expect(
      resolvedUpTo([{ offset: '9007199254740993' }, { offset: '9007199254740995' }], '9007199254740995'),
    ).toBe('9007199254740994');
  });
});
