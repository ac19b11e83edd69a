import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from './consumer.js';
import { REPLAY_HEADERS, replayOriginOf, replayRecordOf, replayTopicOf } from './replay.js';

describe('replay records', () => {
  it('names the replay topic after the dead-letter topic', () => {
    expect(replayTopicOf('routing.dlq')).toBe('routing.replay');
    expect(replayTopicOf('odd-name')).toBe('odd-name.replay');
  });

  it('carries the original key, value and headers, and the origin in x-replay-* headers', () => {
    const r = replayRecordOf(
      {
        offset: '7',
        key: Buffer.from('m1'),
        value: Buffer.from([1, 2, 3]),
        headers: {
          traceparent: '00-abc',
          [DLQ_HEADERS.sourceTopic]: 'sms.routed.v1',
          [DLQ_HEADERS.sourcePartition]: '3',
          [DLQ_HEADERS.sourceOffset]: '42',
          [DLQ_HEADERS.attempts]: '5',
          [DLQ_HEADERS.error]: 'boom',
        },
      },
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(r.key?.toString()).toBe('m1');
    expect([...r.value!]).toEqual([1, 2, 3]);
    expect(r.headers[DLQ_HEADERS.error]).toBeUndefined();
    expect(r.headers.traceparent).toBe('00-abc');
    expect(replayOriginOf(r.headers)).toEqual({
      topic: 'sms.routed.v1',
      partition: 3,
      offset: '42',
      deadLetterOffset: '7',
      attempts: 5,
    });
    expect(r.headers[REPLAY_HEADERS.time]).toBe('2026-01-01T00:00:00.000Z');
  });

  it('refuses a dead letter that names no source topic, and reads no origin from a foreign record', () => {
    expect(() => replayRecordOf({ offset: '1', key: null, value: null, headers: {} })).toThrow(
      /no source topic/,
    );
    expect(replayOriginOf({ other: 'x' })).toBeUndefined();
  });
});
