export { authEnv } from './config.js';
export { AuthError, permissionDenied, unauthenticated } from './errors.js';
export {
  accountScope,
  authorize,
  bearerInterceptor,
  callInfo,
  guardedRegistrar,
  guardService,
  type CallInfo,
  type Guard,
} from './grpc.js';
export {
  describeRoles,
  hasPermission,
  isRole,
  methodName,
  METHODS,
  ROLE_PERMISSIONS,
  ROLES,
  rolesWith,
  WRITE_PERMISSIONS,
  type Permission,
  type Role,
} from './roles.js';
export { bearerSecret, generateSecret, hashSecret, sameSecret, TOKEN_PREFIX } from './token.js';
export {
  BOOTSTRAP_TOKEN_ID,
  DEFAULT_CACHE_TTL_MS,
  PgTokenStore,
  TokenVerifier,
  type Principal,
  type StoredToken,
  type TokenStore,
  type VerifierOptions,
} from './verifier.js';
export { probeMethods, probeViolations, REFLECTION_DEFINITIONS, type ProbeResult } from './probe.js';
