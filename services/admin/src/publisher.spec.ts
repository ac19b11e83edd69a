import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { ChangeAction, ResourceKind, topics } from '@smshub/contracts';
import { createLogger } from '@smshub/logging';
import { ChangePublisher } from './publisher.js';
import { RpcError } from './errors.js';

const logger = createLogger({ service: 'admin-spec', level: 'silent' as 'info' });

describe('ChangePublisher', () => {
  it('publishes a ConfigChange keyed by kind and id with a fresh change id', async () => {
    const sent: { topic: string; value: unknown }[] = [];
    const p = new ChangePublisher({
      producer: {
        produce: (t: { name: string }, value: unknown) => (
          sent.push({ topic: t.name, value }),
          Promise.resolve()
        ),
      } as never,
      topics,
      logger,
      actor: 'ops',
    });
    const c = await p.change({
      kind: ResourceKind.RESOURCE_KIND_RATE,
      action: ChangeAction.CHANGE_ACTION_RELOAD,
      resourceId: '*',
      revision: 0n,
    });
    expect(sent[0]!.topic).toBe('config.changes.v1');
    expect(c.actor).toBe('ops');
    expect(c.changeId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns a failed publication into UNAVAILABLE saying the change is stored', async () => {
    const p = new ChangePublisher({
      producer: { produce: () => Promise.reject(new Error('broker down')) } as never,
      topics,
      logger,
      actor: 'ops',
    });
    const err = await p
      .change({
        kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
        action: ChangeAction.CHANGE_ACTION_UPDATED,
        resourceId: 'a',
        revision: 2n,
      })
      .catch((e: unknown) => e as RpcError);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(status.UNAVAILABLE);
    expect((err as RpcError).message).toMatch(/the change is stored.*broker down.*next reload/);
  });
});
