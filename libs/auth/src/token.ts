// Bearer secrets: "smshub_" + 32 random bytes in base64url (256 bits). The prefix lets secret scanners
// recognise a leaked token. Stored as hex SHA-256: for uniformly random 256-bit secrets a fast hash is
// safe (nothing to guess), unlike human passwords, which need a slow salted hash (argon2id).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { unauthenticated } from './errors.js';

export const TOKEN_PREFIX = 'smshub_';

/** A new secret (shown once to whoever creates it). */
export function generateSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of a secret: the stored form and the lookup key. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time equality of two secrets of any length (both hashed first, so lengths leak nothing). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(a, 'utf8').digest(),
    createHash('sha256').update(b, 'utf8').digest(),
  );
}

/** The secret of `authorization: Bearer <secret>`; UNAUTHENTICATED when missing or malformed. */
export function bearerSecret(metadata: Metadata): string {
  const values = metadata.get('authorization');
  if (values.length === 0) {
    throw unauthenticated('missing "authorization: Bearer <token>" metadata');
  }
  const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
  const m = header === undefined ? null : /^Bearer\s+(\S{1,512})$/i.exec(header.trim());
  if (!m) throw unauthenticated('the authorization metadata must be "Bearer <token>"');
  return m[1]!;
}
