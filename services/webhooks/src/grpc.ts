// smshub.webhooks.v1.WebhookService (every call authenticated, libs/auth) plus grpc.health.v1.
import * as grpc from '@grpc/grpc-js';
import {
  RpcError,
  startGrpcServer as startServer,
  unaryHandlers,
  type GrpcServer,
  type TlsFiles,
} from '@smshub/grpc';
import { accountScope, AuthError, callInfo, guardService, type Guard, type Principal } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import {
  WebhookDeliveryState,
  WebhookServiceService,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookServiceServer,
} from '@smshub/contracts';
import type { Endpoint, EndpointStore } from './endpoints.js';
import { isUuid, type AttemptRow, type DeliveryRow, type DeliveryStore } from './store.js';

const DEFAULT_OVERLAP_SECONDS = 86_400;

function endpointMessage(e: Endpoint): WebhookEndpoint {
  return {
    accountId: e.accountId,
    url: e.url,
    includeIntermediate: e.includeIntermediate,
    enabled: e.enabled,
    ...(e.previousUntil ? { previousSecretUntil: e.previousUntil } : {}),
    updatedAt: e.updatedAt,
  };
}

const STATES = {
  pending: WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_PENDING,
  delivered: WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_DELIVERED,
  failed: WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_FAILED,
} as const;

function deliveryMessage(d: DeliveryRow, attempts: readonly AttemptRow[]): WebhookDelivery {
  return {
    id: d.id,
    accountId: d.account_id,
    messageId: d.message_id,
    revision: d.revision,
    eventType: d.event_type,
    state: STATES[d.state],
    ...(d.state === 'pending' ? { nextAttemptAt: d.next_attempt_at } : {}),
    createdAt: d.created_at,
    ...(d.finished_at ? { finishedAt: d.finished_at } : {}),
    body: d.body,
    attempts: attempts
      .filter((a) => a.delivery_id === d.id)
      .map((a) => ({
        id: a.id,
        attempt: a.attempt,
        startedAt: a.started_at,
        durationMs: a.duration_ms,
        httpStatus: a.http_status ?? 0,
        error: a.error ?? '',
        replay: a.replay,
      })),
  };
}

/** A valid endpoint URL: http(s), a host, no credentials in it (they would be stored and shown). */
export function checkUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'url must be an absolute http(s) URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'url must be http or https');
  if (u.username || u.password)
    throw new RpcError(
      grpc.status.INVALID_ARGUMENT,
      'url must not carry credentials (the signature authenticates)',
    );
  if (raw.length > 2_000)
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'url is longer than 2000 characters');
  return u.toString();
}

function needAccount(id: string): string {
  if (!id || id.length > 200) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'account_id is required');
  return id;
}

/** Unary handlers given the authenticated caller (libs/auth's guard ran first); AuthError reaches the client. */
function unaryWithCaller(log: Logger) {
  const handler = unaryHandlers(log, { clientErrors: [AuthError] });
  return <Req, Res>(name: string, fn: (req: Req, caller: Principal) => Promise<Res>) =>
    handler<Req, Res>(name, (req, call) => fn(req, callInfo(call).principal));
}

/**
 * WebhookService behind libs/auth. Signing secrets are returned only by the call that made them.
 * A customer token lists only its own messages' attempts (another account's message is NOT_FOUND).
 */
export function webhookService(
  deps: { endpoints: EndpointStore; deliveries: DeliveryStore; wake: () => void },
  log: Logger,
  guard: Guard,
): WebhookServiceServer {
  const { endpoints, deliveries } = deps;
  const unary = unaryWithCaller(log);
  return guardService(
    WebhookServiceService,
    {
      setEndpoint: unary('SetEndpoint', async (r) => {
        const { endpoint, newSecret } = await endpoints.set({
          accountId: needAccount(r.accountId),
          url: checkUrl(r.url),
          includeIntermediate: r.includeIntermediate,
          enabled: !r.disabled,
        });
        log.info({ accountId: r.accountId, created: newSecret !== null }, 'webhook endpoint set');
        return { endpoint: endpointMessage(endpoint), signingSecret: newSecret ?? '' };
      }),
      getEndpoint: unary('GetEndpoint', async (r) => {
        const e = await endpoints.get(needAccount(r.accountId), { fresh: true });
        if (!e) throw new RpcError(grpc.status.NOT_FOUND, `account ${r.accountId} has no webhook endpoint`);
        return { endpoint: endpointMessage(e) };
      }),
      deleteEndpoint: unary('DeleteEndpoint', async (r) => {
        if (!(await endpoints.remove(needAccount(r.accountId))))
          throw new RpcError(grpc.status.NOT_FOUND, `account ${r.accountId} has no webhook endpoint`);
        return {};
      }),
      rotateSecret: unary('RotateSecret', async (r) => {
        const overlap = r.overlapSeconds || DEFAULT_OVERLAP_SECONDS;
        if (overlap > 30 * 86_400)
          throw new RpcError(grpc.status.INVALID_ARGUMENT, 'overlap_seconds is at most 30 days');
        const res = await endpoints.rotate(needAccount(r.accountId), overlap * 1000);
        if (!res) throw new RpcError(grpc.status.NOT_FOUND, `account ${r.accountId} has no webhook endpoint`);
        log.info({ accountId: r.accountId, overlapSeconds: overlap }, 'webhook signing secret rotated');
        return { endpoint: endpointMessage(res.endpoint), signingSecret: res.newSecret };
      }),
      listAttempts: unary('ListAttempts', async (r, caller) => {
        if (!r.messageId) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'message_id is required');
        const scope = accountScope(caller, '');
        const rows = (await deliveries.deliveriesOfMessage(r.messageId)).filter(
          (d) => scope === '' || d.account_id === scope,
        );
        if (rows.length === 0)
          throw new RpcError(grpc.status.NOT_FOUND, `no webhook deliveries for message ${r.messageId}`);
        const attempts = await deliveries.attempts(rows.map((d) => d.id));
        return { deliveries: rows.map((d) => deliveryMessage(d, attempts)) };
      }),
      replay: unary('Replay', async (r) => {
        if (!isUuid(r.id))
          throw new RpcError(grpc.status.INVALID_ARGUMENT, 'id must be a delivery or attempt id (a UUID)');
        const d = await deliveries.replay(r.id);
        if (!d) throw new RpcError(grpc.status.NOT_FOUND, `no webhook delivery or attempt ${r.id}`);
        log.info({ deliveryId: d.id, messageId: d.message_id }, 'webhook delivery replayed');
        deps.wake();
        const attempts = await deliveries.attempts([d.id]);
        return { delivery: deliveryMessage(d, attempts) };
      }),
    },
    guard,
  );
}

export const WEBHOOK_SERVICE_NAME = 'smshub.webhooks.v1.WebhookService';
export type { GrpcServer };

/** Binds WebhookService and grpc.health.v1 (libs/grpc: host, default 127.0.0.1; TLS; graceful stop). */
export function startGrpcServer(
  impl: WebhookServiceServer,
  log: Logger,
  listen: { port: number; host?: string; tls?: TlsFiles },
): Promise<GrpcServer> {
  return startServer({
    ...listen,
    services: [
      {
        name: WEBHOOK_SERVICE_NAME,
        definition: WebhookServiceService,
        implementation: impl as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    logger: log,
  });
}
