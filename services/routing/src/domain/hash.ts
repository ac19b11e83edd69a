// Small non-cryptographic hashes for deterministic choices (weighted split).

/** FNV-1a over UTF-16 code units, then the murmur3 32-bit finaliser for avalanche. Unsigned 32-bit. */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) derived from `s`. */
export function unitInterval(s: string, seed = 0): number {
  return hash32(s, seed) / 4294967296;
}
