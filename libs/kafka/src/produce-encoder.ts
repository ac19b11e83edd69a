// kafkajs 2.2.4 encodes a Produce request (v3-v7, RecordBatch v2) record by record: a new Encoder per
// record (a zero-filled 512-byte Buffer), a Buffer.from([...]) per varint, the 64-bit timestamp delta
// through its Long class, each record then copied into the batch, the batch into the partition, the
// partition into the topic, and a byte-at-a-time JavaScript CRC32C over every batch. That was about 40 %
// of a producing process's kafkajs CPU (libs/kafka/bench/per-record.ts --profile).
//
// Patched once, when this lib is loaded: the Produce request's `encode` writes the same bytes in one pass
// into one Buffer of the exact size, with a slicing-by-8 CRC32C. Only the common case takes it: no
// compression, no record timestamps, keys and values null, string or Buffer, header values string or
// Buffer (or arrays of them); anything else goes through kafkajs's own encoder, unchanged. The bytes are
// the same as kafkajs's (produce-encoder.spec.ts compares them on random requests).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkaMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: KafkaMessage[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  topicData: TopicData[];
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
}
interface EncoderLike {
  buf: Buffer;
  offset: number;
}
interface RequestLike {
  apiVersion: number;
  encode: () => Promise<EncoderLike>;
}
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}

const Encoder = require('kafkajs/src/protocol/encoder.js') as new (size?: number) => EncoderLike;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): LongLike };
const produceRequests = require('kafkajs/src/protocol/requests/produce/index.js') as {
  protocol: (opts: { version: number }) => (args: ProduceArgs) => { request: RequestLike; response: unknown };
};

// CRC32C (Castagnoli, reflected 0x82f63b78), slicing by 8: eight table look-ups per 8 bytes instead of one
// per byte.
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC32C of `buf[start..end)`, as an unsigned 32-bit number (kafkajs's crc32C of that slice). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = CRC_TABLES;
  let crc = -1;
  let i = start;
  for (const stop = end - 7; i < stop; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Bytes of the zigzag varint of a 32-bit `v`. */
function sizeOfVarInt(v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

function writeVarInt(buf: Buffer, off: number, v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[off++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[off++] = u;
  return off;
}

/** A header value, key or record value kafkajs encodes as bytes: its length, -1 for null. */
function bytesLength(v: unknown): number {
  if (v == null) return -1;
  return Buffer.isBuffer(v) ? v.length : Buffer.byteLength(v as string);
}

function writeBytes(buf: Buffer, off: number, v: unknown, len: number): number {
  off = writeVarInt(buf, off, len);
  if (len <= 0) return off;
  if (Buffer.isBuffer(v)) return off + v.copy(buf, off);
  return off + buf.write(v as string, off, len, 'utf8');
}

const isBytes = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);

/** Whether kafkajs's output for these messages is what this encoder writes (else: kafkajs encodes). */
function simple(messages: readonly KafkaMessage[]): boolean {
  for (const m of messages) {
    if (m.timestamp != null) return false;
    if (m.key != null && !isBytes(m.key)) return false;
    if (m.value != null && !isBytes(m.value)) return false;
    const h = m.headers;
    if (h === undefined) continue;
    if (h === null || typeof h !== 'object') return false;
    for (const k in h) {
      if (!Object.prototype.hasOwnProperty.call(h, k)) return false;
      const v = h[k];
      if (Array.isArray(v)) {
        if (!v.every(isBytes)) return false;
      } else if (!isBytes(v)) return false;
    }
  }
  return true;
}

// RecordBatch v2 header after the Length field: PartitionLeaderEpoch 4, Magic 1, CRC 4, Attributes 2,
// LastOffsetDelta 4, FirstTimestamp 8, MaxTimestamp 8, ProducerId 8, ProducerEpoch 2, FirstSequence 4,
// record count 4.
const BATCH_HEADER = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

/** kafkajs's Produce v3 request body (what its `encode` returns), in one pass. Assumes `simple` messages. */
export function encodeProduce(args: ProduceArgs): EncoderLike {
  const { acks, timeout, topicData } = args;
  const transactionalId = args.transactionalId ?? null;
  const producerId = Long.fromValue(args.producerId ?? -1);
  const producerEpoch = args.producerEpoch ?? 0;
  const attributes = transactionalId ? 16 : 0;
  const now = Long.fromValue(Date.now());

  // Pass 1: sizes (each record's body size kept for pass 2).
  const bodySizes: number[] = [];
  let total = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4;
  for (const t of topicData) {
    total += 2 + Buffer.byteLength(t.topic) + 4;
    for (const p of t.partitions) {
      let records = 0;
      for (let i = 0; i < p.messages.length; i++) {
        const m = p.messages[i]!;
        const keyLen = bytesLength(m.key);
        const valueLen = bytesLength(m.value);
        let body =
          1 + 1 + sizeOfVarInt(i) + sizeOfVarInt(keyLen) + Math.max(keyLen, 0) + sizeOfVarInt(valueLen);
        body += Math.max(valueLen, 0);
        let headerCount = 0;
        const h = m.headers;
        if (h)
          for (const k in h) {
            const kLen = Buffer.byteLength(k);
            const vs = h[k];
            for (const v of Array.isArray(vs) ? vs : [vs]) {
              const vLen = bytesLength(v);
              body += sizeOfVarInt(kLen) + kLen + sizeOfVarInt(vLen) + vLen;
              headerCount++;
            }
          }
        body += sizeOfVarInt(headerCount);
        bodySizes.push(body);
        records += sizeOfVarInt(body) + body;
      }
      // partition, record set size, FirstOffset, Length, batch header, records
      total += 4 + 4 + 8 + 4 + BATCH_HEADER + records;
    }
  }

  // Pass 2: the bytes.
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  if (transactionalId === null) off = buf.writeInt16BE(-1, off);
  else {
    off = buf.writeInt16BE(Buffer.byteLength(transactionalId), off);
    off += buf.write(transactionalId, off, 'utf8');
  }
  off = buf.writeInt16BE(acks, off);
  off = buf.writeInt32BE(timeout, off);
  off = buf.writeInt32BE(topicData.length, off);
  let r = 0;
  for (const t of topicData) {
    off = buf.writeInt16BE(Buffer.byteLength(t.topic), off);
    off += buf.write(t.topic, off, 'utf8');
    off = buf.writeInt32BE(t.partitions.length, off);
    for (const p of t.partitions) {
      off = buf.writeInt32BE(p.partition, off);
      const sizeAt = off;
      off += 4; // record set size, below
      off = buf.writeInt32BE(0, off); // FirstOffset (int64 0)
      off = buf.writeInt32BE(0, off);
      const lengthAt = off;
      off += 4; // Length, below
      const batchStart = off;
      off = buf.writeInt32BE(0, off); // PartitionLeaderEpoch
      off = buf.writeInt8(2, off); // Magic
      const crcAt = off;
      off += 4;
      const crcStart = off;
      off = buf.writeInt16BE(attributes, off);
      off = buf.writeInt32BE(p.messages.length - 1, off); // LastOffsetDelta
      off = buf.writeInt32BE(now.getHighBits(), off); // FirstTimestamp
      off = buf.writeInt32BE(now.getLowBits(), off);
      off = buf.writeInt32BE(now.getHighBits(), off); // MaxTimestamp
      off = buf.writeInt32BE(now.getLowBits(), off);
      off = buf.writeInt32BE(producerId.getHighBits(), off);
      off = buf.writeInt32BE(producerId.getLowBits(), off);
      off = buf.writeInt16BE(producerEpoch, off);
      off = buf.writeInt32BE(p.firstSequence ?? 0, off);
      off = buf.writeInt32BE(p.messages.length, off);
      for (let i = 0; i < p.messages.length; i++) {
        const m = p.messages[i]!;
        off = writeVarInt(buf, off, bodySizes[r++]!);
        buf[off++] = 0; // attributes
        buf[off++] = 0; // TimestampDelta: every record at FirstTimestamp (varlong 0)
        off = writeVarInt(buf, off, i); // OffsetDelta
        off = writeBytes(buf, off, m.key, bytesLength(m.key));
        off = writeBytes(buf, off, m.value, bytesLength(m.value));
        const h = m.headers;
        let headerCount = 0;
        if (h) for (const k in h) headerCount += Array.isArray(h[k]) ? (h[k] as unknown[]).length : 1;
        off = writeVarInt(buf, off, headerCount);
        if (h)
          for (const k in h) {
            const vs = h[k];
            for (const v of Array.isArray(vs) ? vs : [vs]) {
              off = writeBytes(buf, off, k, Buffer.byteLength(k));
              off = writeBytes(buf, off, v, bytesLength(v));
            }
          }
      }
      buf.writeUInt32BE(crc32c(buf, crcStart, off), crcAt);
      buf.writeInt32BE(off - batchStart, lengthAt);
      buf.writeInt32BE(off - sizeAt - 4, sizeAt);
    }
  }
  if (off !== total) throw new Error(`produce request encoded ${off} bytes of ${total} computed`);
  // A kafkajs Encoder holding the bytes (protocol/request.js copies it behind the request header).
  const encoder = new Encoder(0);
  encoder.buf = buf;
  encoder.offset = total;
  return encoder;
}

const PATCHED = Symbol.for('smshub.kafkajs.produceEncoder');
const requests = produceRequests as typeof produceRequests & {
  [PATCHED]?: typeof produceRequests.protocol;
};
if (!requests[PATCHED]) {
  const original = requests.protocol;
  requests[PATCHED] = original;
  requests.protocol = ({ version }) => {
    const build = original({ version });
    if (version < 3) return build;
    return (args) => {
      const built = build(args);
      if ((args.compression ?? 0) !== 0) return built;
      if (!args.topicData.every((t) => t.partitions.every((p) => simple(p.messages)))) return built;
      built.request.encode = async () => encodeProduce(args);
      return built;
    };
  };
}

/** The Produce request builder for `version` as kafkajs calls it (patched), for the spec. */
export const produceRequest = (version: number) => requests.protocol({ version });
/** kafkajs's own builder, unpatched, for the spec. */
export const kafkajsProduceRequest = (version: number) => requests[PATCHED]!({ version });
