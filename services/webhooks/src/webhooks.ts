// The webhooks core, built from explicit dependencies (main.ts wires the defaults; tests pass isolated
// topics, a test database and a free gRPC port).
//   sms.delivery.v1 --consumer--> webhook_deliveries (then offsets commit) --dispatcher--> HTTP POST
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import { DecodeError, type ConsumerOptions, type ConsumedRecord, type TypedConsumer } from '@smshub/kafka';
import type { SmsDelivery, SmsInbound, topics as registry } from '@smshub/contracts';
import type { WebhooksOptions } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { callbackAllowed, deliveryBody, wanted } from './domain/payload.js';
import { deliveryViewCodec, type DeliveryView } from './domain/delivery-view.js';
import { inboundBody } from './domain/inbound-payload.js';
import { EndpointStore } from './endpoints.js';
import { startGrpcServer, webhookService, type GrpcServer } from './grpc.js';
import { DeliveryStore, uuidv7, type NewDelivery } from './store.js';
import { deliveriesStored } from './metrics.js';

export interface WebhooksDeps {
  options: WebhooksOptions;
  logger: Logger;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer>;
  pool: Pool;
  /** sms.inbound.v1 is consumed when given (message.inbound events). */
  topics: Pick<typeof registry, 'delivery'> & Partial<Pick<typeof registry, 'inbound'>>;
}

export interface Webhooks {
  readonly endpoints: EndpointStore;
  readonly deliveries: DeliveryStore;
  readonly dispatcher: Dispatcher;
  /** Port the gRPC server is bound to (after start). */
  readonly grpcPort: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createWebhooks(deps: WebhooksDeps): Webhooks {
  const { options, logger, pool } = deps;
  const log = logger.child({ component: 'webhooks' });
  const endpoints = new EndpointStore(pool, options.secretKeys);
  const deliveries = new DeliveryStore(pool, options.retryForMs);
  const dispatcher = new Dispatcher(
    deliveries,
    endpoints,
    {
      concurrency: options.concurrency,
      perAccount: options.perAccount,
      timeoutMs: options.timeoutMs,
      pollMs: options.pollMs,
      backoff: options.backoff,
    },
    logger,
  );
  let consumer: TypedConsumer | undefined;
  let retention: NodeJS.Timeout | undefined;
  let grpcServer: GrpcServer | undefined;

  /**
   * Stores the deliveries a batch of events asks for; the consumer commits the offsets afterwards. A record
   * of an account without an enabled endpoint (most of them) is skipped on its account id alone: neither
   * decoded nor awaited (the endpoint cache answers synchronously while it is fresh).
   */
  async function onBatch(records: ConsumedRecord<DeliveryView>[]): Promise<void> {
    const rows: NewDelivery[] = [];
    const now = new Date();
    for (const r of records) {
      const accountId = r.value.accountId;
      if (!accountId) continue;
      const endpoint = endpoints.cached(accountId) ?? (await endpoints.get(accountId));
      if (!endpoint || !endpoint.enabled) continue;
      let event: SmsDelivery;
      try {
        event = r.value.event();
      } catch (err) {
        // Malformed past the account id: dead-lettered, as a record the consumer cannot decode is.
        throw new DecodeError(r.topic, err);
      }
      const messageId = event.context?.messageId;
      if (!messageId || !wanted(event, endpoint.includeIntermediate)) continue;
      const id = uuidv7(now.getTime());
      // The message's own callback_url (HTTP API) wins over the account's URL; it is signed with the
      // account's secret, so it needs the account's endpoint too.
      let url = event.context?.callbackUrl ?? '';
      if (url && !callbackAllowed(url, options.allowPrivateCallbacks ?? false)) {
        log.warn(
          { messageId, accountId },
          'callback_url refused (not http(s), or a private address); the account URL is used',
        );
        url = '';
      }
      rows.push({
        id,
        accountId,
        messageId,
        revision: event.revision,
        eventType: 'message.status',
        url,
        body: JSON.stringify(deliveryBody(id, event, now)),
      });
    }
    const stored = await deliveries.insert(rows);
    if (stored > 0) {
      deliveriesStored.inc(stored);
      dispatcher.wake();
    }
  }

  /** Inbound messages (MO) of accounts with an enabled endpoint, as message.inbound deliveries (revision 0). */
  async function onInbound(records: ConsumedRecord<SmsInbound>[]): Promise<void> {
    const rows: NewDelivery[] = [];
    const now = new Date();
    for (const r of records) {
      const m = r.value;
      if (!m.accountId || !m.messageId) continue;
      const endpoint = await endpoints.get(m.accountId);
      if (!endpoint || !endpoint.enabled) continue;
      const id = uuidv7(now.getTime());
      rows.push({
        id,
        accountId: m.accountId,
        messageId: m.messageId,
        revision: 0,
        eventType: 'message.inbound',
        url: '',
        body: JSON.stringify(inboundBody(id, m, now)),
      });
    }
    const stored = await deliveries.insert(rows);
    if (stored > 0) {
      deliveriesStored.inc(stored);
      dispatcher.wake();
    }
  }

  return {
    endpoints,
    deliveries,
    dispatcher,
    get grpcPort() {
      return grpcServer?.port ?? 0;
    },
    async start() {
      const verifier = new TokenVerifier({
        store: new PgTokenStore(pool),
        ...(options.adminToken !== undefined ? { bootstrapToken: options.adminToken } : {}),
        ...(options.authCacheTtlMs !== undefined ? { cacheTtlMs: options.authCacheTtlMs } : {}),
      });
      grpcServer = await startGrpcServer(
        webhookService({ endpoints, deliveries, wake: () => dispatcher.wake() }, log, {
          verifier,
          logger: log,
        }),
        log,
        {
          port: options.grpcPort,
          ...(options.grpcHost !== undefined ? { host: options.grpcHost } : {}),
          ...(options.grpcTls ? { tls: options.grpcTls } : {}),
        },
      );
      // A fetch waits for 64 KiB of deliveries or 200 ms: under a flow it carries hundreds of records
      // instead of one produce request's (a fetch per produce otherwise, for records mostly skipped); a
      // webhook is posted at most 200 ms later.
      consumer = (
        await deps.consumer({
          groupId: options.groupId,
          fromBeginning: false,
          minBytes: 64 * 1024,
          maxWaitMs: 200,
        })
      ).onBatch(deliveryViewCodec(deps.topics.delivery), onBatch);
      if (deps.topics.inbound) consumer.onBatch(deps.topics.inbound, onInbound);
      dispatcher.start();
      await consumer.start();
      retention = setInterval(() => {
        deliveries
          .purge(options.retentionDays)
          .catch((err: unknown) => log.warn({ err }, 'webhook retention delete failed'));
      }, 3_600_000);
      retention.unref();
    },
    async stop() {
      if (retention) clearInterval(retention);
      await grpcServer?.stop();
      await consumer?.stop();
      await dispatcher.stop();
    },
  };
}
