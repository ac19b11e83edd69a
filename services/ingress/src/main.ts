import { readFileSync } from 'node:fs';
import { runService } from '@smshub/runtime';
import { ingressEnv } from './config.js';
import { INGRESS_PRODUCER_OPTIONS } from './durable-accept.js';
import { SchedulerClient } from './held.js';
import { createIngress, DEFAULT_OPTIONS } from './ingress.js';

await runService({
  service: 'ingress',
  env: ingressEnv,
  async start(ctx) {
    const c = ctx.config;
    if (Boolean(c.SMPP_TLS_CERT_FILE) !== Boolean(c.SMPP_TLS_KEY_FILE))
      throw new Error('SMPP_TLS_CERT_FILE and SMPP_TLS_KEY_FILE must be set together');
    const ingress = createIngress({
      options: {
        ...DEFAULT_OPTIONS,
        replicaId: c.INGRESS_REPLICA_ID,
        receiptAck: c.INGRESS_RECEIPT_ACK,
        smppHost: c.SMPP_HOST,
        smppPort: c.SMPP_PORT,
        deliveryFetch: {
          minBytes: c.INGRESS_DELIVERY_FETCH_MIN_BYTES,
          maxWaitMs: c.INGRESS_DELIVERY_FETCH_WAIT_MS,
        },
        bindAuth: {
          verifyConcurrency: c.INGRESS_BIND_VERIFY_CONCURRENCY,
          maxPerIp: c.INGRESS_BIND_MAX_PER_IP,
          maxPerSystemId: c.INGRESS_BIND_MAX_PER_SYSTEM_ID,
          verifyPerSecondPerIp: c.INGRESS_BIND_VERIFY_RATE_PER_IP,
        },
        bindGuard: {
          blockAfter: c.INGRESS_BIND_LOCK_AFTER,
          blockMs: c.INGRESS_BIND_LOCK_MS,
          maxBlockMs: Math.max(c.INGRESS_BIND_LOCK_MS, c.INGRESS_BIND_LOCK_MAX_MS),
          ipBlockAfter: c.INGRESS_BIND_IP_LOCK_AFTER,
        },
        ...(c.SMPP_TLS_CERT_FILE && c.SMPP_TLS_KEY_FILE
          ? {
              tls: {
                port: c.SMPP_TLS_PORT,
                cert: readFileSync(c.SMPP_TLS_CERT_FILE),
                key: readFileSync(c.SMPP_TLS_KEY_FILE),
              },
            }
          : {}),
      },
      logger: ctx.logger,
      producer: await ctx.producer(INGRESS_PRODUCER_OPTIONS),
      consumer: (o) => ctx.consumer(o),
      pool: ctx.pool(c.DATABASE_URL),
      topics: ctx.topics,
      debugNumbers: c.LOG_DEBUG_NUMBERS,
      ...(c.SCHEDULER_GRPC_ADDRESS
        ? {
            held: new SchedulerClient(c.SCHEDULER_GRPC_ADDRESS, c.ADMIN_TOKEN ?? '', c.SCHEDULER_GRPC_TLS),
          }
        : {}),
    });
    // Registered after the pool and producer, so it runs before they close: in-flight submits are
    // answered and every client unbound while Kafka and Postgres are still there.
    ctx.lifecycle.onShutdown('smpp ingress', () => ingress.stop());
    await ingress.start();
  },
});
