// smshub.scheduler.v1.SchedulerService (every call authenticated, libs/auth) plus grpc.health.v1.
import * as grpc from '@grpc/grpc-js';
import {
  RpcError,
  startGrpcServer as startServer,
  unaryHandlers,
  type GrpcServer,
  type TlsFiles,
} from '@smshub/grpc';
import { AuthError, guardService, type Guard } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import {
  HeldState,
  SchedulerServiceService,
  type HeldMessage,
  type SchedulerServiceServer,
} from '@smshub/contracts';
import { replacedRecord } from './hold.js';
import type { HeldStatus, HeldStore } from './store.js';

const STATES = {
  held: HeldState.HELD_STATE_HELD,
  released: HeldState.HELD_STATE_RELEASED,
  cancelled: HeldState.HELD_STATE_CANCELLED,
  expired: HeldState.HELD_STATE_EXPIRED,
} as const;

function heldMessage(s: HeldStatus): HeldMessage {
  return {
    messageId: s.messageId,
    customerMessageId: s.customerMessageId,
    state: STATES[s.state],
    dueAt: s.dueAt,
    ...(s.doneAt ? { doneAt: s.doneAt } : {}),
  };
}

function need(v: string, what: string): string {
  if (!v || v.length > 200) throw new RpcError(grpc.status.INVALID_ARGUMENT, `${what} is required`);
  return v;
}

/** SchedulerService behind libs/auth. `by`: recorded as who cancelled (the replica). */
export function schedulerService(
  store: HeldStore,
  by: string,
  log: Logger,
  guard: Guard,
): SchedulerServiceServer {
  const unary = unaryHandlers(log, { clientErrors: [AuthError] });
  return guardService(
    SchedulerServiceService,
    {
      getHeld: unary('GetHeld', async (r: { systemId: string; messageId: string }) => {
        const s = await store.status(need(r.systemId, 'system_id'), need(r.messageId, 'message_id'));
        if (!s) throw new RpcError(grpc.status.NOT_FOUND, 'no such held message');
        return { message: heldMessage(s) };
      }),
      cancelHeld: unary(
        'CancelHeld',
        async (r: {
          systemId: string;
          messageId: string;
          source: string;
          destination: string;
          serviceType: string;
        }) => {
          const systemId = need(r.systemId, 'system_id');
          if (!r.messageId && !r.destination)
            throw new RpcError(grpc.status.INVALID_ARGUMENT, 'message_id or destination is required');
          const ids = await store.cancel({
            systemId,
            ...(r.messageId ? { id: r.messageId } : {}),
            ...(r.source ? { source: r.source } : {}),
            ...(r.destination ? { destination: r.destination } : {}),
            ...(r.serviceType ? { serviceType: r.serviceType } : {}),
            by,
          });
          if (ids.length > 0) log.info({ systemId, cancelled: ids.length }, 'held messages cancelled');
          return { messageIds: ids };
        },
      ),
      replaceHeld: unary(
        'ReplaceHeld',
        async (r: {
          systemId: string;
          messageId: string;
          source: string;
          shortMessage?: Uint8Array | undefined;
          dueAt?: Date | undefined;
          validityUntil?: Date | undefined;
          registeredDelivery?: number | undefined;
        }) => {
          const systemId = need(r.systemId, 'system_id');
          const id = need(r.messageId, 'message_id');
          const change = {
            ...(r.shortMessage !== undefined ? { shortMessage: Buffer.from(r.shortMessage) } : {}),
            ...(r.dueAt ? { dueAt: r.dueAt } : {}),
            ...(r.validityUntil ? { validityUntil: r.validityUntil } : {}),
            ...(r.registeredDelivery !== undefined ? { registeredDelivery: r.registeredDelivery } : {}),
          };
          const done = await store.replace(systemId, id, r.source || undefined, (record) => ({
            record: replacedRecord(record, change),
            ...(change.dueAt ? { dueAt: change.dueAt } : {}),
            ...(change.validityUntil ? { validityUntil: change.validityUntil } : {}),
          }));
          if (!done) throw new RpcError(grpc.status.NOT_FOUND, 'the message is not held');
          const s = await store.status(systemId, id);
          log.info({ systemId, messageId: done }, 'held message replaced');
          return { message: s ? heldMessage(s) : undefined };
        },
      ),
    },
    guard,
  );
}

export const SCHEDULER_SERVICE_NAME = 'smshub.scheduler.v1.SchedulerService';

/** Binds SchedulerService and grpc.health.v1 (libs/grpc: host, default 127.0.0.1; TLS; graceful stop). */
export function startGrpcServer(
  impl: SchedulerServiceServer,
  log: Logger,
  listen: { port: number; host?: string; tls?: TlsFiles },
): Promise<GrpcServer> {
  return startServer({
    ...listen,
    services: [
      {
        name: SCHEDULER_SERVICE_NAME,
        definition: SchedulerServiceService,
        implementation: impl as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    logger: log,
  });
}

export type { GrpcServer };
