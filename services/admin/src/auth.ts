// Admin's side of libs/auth: the token verifier (auth_tokens plus ADMIN_TOKEN as the bootstrap admin) and
// the guard of AdminService and reflection. Refusals are counted, and refused writes are audited (who
// tried what, from where) like the writes themselves.
import { status } from '@grpc/grpc-js';
import { METHODS, PgTokenStore, TokenVerifier, WRITE_PERMISSIONS, type Guard } from '@smshub/auth';
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import type { AuditLog } from './audit.js';
import { adminMetrics } from './metrics.js';

export function adminVerifier(pool: Pool, token: string, cacheTtlMs?: number): TokenVerifier {
  return new TokenVerifier({
    store: new PgTokenStore(pool),
    bootstrapToken: token,
    ...(cacheTtlMs !== undefined ? { cacheTtlMs } : {}),
  });
}

export function adminGuard(verifier: TokenVerifier, logger: Logger, audit: AuditLog): Guard {
  return {
    verifier,
    logger,
    onRefused(e) {
      adminMetrics.requests.inc({ method: e.method, code: status[e.code] });
      if (e.code === status.UNAUTHENTICATED) adminMetrics.authFailures.inc();
      const permission =
        METHODS.get(`/smshub.admin.v1.AdminService/${e.method}`) ??
        METHODS.get(`/smshub.admin.v1.DeadLetterService/${e.method}`) ??
        METHODS.get(`/smshub.admin.v1.ProbeService/${e.method}`);
      if (permission !== undefined && WRITE_PERMISSIONS.has(permission)) {
        void audit.record({
          method: e.method,
          ...(e.principal ? { principal: e.principal } : {}),
          peer: e.peer,
          kind: '',
          id: '',
          outcome: status[e.code],
          error: e.code === status.PERMISSION_DENIED ? 'permission denied' : 'not authenticated',
        });
      }
    },
  };
}
