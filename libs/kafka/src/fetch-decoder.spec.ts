import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeFetchV11, fetchRequest, kafkajsDecodeFetchV11 } from './fetch-decoder.js';

const require = createRequire(import.meta.url);
interface Enc {
  buffer: Buffer;
  writeInt8(v: number): Enc;
  writeInt16(v: number): Enc;
  writeInt32(v: number): Enc;
  writeInt64(v: unknown): Enc;
  writeString(v: string): Enc;
  writeBuffer(v: Buffer): Enc;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Enc;
const Long = require('kafkajs/src/utils/long.js') as { fromString(s: string): unknown };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (a: Record<string, unknown>) => Promise<Enc>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  a: Record<string, unknown>,
) => Enc;

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** A Fetch v11 response of random record batches, as a broker sends it. */
async function randomResponse(seed: number): Promise<Buffer> {
  const r = rng(seed);
  const bytes = (max: number) => Buffer.from(Array.from({ length: r(max) }, () => r(256)));
  const some = (max: number) => (r(4) === 0 ? null : bytes(max));
  const batch = async () => {
    const n = r(30);
    const base = 1_764_000_000_000 + r(1_000_000);
    const records = Array.from({ length: n }, (_, i) => {
      const headers: Record<string, Buffer | Buffer[]> = {};
      for (let h = r(4); h > 0; h--) {
        const k = ['traceparent', 'x-dlq-group', 'constructor', 'h€', 'a'][r(5)]!;
        headers[k] = r(4) === 0 ? [bytes(9), bytes(9)] : bytes(40);
      }
      return Record({
        offsetDelta: i,
        timestampDelta: r(3) === 0 ? 0 : r(5_000_000),
        key: some(40),
        value: r(30) === 0 ? Buffer.alloc(9000, 7) : some(300),
        headers,
      });
    });
    const offset = [
      String(r(1_000_000)),
      String(2 ** 40 + r(1000)),
      '9007199254740000', // near 2^53: decoded by kafkajs's code
      '4611686018427387904',
    ][r(8) % 4 === 3 && r(2) ? 3 : r(3)]!;
    const encoded = await RecordBatch({
      compression: r(6) === 0 ? 1 : 0, // GZIP now and then
      firstOffset: Long.fromString(offset),
      firstTimestamp: base,
      maxTimestamp: base + 5_000_000,
      producerId: [-1, 1000 + r(1000)][r(2)],
      producerEpoch: r(3),
      firstSequence: r(1000),
      lastOffsetDelta: n - 1,
      records,
    });
    const buf = Buffer.from(encoded.buffer);
    // Log-append time, a control batch, a transactional one, now and then (the CRC is not checked).
    const extra = [0, 0, 0x8, 0x20, 0x10][r(5)]!;
    buf.writeInt16BE(buf.readInt16BE(21) | extra, 21);
    return buf;
  };
  const response = new Encoder().writeInt32(0).writeInt16(0).writeInt32(r(1000));
  const topics = 1 + r(2);
  response.writeInt32(topics);
  for (let t = 0; t < topics; t++) {
    response.writeString(`topic-${t}`);
    const partitions = 1 + r(3);
    response.writeInt32(partitions);
    for (let p = 0; p < partitions; p++) {
      response.writeInt32(p).writeInt16(0).writeInt64(r(9999)).writeInt64(r(9999)).writeInt64(0);
      const aborted = r(3) === 0 ? 1 : 0;
      response.writeInt32(aborted ? 1 : -1);
      if (aborted) response.writeInt64(77).writeInt64(r(100));
      response.writeInt32(-1);
      const batches = await Promise.all(Array.from({ length: r(4) }, batch));
      let data = Buffer.concat(batches);
      // A fetch that hit its byte limit ends inside a batch.
      // A fetch that hit its byte limit ends inside a batch (past its magic byte, as kafkajs needs).
      if (batches.length && r(2)) {
        const cut = Math.min(1 + r(batches.at(-1)!.length - 1), data.length - 17);
        data = data.subarray(0, data.length - cut);
      }
      response.writeInt32(data.length).writeBuffer(data);
    }
  }
  return response.buffer;
}

describe("kafkajs's Fetch v11 response, decoded with numbers", () => {
  it('builds the same records as kafkajs (offsets, timestamps, headers, partial tails, compressed and big-offset batches)', async () => {
    let records = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const raw = await randomResponse(seed);
      const ours = await decodeFetchV11(raw);
      expect(ours, `seed ${seed}`).toEqual(await kafkajsDecodeFetchV11(raw));
      for (const t of ours.responses) for (const p of t.partitions) records += p.messages.length;
    }
    expect(records).toBeGreaterThan(1000);
  }, 30_000);

  it('is the decoder kafkajs uses for Fetch v11 (and only v11)', () => {
    expect(fetchRequest(11)({ topics: [], maxWaitTime: 100 }).response.decode).toBe(decodeFetchV11);
    expect(fetchRequest(10)({ topics: [], maxWaitTime: 100 }).response.decode).not.toBe(decodeFetchV11);
  });
});
