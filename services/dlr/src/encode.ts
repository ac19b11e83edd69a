// Protobuf bytes for rows and records without a writer per encode or a second copy.
import { encodeShared, type ProtoCodec } from '@smshub/contracts';

/**
 * `value`'s bytes as a Buffer: encoded with libs/contracts' shared writer (a fresh ts-proto writer starts at
 * 128 bytes and grows, copying, for every encode), whose output is already a copy of its own, so the Buffer
 * is a view of it rather than a second copy (`Buffer.from(uint8Array)` copies).
 */
export function encodeBuffer<T>(codec: ProtoCodec<T>, value: T): Buffer {
  return asBuffer(encodeShared(codec, value));
}

/** A Buffer over `bytes` (no copy); `bytes` itself when it is one. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
