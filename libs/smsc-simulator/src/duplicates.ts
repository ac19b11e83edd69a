import type { Pdu } from '@smshub/smpp';

/**
 * Duplicate detection for accepted submit_sm.
 *
 * A submit is a duplicate when an earlier accepted one, less than `windowMs` before, had the same
 * source_addr, destination_addr, short_message bytes (the UDH, so the concatenation reference and part
 * number, included), message_payload and sar_* TLVs. The key is a 53-bit hash of those fields (two
 * independent 32-bit hashes, FNV-1a and a multiply-rotate one, combined), so memory per entry is two
 * numbers; with 1.2 million messages in a window the chance of any false match is below 1e-4.
 *
 * Memory is bounded by two generations of keys: the current one and the previous one. A generation is
 * retired after `windowMs` (or after `maxEntries` keys, which then shortens the effective window), and a
 * hit is confirmed against its stored time, so the window is exact while no early rotation happens.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

class Hasher {
  h1 = FNV_OFFSET;
  h2 = 0x9747b28c;
  byte(b: number): void {
    this.h1 = Math.imul(this.h1 ^ b, FNV_PRIME);
    let k = Math.imul(b + 1, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    this.h2 ^= Math.imul(k, 0x1b873593);
    this.h2 = Math.imul((this.h2 << 13) | (this.h2 >>> 19), 5) + 0xe6546b64;
  }
  str(s: string | undefined): void {
    if (s !== undefined) for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i) & 0xff);
    this.byte(0x100); // separator that no byte value equals
  }
  bytes(b: Uint8Array | undefined): void {
    if (b !== undefined) {
      for (let i = 0; i < b.length; i++) this.byte(b[i] as number);
      this.byte(0x101 + (b.length & 0xff));
    } else this.byte(0x200);
  }
  num(n: number | undefined): void {
    if (n === undefined) return this.byte(0x300);
    this.byte(n & 0xff);
    this.byte((n >>> 8) & 0xff);
    this.byte(0x301);
  }
  digest(): number {
    let h2 = this.h2 ^ (this.h2 >>> 16);
    h2 = Math.imul(h2, 0x85ebca6b);
    h2 ^= h2 >>> 13;
    return (this.h1 >>> 0) * 0x200000 + ((h2 >>> 0) >>> 11);
  }
}

const hasher = new Hasher();

/** The duplicate key of a submit_sm (see above). Reuses one hasher: no allocation. */
export function submitKey(pdu: Pdu): number {
  hasher.h1 = FNV_OFFSET;
  hasher.h2 = 0x9747b28c;
  hasher.str(pdu.source_addr);
  hasher.str(pdu.destination_addr);
  hasher.bytes(pdu.short_message);
  hasher.bytes(pdu.message_payload);
  hasher.num(pdu.sar_msg_ref_num);
  hasher.num(pdu.sar_total_segments);
  hasher.num(pdu.sar_segment_seqnum);
  return hasher.digest();
}

export class DuplicateDetector {
  private current = new Map<number, number>();
  private previous = new Map<number, number>();
  private currentStart: number;

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxEntries = 1_000_000,
    now = Date.now(),
  ) {
    this.currentStart = now;
  }

  /** Records `key` at `now`; true when it was recorded less than windowMs before. */
  check(key: number, now: number): boolean {
    if (now - this.currentStart >= this.windowMs || this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Map();
      this.currentStart = now;
    }
    let t = this.current.get(key);
    if (t === undefined) t = this.previous.get(key);
    this.current.set(key, now);
    return t !== undefined && now - t < this.windowMs;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
