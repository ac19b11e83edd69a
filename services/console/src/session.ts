// Signed-in browsers: an opaque random session id (the cookie) -> the user's token, role and CSRF token,
// held in this process's memory only. The token never reaches the browser's JavaScript (the cookie is
// HttpOnly) and is never logged. A session ends when unused for `idleMs`, `maxMs` after sign-in, at
// sign-out, or when the process restarts (the user signs in again; with several replicas the ingress must
// keep a browser on one replica: deploy.md).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '@smshub/auth';

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

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  create(token: string, role: Role): Session {
    const t = this.now();
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      token,
      role,
      csrf: randomBytes(24).toString('base64url'),
      createdAt: t,
      lastUsedAt: t,
    };
    const max = this.limits.maxSessions ?? 10_000;
    while (this.sessions.size >= max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session of `id` (and marks it used), or undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastUsedAt > this.limits.idleMs || t - s.createdAt > this.limits.maxMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastUsedAt = t;
    // Map order = least recently used first.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
