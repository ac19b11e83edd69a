// kafkajs 2.2.4 decodes every fetched record through its 64-bit Long class: the offset and the timestamp
// are each a Long built from the batch's decimal string, added to and printed again, and the varlong
// timestamp delta is read as a Long, byte by byte; each record gets a Decoder of its own, its headers are
// folded with an object spread per header, and the partial batch at the end of a partition's data (always
// there when a fetch hits its byte limit) is found by throwing an error. That was about a third of a
// consumer's kafkajs CPU (libs/kafka/bench/per-record.ts --profile).
//
// Patched once, when this lib is loaded: Fetch v11 responses (what kafkajs uses with Kafka >= 2.3) are
// decoded by `decodeFetchV11` below, which builds the same objects as kafkajs with plain numbers where the
// values fit in 2^53 (offsets and millisecond timestamps do); a compressed batch, an older message format
// or a value out of that range is decoded by kafkajs's own code. fetch-decoder.spec.ts compares the result
// with kafkajs's on random responses.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface DecoderLike {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readString(): string;
  readBytes(length: number): Buffer;
  readArray<T>(reader: (d: DecoderLike) => T): T[];
  canReadBytes(length: number): boolean;
}
type DecoderClass = new (buffer: Buffer) => DecoderLike;
interface ResponseLike {
  decode(raw: Buffer): Promise<unknown>;
  parse(decoded: unknown): Promise<unknown>;
}

const Decoder = require('kafkajs/src/protocol/decoder.js') as DecoderClass;
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  d: DecoderLike,
) => Promise<{ records: unknown[] }>;
const MessageSetDecoder = require('kafkajs/src/protocol/messageSet/decoder.js') as (
  d: DecoderLike,
  size: number,
) => Promise<unknown[]>;
const fetchRequests = require('kafkajs/src/protocol/requests/fetch/index.js') as {
  protocol: (opts: { version: number }) => (args: unknown) => { response: ResponseLike };
};
// v11's modules through kafkajs's own lazy `require('./v11/...')`, not required from here: Node remembers a
// relative require (its fast path) only when that require loaded the file. Loaded first from here, every
// Fetch request kafkajs builds resolved both files again (paths, package.json reads): 6-10 CPU-µs per fetch
// instead of under 1 (task E, session 10; require-fast-path.spec.ts).
const fetchV11 = fetchRequests.protocol({ version: 11 })({ topics: [] }).response;

const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;
const LOG_APPEND_TIME = 1; // kafkajs's TimestampTypes
const TWO_32 = 2 ** 32;

/** A signed int64 at `off` as a Number, or undefined when it is not exactly representable (|v| >= 2^53). */
function int64(buf: Buffer, off: number): number | undefined {
  const hi = buf.readInt32BE(off);
  if (hi > 0x1fffff || hi < -0x200000) return undefined;
  return hi * TWO_32 + buf.readUInt32BE(off + 4);
}

/** kafkajs's readVarInt (zigzag), at `pos.o`. */
function varInt(buf: Buffer, pos: { o: number }): number {
  let b: number;
  let result = 0;
  let i = 0;
  do {
    b = buf[pos.o++]!;
    result += (b & 0x7f) << i;
    i += 7;
  } while (b >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varlong as a Number, or undefined when it has more than 7 bytes (beyond 49 bits). */
function varLong(buf: Buffer, pos: { o: number }): number | undefined {
  let b: number;
  let result = 0;
  let mul = 1;
  let n = 0;
  do {
    if (n === 7) return undefined;
    b = buf[pos.o++]!;
    result += (b & 0x7f) * mul;
    mul *= 128;
    n++;
  } while (b >= 0x80);
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

function bytes(buf: Buffer, pos: { o: number }): Buffer | null {
  const len = varInt(buf, pos);
  if (len === -1) return null;
  const out = buf.slice(pos.o, pos.o + len);
  pos.o += len;
  return out;
}

/**
 * kafkajs's fold of a record's headers: a repeated key collects its values in an array (an inherited
 * name such as 'constructor' counts as already there, as in kafkajs).
 */
function addHeader(headers: Record<string, unknown>, key: string, value: Buffer | null): void {
  const old = headers[key];
  const next = old === undefined ? value : Array.isArray(old) ? old.concat([value]) : [old, value];
  // An own property even for '__proto__' (kafkajs builds the object with a spread).
  if (key === '__proto__')
    Object.defineProperty(headers, key, {
      value: next,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else headers[key] = next;
}

/**
 * One record batch (magic 2) at `d.offset`, its records appended to `out`; false at a partial batch (the
 * end of the data), after which nothing more is read. Compressed batches and values beyond 2^53 go
 * through kafkajs's RecordBatchDecoder.
 */
async function recordBatch(d: DecoderLike, out: unknown[]): Promise<boolean> {
  const buf = d.buffer;
  const start = d.offset;
  const length = buf.readInt32BE(start + 8);
  if (buf.length - (start + 12) < length) return false; // kafkajs: KafkaJSPartialMessageError
  const attributes = buf.readInt16BE(start + 21);
  const firstOffset = int64(buf, start);
  const firstTimestamp = int64(buf, start + 27);
  const maxTimestamp = int64(buf, start + 35);
  const producerId = int64(buf, start + 43);
  if (
    (attributes & 0x07) !== 0 ||
    firstOffset === undefined ||
    firstTimestamp === undefined ||
    maxTimestamp === undefined ||
    producerId === undefined
  ) {
    out.push(...(await RecordBatchDecoder(d)).records);
    return true;
  }
  const end = start + 12 + length;
  const pos = { o: start + 61 };
  const count = buf.readInt32BE(start + 57);
  const records = new Array<unknown>(count < 0 ? 0 : count);
  const timestampType = (attributes & 0x8) > 0 ? LOG_APPEND_TIME : 0;
  const isControlBatch = (attributes & 0x20) > 0;
  const batchContext = {
    firstOffset: String(firstOffset),
    firstTimestamp: String(firstTimestamp),
    partitionLeaderEpoch: buf.readInt32BE(start + 12),
    inTransaction: (attributes & 0x10) > 0,
    isControlBatch,
    lastOffsetDelta: buf.readInt32BE(start + 23),
    producerId: String(producerId),
    producerEpoch: buf.readInt16BE(start + 51),
    firstSequence: buf.readInt32BE(start + 53),
    maxTimestamp: String(maxTimestamp),
    timestampType,
    magicByte: 2,
  };
  // Records of a batch mostly share their timestamp (a producer's batch of records without one): the
  // previous record's string is reused for the same delta (a string and a number printed less per record).
  let lastDelta = NaN;
  let lastTimestamp = '';
  for (let i = 0; i < records.length; i++) {
    const recordLength = varInt(buf, pos);
    const recordEnd = pos.o + recordLength;
    const attributesOfRecord = buf.readInt8(pos.o++);
    const timestampDelta = varLong(buf, pos);
    if (timestampDelta === undefined) {
      // Not representable here: the whole batch through kafkajs.
      d.offset = start;
      out.push(...(await RecordBatchDecoder(d)).records);
      return true;
    }
    const offsetDelta = varInt(buf, pos);
    const key = bytes(buf, pos);
    const value = bytes(buf, pos);
    const headerCount = varInt(buf, pos);
    const headers: Record<string, unknown> = {};
    for (let h = 0; h < headerCount; h++) {
      const keyLength = varInt(buf, pos);
      const headerKey = keyLength === -1 ? null : buf.toString('utf8', pos.o, pos.o + keyLength);
      if (keyLength > 0) pos.o += keyLength;
      addHeader(headers, String(headerKey), bytes(buf, pos));
    }
    records[i] = {
      magicByte: 2,
      attributes: attributesOfRecord,
      timestamp:
        timestampType === LOG_APPEND_TIME && batchContext.maxTimestamp
          ? batchContext.maxTimestamp
          : timestampDelta === lastDelta
            ? lastTimestamp
            : (lastTimestamp = String(firstTimestamp + (lastDelta = timestampDelta))),
      offset: String(firstOffset + offsetDelta),
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
    pos.o = recordEnd;
  }
  d.offset = end;
  for (const r of records) out.push(r);
  return true;
}

/** kafkajs's fetch/v4/decodeMessages with the record batch decoder above. */
async function decodeMessages(decoder: DecoderLike): Promise<unknown[]> {
  const messagesSize = decoder.readInt32();
  if (messagesSize <= 0 || !decoder.canReadBytes(messagesSize)) return [];
  const messagesBuffer = decoder.readBytes(messagesSize);
  const messagesDecoder = new Decoder(messagesBuffer);
  const magicByte = messagesBuffer.slice(MAGIC_OFFSET).readInt8(0);
  if (magicByte !== 2) return MessageSetDecoder(messagesDecoder, messagesSize);
  const records: unknown[] = [];
  while (messagesDecoder.canReadBytes(RECORD_BATCH_OVERHEAD)) {
    if (!(await recordBatch(messagesDecoder, records))) break;
  }
  return records;
}

const decodeAbortedTransactions = (decoder: DecoderLike) => ({
  producerId: decoder.readInt64().toString(),
  firstOffset: decoder.readInt64().toString(),
});

async function decodePartition(decoder: DecoderLike) {
  return {
    partition: decoder.readInt32(),
    errorCode: decoder.readInt16(),
    highWatermark: decoder.readInt64().toString(),
    lastStableOffset: decoder.readInt64().toString(),
    lastStartOffset: decoder.readInt64().toString(),
    abortedTransactions: decoder.readArray(decodeAbortedTransactions),
    preferredReadReplica: decoder.readInt32(),
    messages: await decodeMessages(decoder),
  };
}

async function readArrayAsync<T>(decoder: DecoderLike, reader: (d: DecoderLike) => Promise<T>): Promise<T[]> {
  const length = decoder.readInt32();
  if (length === -1) return [];
  const array = new Array<T>(length);
  for (let i = 0; i < length; i++) array[i] = await reader(decoder);
  return array;
}

/** kafkajs's Fetch v11 response decode (fetch/v11/response.js), the records decoded as above. */
export async function decodeFetchV11(rawData: Buffer) {
  const decoder = new Decoder(rawData);
  const clientSideThrottleTime = decoder.readInt32();
  const errorCode = decoder.readInt16();
  const sessionId = decoder.readInt32();
  const responses = await readArrayAsync(decoder, async (d) => ({
    topicName: d.readString(),
    partitions: await readArrayAsync(d, decodePartition),
  }));
  return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
}

/** kafkajs's own Fetch v11 response decode, for the spec. */
export const kafkajsDecodeFetchV11 = (raw: Buffer) => fetchV11.decode(raw);

const fastV11: ResponseLike = { decode: decodeFetchV11, parse: (decoded) => fetchV11.parse(decoded) };
const PATCHED = Symbol.for('smshub.kafkajs.fetchDecoder');
const ORIGINAL = Symbol.for('smshub.kafkajs.fetchDecoder.original');
const requests = fetchRequests as typeof fetchRequests & {
  [PATCHED]?: true;
  [ORIGINAL]?: typeof fetchRequests.protocol;
};
if (!requests[PATCHED]) {
  const original = requests.protocol;
  requests[ORIGINAL] = original; // libs/kafka/bench/per-record.ts --unpatched
  requests.protocol = ({ version }) => {
    const build = original({ version });
    if (version !== 11) return build;
    return (args) => ({ ...build(args), response: fastV11 });
  };
  requests[PATCHED] = true;
}

/** The Fetch request builder for `version` as kafkajs calls it (patched), for the spec. */
export const fetchRequest = (version: number) => requests.protocol({ version });
