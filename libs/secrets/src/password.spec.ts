import { describe, expect, it } from 'vitest';
import { commonHashParams, dummyHash, hashParams, hashPassword, verifyPassword } from './password.js';

describe('account passwords', () => {
  it('hashes to an argon2id PHC string that verifies only the same password', async () => {
    const hash = await hashPassword('s3cret-pass', { memoryCost: 1024, timeCost: 1 });
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(hash).not.toContain('s3cret-pass');
    await expect(verifyPassword(hash, 's3cret-pass')).resolves.toBe(true);
    await expect(verifyPassword(hash, 's3cret-pasS')).resolves.toBe(false);
  });

  it('answers false, not an exception, for a stored value that is not a hash', async () => {
    await expect(verifyPassword('plaintext', 'plaintext')).resolves.toBe(false);
  });

  it('makes dummy hashes with the parameters most stored hashes use', async () => {
    const cheap = await hashPassword('a', { memoryCost: 1024, timeCost: 1 });
    const other = await hashPassword('b', { memoryCost: 2048, timeCost: 1 });
    expect(hashParams(cheap)).toEqual({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    expect(hashParams('plaintext')).toBeUndefined();
    const params = commonHashParams([cheap, cheap, other, 'junk']);
    expect(params).toEqual({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    expect(commonHashParams([])).toEqual({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const dummy = await dummyHash(params);
    expect(hashParams(dummy)).toEqual(params);
    await expect(verifyPassword(dummy, '')).resolves.toBe(false);
  });
});
