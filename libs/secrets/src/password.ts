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
