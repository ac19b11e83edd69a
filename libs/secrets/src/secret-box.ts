import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for connector passwords at rest (CONNECTOR_SECRET_KEY, 32 bytes in base64).
 * Layout: version 0x01 | 12-byte nonce | ciphertext | 16-byte tag. The connector id is the additional
 * authenticated data, so a ciphertext copied to another connector's row does not decrypt.
 * node:crypto rather than a library: GCM with a random 96-bit nonce is the standard construction and
 * there is nothing to add on top of it.
 */
const VERSION = 0x01;

export class SecretBoxError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export function parseSecretKey(base64: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32)
    throw new SecretBoxError(`CONNECTOR_SECRET_KEY must be 32 bytes of base64 (got ${key.length})`);
  return key;
}

export function sealSecret(key: Buffer, plaintext: string, aad: string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

export function openSecret(key: Buffer, sealed: Buffer, aad: string): string {
  if (sealed.length < 1 + 12 + 16 || sealed[0] !== VERSION) throw new SecretBoxError('not a sealed secret');
  const nonce = sealed.subarray(1, 13);
  const tag = sealed.subarray(sealed.length - 16);
  const body = sealed.subarray(13, sealed.length - 16);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError('secret does not decrypt with CONNECTOR_SECRET_KEY (wrong key or tampered)');
  }
}

/**
 * Opens with the first of `keys` that works: the current key first, then the previous ones while a key
 * rotation is under way (docs/security.md). `keyIndex` says which one opened it (0 = the current key).
 */
export function openSecretWithKeys(
  keys: readonly Buffer[],
  sealed: Buffer,
  aad: string,
): { plaintext: string; keyIndex: number } {
  for (const [keyIndex, key] of keys.entries()) {
    try {
      return { plaintext: openSecret(key, sealed, aad), keyIndex };
    } catch (err) {
      if (!(err instanceof SecretBoxError) || err.message === 'not a sealed secret') throw err;
    }
  }
  throw new SecretBoxError(
    keys.length > 1
      ? `secret does not decrypt with CONNECTOR_SECRET_KEY nor any previous key (wrong keys or tampered)`
      : 'secret does not decrypt with CONNECTOR_SECRET_KEY (wrong key or tampered)',
  );
}

/**
 * The sealed value under `current`: null when it already opens with `current`, else re-sealed from the
 * first of `previous` that opens it. Throws SecretBoxError when no key opens it.
 */
export function resealSecret(
  current: Buffer,
  previous: readonly Buffer[],
  sealed: Buffer,
  aad: string,
): Buffer | null {
  const { plaintext, keyIndex } = openSecretWithKeys([current, ...previous], sealed, aad);
  return keyIndex === 0 ? null : sealSecret(current, plaintext, aad);
}
