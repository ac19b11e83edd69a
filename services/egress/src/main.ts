import { readFileSync } from 'node:fs';
import { namespacedGroup } from '@smshub/contracts';
import { TypedConsumer } from '@smshub/kafka';
import { runService } from '@smshub/runtime';
import { egressEnv } from './config.js';
import { createEgressCore } from './core.js';
import { DispatchStore } from './dispatch-store.js';
import { parseSecretKey } from '@smshub/secrets';

await runService({
  service: 'egress',
  env: egressEnv,
  async start(ctx) {
    const c = ctx.config;
    const pool = ctx.pool(c.DATABASE_URL);
    if (c.EGRESS_REPLICAS !== undefined)
      ctx.logger.warn(
        { EGRESS_REPLICAS: c.EGRESS_REPLICAS },
        'EGRESS_REPLICAS is deprecated and ignored: connector TPS and sessions are split by the live replicas',
      );
    const core = createEgressCore({
      config: {
        replicaId: c.EGRESS_REPLICA_ID,
        tpsHeadroom: c.EGRESS_TPS_HEADROOM_PERCENT / 100,
        retry: {
          maxRetriesPerConnector: c.EGRESS_MAX_RETRIES_PER_CONNECTOR,
          backoff: { initialMs: c.EGRESS_RETRY_INITIAL_MS, maxMs: c.EGRESS_RETRY_MAX_MS, jitter: 0.2 },
        },
        reconnect: {
          initialMs: c.EGRESS_RECONNECT_INITIAL_MS,
          maxMs: c.EGRESS_RECONNECT_MAX_MS,
          jitter: 0.2,
        },
        unavailableWaitMs: c.EGRESS_UNAVAILABLE_WAIT_MS,
        secretKey: parseSecretKey(c.CONNECTOR_SECRET_KEY),
        previousSecretKeys: (c.CONNECTOR_SECRET_KEY_PREVIOUS ?? '')
          .split(',')
          .filter((k) => k.trim() !== '')
          .map(parseSecretKey),
        batchConcurrency: c.EGRESS_BATCH_CONCURRENCY,
        consumer: {
          partitionsConsumedConcurrently: c.EGRESS_PARTITION_CONCURRENCY,
          minBytes: c.EGRESS_FETCH_MIN_BYTES,
          maxWaitMs: c.EGRESS_FETCH_WAIT_MS,
        },
        drainMs: c.EGRESS_DRAIN_MS,
        ...(c.EGRESS_TLS_CA_FILE ? { tls: { ca: readFileSync(c.EGRESS_TLS_CA_FILE) } } : {}),
      },
      logger: ctx.logger,
      producer: await ctx.producer(),
      // Not ctx.consumer: the runtime stops its consumers first at shutdown, before any service step, and
      // a routed batch in hand would hold that step (waiting for the supplier's TPS) until the grace period
      // ran out and the process was killed mid-send. core.stop() stops these itself, after telling the
      // sender to start nothing new, within drainMs.
      consumer: async (o) =>
        new TypedConsumer(ctx.kafka, ctx.logger, {
          ...o,
          groupId: namespacedGroup(o.groupId, c.KAFKA_NAMESPACE),
          producer: await ctx.producer(),
        }),
      pool,
      topics: ctx.topics,
    });
    // Registered after the pool and producer, so it runs before they close: in-flight parts finish
    // and every session unbinds while Kafka and Postgres are still there.
    ctx.lifecycle.onShutdown('egress', () => core.stop());
    await core.start();
    // Dedupe records older than the routed topic's retention can never be needed again.
    const store = new DispatchStore(pool, c.EGRESS_REPLICA_ID);
    const purge = setInterval(() => {
      store.purge(8 * 24 * 3600_000).catch((err: unknown) => ctx.logger.warn({ err }, 'dedupe purge failed'));
    }, 3600_000);
    purge.unref();
    ctx.lifecycle.onShutdown('dedupe purge', () => clearInterval(purge));
  },
});
