// Announces committed changes: ConfigChange on config.changes.v1 and AccountBalance on balances.v1, each
// acknowledged by Kafka with acks=all (TypedProducer). Publishing happens after the database commit, so a
// failed publish never loses the change: the RPC answers UNAVAILABLE saying the change is stored and will
// be picked up at the next reload (every service also reloads its tables periodically or at restart).
import { status } from '@grpc/grpc-js';
import {
  ChangeAction,
  ResourceKind,
  type AccountBalance,
  type ConfigChange,
  type topics as registry,
} from '@smshub/contracts';
import type { Logger } from '@smshub/logging';
import { RpcError } from './errors.js';
import { adminMetrics } from './metrics.js';
import { uuidv7 } from './validate.js';

export type Snapshot = ConfigChange['snapshot'];

/** What the publisher needs of a producer (TypedProducer fits). */
export interface Produces {
  produce<T>(topic: { name: string; encode?: unknown } & object, value: T): Promise<void>;
}

export interface ChangeEvent {
  kind: ResourceKind;
  action: ChangeAction;
  resourceId: string;
  revision: bigint;
  snapshot?: Snapshot;
}

export class ChangePublisher {
  constructor(
    private readonly deps: {
      producer: { produce: (...args: never[]) => Promise<void> };
      topics: Pick<typeof registry, 'configChanges' | 'balances'>;
      logger: Logger;
      actor: string;
    },
  ) {}

  /** Publishes one change; on failure throws UNAVAILABLE (the change itself is committed). */
  async change(e: ChangeEvent): Promise<ConfigChange> {
    const value: ConfigChange = {
      changeId: uuidv7(),
      kind: e.kind,
      resourceId: e.resourceId,
      action: e.action,
      revision: e.revision,
      changedAt: new Date(),
      actor: this.deps.actor,
      ...(e.snapshot ? { snapshot: e.snapshot } : {}),
    };
    await this.send('config.changes.v1', () => this.produce(this.deps.topics.configChanges, value));
    adminMetrics.changes.inc({
      kind: ResourceKind[e.kind] ?? String(e.kind),
      action: ChangeAction[e.action] ?? '',
    });
    return value;
  }

  /** Publishes an account's balance state; on failure throws UNAVAILABLE (the change is committed). */
  async balance(b: AccountBalance): Promise<void> {
    await this.send('balances.v1', () => this.produce(this.deps.topics.balances, b));
  }

  private produce<T>(topic: unknown, value: T): Promise<void> {
    const p = this.deps.producer as unknown as { produce(t: unknown, v: T): Promise<void> };
    return p.produce(topic, value);
  }

  private async send(topic: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      adminMetrics.publishFailures.inc({ topic });
      this.deps.logger.error({ err, topic }, 'publishing a committed change failed');
      throw new RpcError(
        status.UNAVAILABLE,
        `the change is stored, but announcing it on ${topic} failed (${(err as Error).message}); ` +
          'services will pick it up at their next reload',
      );
    }
  }
}
