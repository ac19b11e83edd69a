import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  crc32c,
  encodeProduce,
  kafkajsProduceRequest,
  produceRequest,
  type ProduceArgs,
} from './produce-encoder.js';

const require = createRequire(import.meta.url);
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;

/** A deterministic pseudo-random generator (the same cases every run). */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function randomArgs(seed: number): ProduceArgs {
  const r = rng(seed);
  const bytes = (max: number) => Buffer.from(Array.from({ length: r(max) }, () => r(256)));
  const text = (max: number) =>
    Array.from({ length: r(max) }, () => ['a', 'é', '€', '𝄞', 'z'][r(5)]).join('');
  const some = (max: number): string | Buffer | null =>
    [() => null, () => text(max), () => bytes(max)][r(3)]!();
  const topics = 1 + r(3);
  return {
    acks: [-1, 1][r(2)]!,
    timeout: 30_000,
    transactionalId: r(4) === 0 ? `tx-${r(1000)}` : null,
    producerId: [-1, 4_000_000_123, '12345678901', 7][r(4)],
    producerEpoch: r(5),
    topicData: Array.from({ length: topics }, (_, t) => ({
      topic: `topic-${t}-${text(8)}`,
      partitions: Array.from({ length: 1 + r(4) }, (_, p) => ({
        partition: p * 3 + r(3),
        firstSequence: r(3) === 0 ? undefined : r(2_000_000_000),
        messages: Array.from({ length: r(120) }, () => {
          const headers: Record<string, string | Buffer | Array<string | Buffer>> = {};
          for (let h = r(4); h > 0; h--)
            headers[`h${r(9)}${text(3)}`] = r(5) === 0 ? [text(9), bytes(9)] : text(60);
          // Sizes that cross varint boundaries (63/64, 8191/8192 zigzag) now and then.
          const big = r(40) === 0 ? Buffer.alloc(8000 + r(400), r(256)) : undefined;
          return {
            key: some(40),
            value: big ?? some(400),
            ...(r(3) !== 0 && { headers }),
            partition: p,
          };
        }),
      })),
    })),
  };
}

async function encodedBy(
  build: (args: ProduceArgs) => { request: { encode: () => Promise<{ buf: Buffer; offset: number }> } },
  args: ProduceArgs,
) {
  const e = await build(args).request.encode();
  return Buffer.from(e.buf.subarray(0, e.offset));
}

describe("kafkajs's Produce request, encoded in one pass", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-07T11:00:00.123Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('CRC32C by 8 bytes equals kafkajs byte-by-byte CRC32C, at every length and alignment', () => {
    const r = rng(7);
    const data = Buffer.from(Array.from({ length: 4096 }, () => r(256)));
    for (let len = 0; len < 70; len++) {
      for (const start of [0, 1, 3, 7]) {
        expect(crc32c(data, start, start + len)).toBe(kafkajsCrc32C(data.subarray(start, start + len)));
      }
    }
    expect(crc32c(data)).toBe(kafkajsCrc32C(data));
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
  });

  it('writes the same bytes as kafkajs for random requests (v3 and v7), and is what kafkajs calls', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const args = randomArgs(seed);
      for (const version of [3, 7]) {
        const ours = await encodedBy(produceRequest(version), args);
        const theirs = await encodedBy(kafkajsProduceRequest(version), args);
        expect(ours.equals(theirs), `seed ${seed} v${version}`).toBe(true);
        // Ours is sized exactly (kafkajs's Encoder grows in powers of two): the patched path ran.
        const e = await produceRequest(version)(args).request.encode();
        expect(e.buf.length).toBe(e.offset);
      }
    }
    expect((await encodeProduce(randomArgs(3))).offset).toBeGreaterThan(0);
  }, 60_000);

  it('leaves what it does not encode to kafkajs: record timestamps, compression, other types', async () => {
    const base = randomArgs(5);
    const withTimestamp: ProduceArgs = {
      ...base,
      topicData: [
        {
          topic: 't',
          partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: '1700000000000' }] }],
        },
      ],
    };
    const compressed: ProduceArgs = { ...base, compression: 1 };
    const numberValue: ProduceArgs = {
      ...base,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 42 }] }] }],
    };
    // kafkajs refuses a number value (Buffer.byteLength): the same error through the patched builder.
    await expect(encodedBy(produceRequest(7), numberValue)).rejects.toThrow(/must be of type string/);
    await expect(encodedBy(kafkajsProduceRequest(7), numberValue)).rejects.toThrow(/must be of type string/);
    for (const args of [withTimestamp]) {
      const ours = await encodedBy(produceRequest(7), args);
      expect(ours.equals(await encodedBy(kafkajsProduceRequest(7), args))).toBe(true);
      const e = await produceRequest(7)(args).request.encode();
      expect(e.buf.length).not.toBe(e.offset); // kafkajs's own Encoder
    }
    const request = produceRequest(7)(compressed);
    expect(String(request.request.encode)).toContain('encodeTopic'); // kafkajs's own encode, not replaced
  });
});
