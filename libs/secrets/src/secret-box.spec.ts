import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, parseSecretKey, sealSecret } from './secret-box.js';

describe('secret box', () => {
  const key = randomBytes(32);
  it('round-trips and never stores the plaintext', () => {
    const sealed = sealSecret(key, 'pa55w0rd', 'con_1');
    expect(sealed.includes(Buffer.from('pa55w0rd'))).toBe(false);
    expect(openSecret(key, sealed, 'con_1')).toBe('pa55w0rd');
  });
  it('refuses another key, another connector id, or a flipped bit', () => {
    const sealed = sealSecret(key, 'pa55w0rd', 'con_1');
    expect(() => openSecret(randomBytes(32), sealed, 'con_1')).toThrow(/does not decrypt/);
    expect(() => openSecret(key, sealed, 'con_2')).toThrow(/does not decrypt/);
    const bad = Buffer.from(sealed);
    bad[15] = bad[15]! ^ 1;
    expect(() => openSecret(key, bad, 'con_1')).toThrow(/does not decrypt/);
  });
  it('checks the key length', () => {
    expect(() => parseSecretKey(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
  });
});
