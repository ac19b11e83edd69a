/**
 * Small seeded PRNG (mulberry32: a 32-bit state, one multiply-xorshift round per draw). Not cryptographic;
 * it only has to make the simulator's draws repeatable for a given seed and cheap in the hot path.
 */
export type Rng = () => number;

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for when none is given. */
export function randomSeed(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
