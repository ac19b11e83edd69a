// The partitioner places every record where kafkajs's DefaultPartitioner would (a key keeps its partition
// across the change), and its murmur2 is kafkajs's (the Java client's) bit for bit.
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, pinningPartitioner } from './partitioner.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

const metadata = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));

describe('murmur2', () => {
  it('equals kafkajs murmur2 on random bytes of every length from 0 to 300', () => {
    for (let len = 0; len <= 300; len++)
      for (let i = 0; i < 5; i++) {
        const b = randomBytes(len);
        expect(murmur2(b), `length ${len}`).toBe(kafkajsMurmur2(b));
      }
  });

  it('matches the Java client on known keys', () => {
    // Values of org.apache.kafka.common.utils.Utils.murmur2 (Kafka's UtilsTest).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });
});

describe('pinningPartitioner', () => {
  it('puts keyed records (uuids, ASCII, non-ASCII, Buffers) on the partition kafkajs chooses, and pins it', () => {
    const ours = pinningPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: Array<string | Buffer> = [];
    for (let i = 0; i < 2000; i++) keys.push(randomUUID(), `acc_${i}`, randomBytes(i % 40));
    keys.push('', 'é', 'ключ-сообщения', '😀 emoji', 'x'.repeat(129), 'ü'.repeat(200));
    for (const n of [1, 6, 12, 64])
      for (const key of keys) {
        const message = { key, value: null };
        const expected = theirs({
          topic: 't',
          partitionMetadata: metadata(n),
          message: { key, value: null },
        });
        expect(ours({ topic: 't', partitionMetadata: metadata(n), message })).toBe(expected);
        expect(message).toHaveProperty('partition', expected);
      }
  });

  it('keeps a partition already set, and spreads keyless records over the partitions with a leader', () => {
    const p = pinningPartitioner();
    expect(
      p({ topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: null, partition: 4 } }),
    ).toBe(4);
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++)
      seen.add(p({ topic: 't', partitionMetadata: metadata(6, [2, 5]), message: { value: null } }));
    expect([...seen].sort()).toEqual([0, 1, 3, 4]);
  });
});
