import { describe, expect, it } from 'vitest';
import { groupsTable, lettersTable } from './dead-letters.js';

describe('dead-letters tables', () => {
  it('shows a group with its count, replayed count, times and offsets', () => {
    const text = groupsTable([
      {
        group: 'smshub-routing',
        topic: 'smshub-routing.dlq',
        count: 3n,
        startOffset: 4n,
        endOffset: 7n,
        oldestTime: new Date('2026-12-01T10:00:00.123Z'),
        newestTime: new Date('2026-12-02T10:00:00Z'),
        replayed: 1n,
      },
    ]);
    expect(text).toMatch(/smshub-routing\s.*\s3\s.*\s1\s.*2026-12-01T10:00:00Z.*4\.\.6/);
    expect(groupsTable([])).toBe('no dead letters\n');
  });

  it('shows where a dead letter came from and why, and marks an undecodable one by its key', () => {
    const base = {
      offset: 9n,
      sourceTopic: 'sms.routed.v1',
      sourcePartition: 2,
      sourceOffset: -1n,
      errorType: 'DecodeError',
      errorMessage: 'cannot decode',
      attempts: 1,
      failedAt: new Date('2026-12-01T10:00:00Z'),
      replica: 'egress-0',
      key: 'k1',
      size: 12,
      messageId: '',
      decodable: false,
      replayedAt: undefined,
      replayedBy: '',
    };
    const text = lettersTable([base]);
    expect(text).toContain('sms.routed.v1/2@?');
    expect(text).toContain('DecodeError: cannot decode');
    expect(text).toContain('(undecodable) k1');
  });
});
