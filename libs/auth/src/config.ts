// The environment fragment of every service that verifies tokens (schema only: services parse it once).
import { envInt, z } from '@smshub/config';
import { DEFAULT_CACHE_TTL_MS } from './verifier.js';

export const authEnv = {
  /**
   * Bootstrap admin credential (at least 16 characters), accepted besides the tokens in auth_tokens.
   * Optional in dlr and rating (admin requires it); set the same value everywhere.
   */
  ADMIN_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  /** How long a token lookup is reused: a revoked token stops working at most this long after. */
  AUTH_CACHE_TTL_MS: envInt({ min: 0, max: 60_000, default: DEFAULT_CACHE_TTL_MS }),
};
