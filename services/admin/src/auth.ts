// Token authentication: every AdminService call carries `authorization: Bearer <token>` metadata; the token
// is compared with ADMIN_TOKEN in constant time (both sides hashed first, so lengths leak nothing either).
import { createHash, timingSafeEqual } from 'node:crypto';
import { status, type Metadata } from '@grpc/grpc-js';
import { RpcError } from './errors.js';

export class TokenAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    if (token.length < 16) throw new Error('ADMIN_TOKEN must be at least 16 characters');
    this.expected = digest(token);
  }

  /** Throws UNAUTHENTICATED unless the metadata carries the right bearer token. */
  check(metadata: Metadata): void {
    const values = metadata.get('authorization');
    const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
    if (header === undefined) {
      throw new RpcError(status.UNAUTHENTICATED, 'missing "authorization: Bearer <token>" metadata');
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!m || !timingSafeEqual(digest(m[1]!), this.expected)) {
      throw new RpcError(status.UNAUTHENTICATED, 'invalid admin token');
    }
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
