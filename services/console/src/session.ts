// Signed-in browsers: the user's token, role and CSRF token, found from the session cookie. Two stores:
// - MemorySessions: the cookie is an opaque random id; the session lives in this process's memory (it ends
//   with the process, and several replicas need the ingress to keep a browser on one).
// - SealedSessions (CONSOLE_SESSION_KEY): the cookie is the session itself, sealed with AES-256-GCM under a
//   key every replica shares, so any replica serves any browser and a restart signs nobody out. A changed
//   or foreign cookie does not open. Sign-out clears the browser's cookie; a copy taken before it stays
//   valid until its idle or maximum age (a revoked token is refused by the services at once either way).
// The token never reaches the browser's JavaScript (the cookie is HttpOnly) and is never logged. A session
// ends when unused for `idleMs`, `maxMs` after sign-in, or at sign-out.
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '@smshub/auth';
import { CONSOLE_ROLES } from './capabilities.js';

export interface Session {
  id: string;
  token: string;
  role: Role;
  /** Sent back on every mutation (X-CSRF-Token): a cross-site page cannot read it. */
  csrf: string;
  createdAt: number;
  lastUsedAt: number;
}

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
  /** Sessions held at most; the least recently used goes first. Default 10,000. */
  maxSessions?: number;
}

/** A session signed in at `t`: a random id and CSRF token. */
function newSession(token: string, role: Role, t: number): Session {
  return {
    id: randomBytes(32).toString('base64url'),
    token,
    role,
    csrf: randomBytes(24).toString('base64url'),
    createdAt: t,
    lastUsedAt: t,
  };
}

/** Whether a session has been unused for too long, or signed in too long ago, at `t`. */
function expired(s: Session, limits: SessionLimits, t: number): boolean {
  return t - s.lastUsedAt > limits.idleMs || t - s.createdAt > limits.maxMs;
}

/** What the API needs of a store: find the cookie's session, make one, forget one. */
export interface SessionStore {
  /**
   * The live session of a cookie value, or undefined when unknown, forged or expired. `cookie` is set
   * when the browser should get a new cookie value (a sealed session whose last use moved on).
   */
  get(cookie: string | undefined): { session: Session; cookie?: string } | undefined;
  /** A new session and the cookie value that finds it. */
  create(token: string, role: Role): { session: Session; cookie: string };
  /** Sign-out: the session is no longer found (a sealed one: the API clears the cookie). */
  delete(session: Session): void;
}

export class MemorySessions implements SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  create(token: string, role: Role): { session: Session; cookie: string } {
    const s = newSession(token, role, this.now());
    const max = this.limits.maxSessions ?? 10_000;
    while (this.sessions.size >= max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    this.sessions.set(s.id, s);
    return { session: s, cookie: s.id };
  }

  /** The live session of `id` (and marks it used), or undefined when unknown or expired. */
  get(id: string | undefined): { session: Session } | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (expired(s, this.limits, t)) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastUsedAt = t;
    // Map order = least recently used first.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return { session: s };
  }

  delete(session: Session): void {
    this.sessions.delete(session.id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** A sealed cookie: version, then base64url(iv 12 bytes | ciphertext | GCM tag 16 bytes). */
const SEALED = 's1.';
const AAD = Buffer.from('smshub-console-session-v1');
/** A sealed session's recorded last use moves (and the cookie is sealed again) at most this often. */
export const SEAL_TOUCH_MS = 60_000;

/** The sealed payload (short keys: it travels in every request's cookie). */
interface Sealed {
  i: string;
  t: string;
  r: Role;
  c: string;
  a: number;
  u: number;
}

/**
 * Sessions sealed into the cookie with AES-256-GCM. `keys`: 32-byte keys, the first seals, every one opens
 * (rotation: put the new key first, drop the old one after the maximum session age).
 */
export class SealedSessions implements SessionStore {
  constructor(
    private readonly keys: readonly Buffer[],
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    if (keys.length === 0 || keys.some((k) => k.length !== 32))
      throw new Error('a sealed session store needs 32-byte keys');
  }

  create(token: string, role: Role): { session: Session; cookie: string } {
    const session = newSession(token, role, this.now());
    return { session, cookie: this.seal(session) };
  }

  get(cookie: string | undefined): { session: Session; cookie?: string } | undefined {
    const session = cookie ? this.open(cookie) : undefined;
    if (!session) return undefined;
    const t = this.now();
    if (expired(session, this.limits, t)) return undefined;
    if (t - session.lastUsedAt < SEAL_TOUCH_MS) return { session };
    session.lastUsedAt = t;
    return { session, cookie: this.seal(session) };
  }

  delete(_session: Session): void {
    // Nothing held here: the API clears the browser's cookie.
  }

  private seal(s: Session): string {
    const payload: Sealed = { i: s.id, t: s.token, r: s.role, c: s.csrf, a: s.createdAt, u: s.lastUsedAt };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  private open(cookie: string): Session | undefined {
    if (!cookie.startsWith(SEALED)) return undefined;
    const raw = Buffer.from(cookie.slice(SEALED.length), 'base64url');
    if (raw.length < 12 + 16 + 2) return undefined;
    const iv = raw.subarray(0, 12);
    const tag = raw.subarray(raw.length - 16);
    const body = raw.subarray(12, raw.length - 16);
    for (const key of this.keys) {
      let text: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(AAD);
        decipher.setAuthTag(tag);
        text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        continue; // not this key (or changed): the next one
      }
      try {
        const p = JSON.parse(text) as Partial<Sealed>;
        if (
          typeof p.i !== 'string' ||
          typeof p.t !== 'string' ||
          typeof p.c !== 'string' ||
          typeof p.a !== 'number' ||
          typeof p.u !== 'number' ||
          !(CONSOLE_ROLES as readonly string[]).includes(String(p.r))
        )
          return undefined;
        return { id: p.i, token: p.t, role: p.r as Role, csrf: p.c, createdAt: p.a, lastUsedAt: p.u };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

/**
 * CONSOLE_SESSION_KEY's value: one or more base64 keys of 32 bytes, comma-separated (the first seals).
 * Throws with a sentence naming the problem (never the key).
 */
export function parseSessionKeys(value: string): Buffer[] {
  const parts = value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error('CONSOLE_SESSION_KEY is empty');
  return parts.map((k, i) => {
    const key = Buffer.from(k, 'base64');
    if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(k))
      throw new Error(
        `CONSOLE_SESSION_KEY: key ${i + 1} is not 32 bytes of base64 (make one with: openssl rand -base64 32)`,
      );
    return key;
  });
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
