// Who is calling: the bearer secret of a call checked against ADMIN_TOKEN (the bootstrap admin credential)
// and the auth_tokens table. Lookups are cached for `cacheTtlMs` (positive and negative results alike), so
// a revoked or expired-early token stops working at most that long after the change on every service;
// the expiry time itself is checked on every call. A store that cannot answer refuses the call
// (UNAVAILABLE): never fail open.
import { status, type Metadata } from '@grpc/grpc-js';
import type { Pool } from '@smshub/db';
import { AuthError, unauthenticated } from './errors.js';
import { isRole, type Role } from './roles.js';
import { bearerSecret, hashSecret, sameSecret, TOKEN_PREFIX } from './token.js';

/** The caller of an authenticated call. */
export interface Principal {
  /** auth_tokens.id, or "bootstrap" for ADMIN_TOKEN. */
  tokenId: string;
  name: string;
  role: Role;
  /** Set for customer tokens: the only account they may read. */
  accountId?: string;
}

/** A row of auth_tokens as the verifier needs it. */
export interface StoredToken {
  id: string;
  name: string;
  role: string;
  accountId: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface TokenStore {
  findByHash(hash: string): Promise<StoredToken | undefined>;
  /** Records that token `id` was accepted (best effort; failures are ignored). */
  touch?(id: string): Promise<void>;
}

/** A token's last use is written at most this often per process. */
const TOUCH_INTERVAL_MS = 60_000;

export const BOOTSTRAP_TOKEN_ID = 'bootstrap';
export const DEFAULT_CACHE_TTL_MS = 2_000;

export interface VerifierOptions {
  /** auth_tokens; without one only the bootstrap token is accepted. */
  store?: TokenStore;
  /** ADMIN_TOKEN: accepted as role admin (token id "bootstrap"). */
  bootstrapToken?: string;
  /** How long a lookup is reused: the bound on how late a revocation takes effect. Default 2000. */
  cacheTtlMs?: number;
  /** Cached lookups at most (oldest dropped first). Default 10,000. */
  maxCached?: number;
  now?: () => number;
}

interface Cached {
  lookup: Promise<StoredToken | undefined>;
  until: number;
}

export class TokenVerifier {
  private readonly cache = new Map<string, Cached>();
  private readonly touched = new Map<string, number>();
  private readonly ttl: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(private readonly opts: VerifierOptions) {
    if (opts.bootstrapToken !== undefined && opts.bootstrapToken.length < 16) {
      throw new Error('ADMIN_TOKEN must be at least 16 characters');
    }
    this.ttl = opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.max = opts.maxCached ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The caller of a call with this metadata; AuthError (UNAUTHENTICATED / UNAVAILABLE) otherwise. */
  async authenticate(metadata: Metadata): Promise<Principal> {
    return this.verify(bearerSecret(metadata));
  }

  async verify(secret: string): Promise<Principal> {
    if (this.opts.bootstrapToken !== undefined && sameSecret(secret, this.opts.bootstrapToken)) {
      return { tokenId: BOOTSTRAP_TOKEN_ID, name: 'ADMIN_TOKEN', role: 'admin' };
    }
    if (this.opts.store === undefined || !secret.startsWith(TOKEN_PREFIX)) {
      throw unauthenticated('invalid token');
    }
    const row = await this.lookup(hashSecret(secret));
    if (row === undefined || !isRole(row.role)) throw unauthenticated('invalid token');
    const now = this.now();
    if (row.revokedAt !== null && row.revokedAt.getTime() <= now) {
      throw unauthenticated(`token ${row.id} was revoked at ${row.revokedAt.toISOString()}`);
    }
    if (row.expiresAt !== null && row.expiresAt.getTime() <= now) {
      throw unauthenticated(`token ${row.id} expired at ${row.expiresAt.toISOString()}`);
    }
    if (row.role === 'customer' && !row.accountId) throw unauthenticated('invalid token');
    this.touch(row.id, now);
    return {
      tokenId: row.id,
      name: row.name,
      role: row.role,
      ...(row.role === 'customer' && row.accountId ? { accountId: row.accountId } : {}),
    };
  }

  /** Forgets every cached lookup (admin calls it after its own revocations: effective at once there). */
  invalidate(): void {
    this.cache.clear();
  }

  private touch(id: string, now: number): void {
    const store = this.opts.store;
    if (store?.touch === undefined) return;
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= this.max) this.touched.clear();
    this.touched.set(id, now);
    store.touch(id).catch(() => undefined);
  }

  private lookup(hash: string): Promise<StoredToken | undefined> {
    const now = this.now();
    const hit = this.cache.get(hash);
    if (hit !== undefined && hit.until > now) return hit.lookup;
    this.cache.delete(hash);
    const store = this.opts.store!;
    const lookup = store.findByHash(hash).catch((err: unknown) => {
      this.cache.delete(hash);
      throw new AuthError(status.UNAVAILABLE, 'tokens cannot be verified right now; retry', { cause: err });
    });
    this.cache.set(hash, { lookup, until: now + this.ttl });
    while (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value!);
    return lookup;
  }
}

/** auth_tokens in PostgreSQL (the config database every service already reads). */
export class PgTokenStore implements TokenStore {
  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  async touch(id: string): Promise<void> {
    await this.pool.query('UPDATE auth_tokens SET last_used_at = now() WHERE id = $1', [id]);
  }

  async findByHash(hash: string): Promise<StoredToken | undefined> {
    const r = await this.pool.query<{
      id: string;
      name: string;
      role: string;
      account_id: string | null;
      expires_at: Date | null;
      revoked_at: Date | null;
    }>('SELECT id, name, role, account_id, expires_at, revoked_at FROM auth_tokens WHERE token_hash = $1', [
      hash,
    ]);
    const row = r.rows[0];
    if (row === undefined) return undefined;
    return {
      id: row.id,
      name: row.name,
      role: row.role,
      accountId: row.account_id,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
    };
  }
}
