import { randomFillSync } from 'node:crypto';

/**
 * Hub message ids: UUIDv7 (RFC 9562) with the layout of the `uuid` package's v7(), generated once per
 * accepted message. Same as uuid's: a 48-bit Unix millisecond time, then a 32-bit counter that starts at
 * a random value each millisecond and counts up within it (so the ids of one process sort in the order
 * they were made, even within a millisecond), then 42 random bits.
 *
 * Written here because uuid's v7() allocates two 16-byte arrays per id (a slice of its random pool and
 * the id's bytes) and refills its 256-byte pool with a crypto call every 16 ids; this draws from a
 * 4 KiB pool (a crypto call every 409 ids) and formats straight from numbers.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = Buffer.allocUnsafe(4096);
/** Random bytes used per id: 4 for the counter's start, 6 for the random tail (42 bits of them). */
const PER_ID = 10;
let poolAt = POOL.length;
let lastMs = -Infinity;
let seq = 0;

function randomBytes(): number {
  if (poolAt + PER_ID > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += PER_ID;
  return at;
}

/** A new UUIDv7 string, e.g. `019ad1c2-3f4e-7a12-9c3d-5e6f7a8b9c0d`. */
export function newMessageId(now: number = Date.now()): string {
  const r = randomBytes();
  if (now > lastMs) {
    seq = POOL.readUInt32BE(r) | 0;
    lastMs = now;
  } else {
    // Same millisecond (or the clock went back): count up; on overflow borrow the next millisecond.
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x1000000); // top 24 bits of the 48-bit time
  const lo = ms % 0x1000000; // low 24 bits
  return (
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | ((seq >>> 28) & 0x0f)]! +
    HEX[(seq >>> 20) & 0xff]! +
    '-' +
    HEX[0x80 | ((seq >>> 14) & 0x3f)]! +
    HEX[(seq >>> 6) & 0xff]! +
    '-' +
    HEX[((seq << 2) & 0xff) | (POOL[r + 4]! & 0x03)]! +
    HEX[POOL[r + 5]!]! +
    HEX[POOL[r + 6]!]! +
    HEX[POOL[r + 7]!]! +
    HEX[POOL[r + 8]!]! +
    HEX[POOL[r + 9]!]!
  );
}
