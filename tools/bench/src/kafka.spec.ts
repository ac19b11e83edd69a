import { describe, expect, it } from 'vitest';
import { parseConsumerPerf, parseProducerPerf } from './kafka.js';

describe('Kafka perf tool output', () => {
  it('reads the producer summary line (not the interim ones)', () => {
    const out = [
      '250000 records sent, 49990.0 records/sec (4.77 MB/sec), 300.1 ms avg latency, 900.0 ms max latency.',
      '500000 records sent, 51255.766 records/sec (4.89 MB/sec), 205.57 ms avg latency, 420.00 ms max latency, 210 ms 50th, 380 ms 95th, 410 ms 99th, 419 ms 99.9th.',
    ].join('\n');
    expect(parseProducerPerf(out)).toEqual({
      records: 500000,
      recordsPerSecond: 51256,
      mbPerSecond: 4.89,
      avgLatencyMs: 205.57,
      p50Ms: 210,
      p99Ms: 410,
    });
    expect(parseProducerPerf('Exception in thread "main"')).toBeUndefined();
  });

  it('reads the consumer CSV line after its header', () => {
    const out = [
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-29 17:00:00:000, 2026-11-29 17:00:05:000, 47.6837, 9.5367, 500000, 100000.0000, 3000, 2000, 23.8419, 250000.0000',
    ].join('\n');
    expect(parseConsumerPerf(out)).toEqual({
      records: 500000,
      recordsPerSecond: 250000,
      mbPerSecond: 23.8419,
    });
    expect(parseConsumerPerf('WARN nothing consumed')).toBeUndefined();
  });
});
