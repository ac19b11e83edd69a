// DeadLetterService on admin's gRPC port: the handlers of dead-letters.ts wrapped like AdminService's
// (errors as statuses, metrics, ReplayDeadLetters audited), guarded by libs/auth in startGrpcServer.
import { DeadLetterServiceService, type topics as registry, type TopicSpec } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { Kafka, TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import type { AuditLog } from './audit.js';
import { deadLetterHandlers } from './dead-letters.js';
import { toGrpcService, type ExtraService } from './server.js';

export const DEAD_LETTER_SERVICE_NAME = 'smshub.admin.v1.DeadLetterService';

export function deadLetterService(
  deps: {
    kafka: Kafka;
    producer: TypedProducer;
    pool: Pool;
    logger: Logger;
    registry?: typeof registry;
    namespace?: string;
  },
  audit: AuditLog,
): ExtraService {
  const codecs = new Map<string, TopicSpec<unknown>>();
  for (const spec of Object.values(deps.registry ?? {}) as TopicSpec<unknown>[]) codecs.set(spec.name, spec);
  const handlers = deadLetterHandlers({
    kafka: deps.kafka,
    producer: deps.producer,
    pool: deps.pool,
    codecs,
    logger: deps.logger,
    ...(deps.namespace ? { namespace: deps.namespace } : {}),
  });
  return {
    name: DEAD_LETTER_SERVICE_NAME,
    definition: DeadLetterServiceService,
    implementation: toGrpcService(DEAD_LETTER_SERVICE_NAME, handlers, deps.logger, audit),
  };
}
