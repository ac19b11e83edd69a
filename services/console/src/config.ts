import { envBoolean, envHost, envInt, envString } from '@smshub/config';
import { parseSessionKeys } from './session.js';

/** The console's own environment variables (merged with the shared HTTP/log/OTel ones by runService). */
export const consoleEnv = {
  /** Listen address of the console. Loopback by default, like every listener; deployments set 0.0.0.0. */
  CONSOLE_HOST: envHost(),
  CONSOLE_PORT: envInt({ min: 0, max: 65535, default: 8090 }),
  /** PEM certificate chain and key: with both, the console speaks HTTPS only (and its cookie is Secure). */
  CONSOLE_TLS_CERT_FILE: envString().optional(),
  CONSOLE_TLS_KEY_FILE: envString().optional(),
  /** The services the console calls with the signed-in user's token (host:port); unset: that page says so. */
  ADMIN_GRPC_ADDRESS: envString().optional(),
  DLR_GRPC_ADDRESS: envString().optional(),
  RATING_GRPC_ADDRESS: envString().optional(),
  STATS_GRPC_ADDRESS: envString().optional(),
  /** A routing replica (RoutingService: the routing page's dry run and learnt estimates). */
  ROUTING_GRPC_ADDRESS: envString().optional(),
  /** Call the services over TLS (system CAs, or CONSOLE_GRPC_CA_FILE). */
  CONSOLE_GRPC_TLS: envBoolean(false),
  CONSOLE_GRPC_CA_FILE: envString().optional(),
  /** A session unused this long ends (minutes). */
  CONSOLE_SESSION_IDLE_MINUTES: envInt({ min: 1, max: 24 * 60, default: 30 }),
  /** A session ends this long after sign-in, used or not (hours). */
  CONSOLE_SESSION_MAX_HOURS: envInt({ min: 1, max: 7 * 24, default: 12 }),
  /**
   * Base64 key(s) of 32 bytes, comma-separated: sessions are sealed into the cookie with the first, opened
   * with any (rotation), so every replica with the same keys serves any browser and a restart signs nobody
   * out. Unset: sessions live in the process's memory (one replica, or session affinity). A secret.
   */
  CONSOLE_SESSION_KEY: envString()
    .superRefine((v, ctx) => {
      try {
        parseSessionKeys(v);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: (err as Error).message.replace(/^CONSOLE_SESSION_KEY:? ?/, ''),
        });
      }
    })
    .optional(),
  /** The built web application (vite build output); default services/console/dist/web. */
  CONSOLE_ASSETS_DIR: envString().optional(),
};
