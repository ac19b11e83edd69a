import { runService } from '@smshub/runtime';
import { routingEnv } from './config.js';
import { namespacedGroup } from '@smshub/contracts';
import { tlsFiles } from '@smshub/grpc';
import { createRoutingCore } from './core.js';
import { DEFAULT_LATENCY_POLICY, DEFAULT_PROBE_POLICY } from './domain/grey-routes.js';
import { startRoutingApi } from './grpc.js';
import { seekGroupToTime } from './seek.js';

await runService({
  service: 'routing',
  env: routingEnv,
  async start(ctx) {
    const c = ctx.config;
    const pool = ctx.pool(c.DATABASE_URL);
    const core = createRoutingCore({
      config: {
        replicaId: c.ROUTING_REPLICA_ID,
        portedCache: {
          ttlMs: c.ROUTING_PORTED_CACHE_TTL_MS,
          negativeTtlMs: c.ROUTING_PORTED_NEGATIVE_TTL_MS,
          maxEntries: c.ROUTING_PORTED_CACHE_MAX,
        },
        normaliseCacheSize: c.ROUTING_NORMALISE_CACHE_MAX,
        maxPublishesInFlight: c.ROUTING_MAX_PUBLISHES_IN_FLIGHT,
        adaptiveHalfLifeMs: c.ROUTING_ADAPTIVE_HALF_LIFE_MS,
        firewall: {
          maxKeysPerRule: c.ROUTING_FIREWALL_MAX_KEYS_PER_RULE,
          maxDuplicateKeysPerRule: c.ROUTING_FIREWALL_DUPLICATE_MAX_KEYS,
          maxRememberedIds: c.ROUTING_FIREWALL_REMEMBERED_IDS,
        },
        firewallWindows: c.ROUTING_FIREWALL_WINDOWS,
        firewallRememberMs: c.ROUTING_FIREWALL_REMEMBER_MS,
        firewallCleanupIntervalMs: c.ROUTING_FIREWALL_CLEANUP_INTERVAL_MS,
        debugNumbers: c.LOG_DEBUG_NUMBERS,
        consumer: {
          partitionsConsumedConcurrently: c.ROUTING_PARTITIONS_CONCURRENTLY,
          minBytes: c.ROUTING_FETCH_MIN_BYTES,
          maxWaitMs: c.ROUTING_FETCH_WAIT_MS,
        },
        greyRoutes: {
          probeAccountId: c.ROUTING_PROBE_ACCOUNT_ID,
          probeSender: c.ROUTING_PROBE_SENDER,
          tickMs: c.ROUTING_PROBE_TICK_MS,
          probe: {
            ...DEFAULT_PROBE_POLICY,
            deadlineMs: c.ROUTING_PROBE_DEADLINE_MS,
            lateMs: c.ROUTING_PROBE_LATE_MS,
            window: c.ROUTING_PROBE_WINDOW,
            minBad: c.ROUTING_PROBE_MIN_BAD,
            clearAfter: c.ROUTING_PROBE_CLEAR_AFTER,
          },
          ...(c.ROUTING_LATENCY_SIGNAL === 'on'
            ? { latency: { ...DEFAULT_LATENCY_POLICY, minSamples: c.ROUTING_LATENCY_MIN_SAMPLES } }
            : {}),
        },
      },
      logger: ctx.logger,
      producer: await ctx.producer(),
      consumer: (o) => ctx.consumer(o),
      pool,
      topics: ctx.topics,
      seekGroup: async (groupId, topic, sinceMs, signal) => {
        const admin = ctx.kafka.admin();
        // Given up on by the core (its timeout): the admin is let go in the background. setOffsets's hidden
        // member has no timeout, and disconnect waits for the requests in flight, so neither is awaited.
        const release = () => void admin.disconnect().catch(() => undefined);
        signal?.addEventListener('abort', release, { once: true });
        try {
          await admin.connect();
          // The group as ctx.consumer names it (KAFKA_NAMESPACE applies to groups too).
          await seekGroupToTime(admin, namespacedGroup(groupId, c.KAFKA_NAMESPACE), topic, sinceMs);
        } finally {
          signal?.removeEventListener('abort', release);
          if (!signal?.aborted) await admin.disconnect();
        }
      },
    });
    // Registered after the pool and producer, so it runs before they close.
    ctx.lifecycle.onShutdown('routing', () => core.stop());
    await core.start();
    // RoutingService (dry run, estimates) once the tables are loaded; stopped before the core.
    const tls = tlsFiles(c.GRPC_TLS_CERT_FILE, c.GRPC_TLS_KEY_FILE);
    const api = await startRoutingApi(core, pool, ctx.logger, {
      replicaId: c.ROUTING_REPLICA_ID,
      port: c.GRPC_PORT,
      host: c.GRPC_HOST,
      ...(tls ? { tls } : {}),
      ...(c.ADMIN_TOKEN !== undefined ? { adminToken: c.ADMIN_TOKEN } : {}),
      authCacheTtlMs: c.AUTH_CACHE_TTL_MS,
    });
    ctx.lifecycle.onShutdown('routing-grpc', () => api.stop());
  },
});
