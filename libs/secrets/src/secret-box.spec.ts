import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, openSecretWithKeys, parseSecretKey, resealSecret, sealSecret } from './secret-box.js';

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

  describe('key rotation', () => {
    const previous = randomBytes(32);
    const older = randomBytes(32);
    it('opens with the current key or a previous one, and says which', () => {
      expect(openSecretWithKeys([key, previous], sealSecret(key, 'a', 'c'), 'c')).toEqual({
        plaintext: 'a',
        keyIndex: 0,
      });
      expect(openSecretWithKeys([key, previous, older], sealSecret(older, 'b', 'c'), 'c')).toEqual({
        plaintext: 'b',
        keyIndex: 2,
      });
      expect(() => openSecretWithKeys([key, previous], sealSecret(older, 'b', 'c'), 'c')).toThrow(
        /nor any previous key/,
      );
      expect(() => openSecretWithKeys([key], Buffer.from('junk-junk-junk-junk-junk-junk'), 'c')).toThrow(
        'not a sealed secret',
      );
    });
    it('re-seals under the current key only what a previous key opens', () => {
      expect(resealSecret(key, [previous], sealSecret(key, 'a', 'c'), 'c')).toBeNull();
      const moved = resealSecret(key, [previous], sealSecret(previous, 'pw', 'con_9'), 'con_9');
      expect(moved).not.toBeNull();
      expect(openSecret(key, moved!, 'con_9')).toBe('pw');
      expect(() => resealSecret(key, [previous], sealSecret(older, 'pw', 'c'), 'c')).toThrow(
        /does not decrypt/,
      );
    });
  });
});
