import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/**
 * Account passwords at rest: argon2id PHC strings (parameters, salt and hash in one string), so the
 * parameters can be raised later without invalidating stored hashes; verify reads them from the string.
 * OWASP's argon2id baseline: 19 MiB memory, 2 iterations, parallelism 1.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/** The cost parameters of an argon2 hash: what a verification against it costs. */
export interface HashParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export function hashPassword(
  password: string,
  options: Partial<typeof PASSWORD_HASH_OPTIONS> = {},
): Promise<string> {
  return argon2.hash(password, { ...PASSWORD_HASH_OPTIONS, ...options });
}

/** False for a wrong password or a hash that is not an argon2 PHC string; never throws. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  return argon2.verify(hash, password).catch(() => false);
}

/** The m, t and p of an argon2id PHC string; undefined for anything else. */
export function hashParams(hash: string): HashParams | undefined {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
  if (!m) return undefined;
  return { memoryCost: Number(m[1]), timeCost: Number(m[2]), parallelism: Number(m[3]) };
}

/**
 * A hash of a random password with the given parameters: verified against when there is no stored hash
 * (an unknown user), so that the answer costs the same time as for a known one with these parameters.
 */
export function dummyHash(params: HashParams = PASSWORD_HASH_OPTIONS): Promise<string> {
  return hashPassword(randomBytes(16).toString('base64'), params);
}

/** The parameters shared by most of `hashes` (ties: the costlier), or the configured ones when none parse. */
export function commonHashParams(hashes: Iterable<string>): HashParams {
  const counts = new Map<string, { n: number; p: HashParams }>();
  for (const h of hashes) {
    const p = hashParams(h);
    if (!p) continue;
    const key = `${p.memoryCost},${p.timeCost},${p.parallelism}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { n: 1, p });
  }
  let best: { n: number; p: HashParams } | undefined;
  for (const c of counts.values()) {
    const cost = (p: HashParams): number => p.memoryCost * p.timeCost;
    if (!best || c.n > best.n || (c.n === best.n && cost(c.p) > cost(best.p))) best = c;
  }
  const { memoryCost, timeCost, parallelism } = best?.p ?? PASSWORD_HASH_OPTIONS;
  return { memoryCost, timeCost, parallelism };
}
