import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.js';

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
});
