import { describe, expect, it } from 'vitest';
import { describeStorage, kafkaFlushSettings } from './run-info.js';

describe('kafkaFlushSettings', () => {
  it('finds log.flush overrides and ignores comments and other keys', () => {
    const props = [
      '# log.flush.interval.ms=1',
      'log.dirs=/tmp/k',
      'log.flush.interval.messages = 10000',
      'log.flush.interval.ms=1000',
    ].join('\n');
    expect(kafkaFlushSettings(props)).toEqual({
      'log.flush.interval.messages': '10000',
      'log.flush.interval.ms': '1000',
    });
  });
  it('is empty when the broker keeps the defaults', () => {
    expect(kafkaFlushSettings('num.partitions=1\nlog.retention.hours=24\n')).toEqual({});
  });
});

describe('describeStorage', () => {
  it('names the mode, the PostgreSQL settings and the Kafka defaults', () => {
    const line = describeStorage({
      mode: 'durable',
      postgres: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
      kafkaFlush: {},
    });
    expect(line).toBe(
      'durable (PostgreSQL fsync=on, synchronous_commit=on, full_page_writes=on; Kafka default flush settings (the OS writes the log; no fsync per write))',
    );
  });
  it('names Kafka flush overrides when there are some', () => {
    expect(
      describeStorage({
        mode: 'fast',
        postgres: { fsync: 'off' },
        kafkaFlush: { 'log.flush.interval.ms': '1' },
      }),
    ).toBe('fast (PostgreSQL fsync=off; Kafka flush overrides log.flush.interval.ms=1)');
  });
});
