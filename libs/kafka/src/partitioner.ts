import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';
import { randomBytes } from 'node:crypto';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, which kafkajs's DefaultPartitioner uses), in 32-bit
 * integer arithmetic. kafkajs computes it with a BigInt-backed Long: a few objects per byte quartet and
 * about 4 % of a producing service's CPU per record. Same results, bit for bit (partitioner.spec.ts checks
 * it against kafkajs's own function): a key keeps its partition.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** A key's bytes as kafkajs sends them (UTF-8); ASCII keys (ids) without a Buffer allocation. */
const scratch = new Uint8Array(128);
function keyHash(key: Buffer | string): number {
  if (typeof key !== 'string') return murmur2(key);
  if (key.length <= scratch.length) {
    let ascii = true;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      scratch[i] = c;
    }
    if (ascii) return murmur2(scratch.subarray(0, key.length));
  }
  return murmur2(Buffer.from(key));
}

/**
 * kafkajs's DefaultPartitioner (a set partition wins; a key → murmur2(key) mod partitions; no key → round
 * robin over the partitions with a leader, from a random start per topic), without its per-record
 * allocations. It also writes the partition it chose into the message (`message.partition`): a retry, or a
 * resend through a new producer, goes to the same partition, and after `sendBatch` each record's partition
 * is known, so the brokers' answers can be checked per record.
 */
export const pinningPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    let partition: number;
    if (message.partition !== null && message.partition !== undefined) partition = message.partition;
    else if (message.key !== null && message.key !== undefined)
      partition = (keyHash(message.key) & 0x7fffffff) % partitionMetadata.length;
    else {
      let n = counters.get(topic) ?? randomBytes(4).readUInt32BE(0);
      counters.set(topic, ++n);
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      partition =
        available.length > 0
          ? available[(n & 0x7fffffff) % available.length]!.partitionId
          : (n & 0x7fffffff) % partitionMetadata.length;
    }
    message.partition = partition;
    return partition;
  };
};
