import { describe, expect, it } from 'vitest';
import { topics } from '@smshub/contracts';
import type { TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import type { ConnectorPool } from './connector-pool.js';
import { ConnectorStateReporter } from './connector-state.js';

describe('ConnectorStateReporter', () => {
  it("sends a given-up connector's tombstone again at the next report when Kafka refused it", async () => {
    const sent: [string, Buffer | null][] = [];
    let refuse = true;
    const producer = {
      produceRaw: (_topic: string, key: string, value: Buffer | null) => {
        if (refuse) {
          refuse = false;
          return Promise.reject(new Error('broker away'));
        }
        sent.push([key, value]);
        return Promise.resolve();
      },
    } as unknown as TypedProducer;
    // The connector was reported before and is gone from the pool now (deleted).
    const pool = { ids: () => [] } as unknown as ConnectorPool;
    const reporter = new ConnectorStateReporter({
      pool,
      producer,
      topic: topics.connectorState,
      replicaId: 'r1',
      logger: createLogger({ service: 'spec', level: 'silent' as 'info' }),
    });
    (reporter as unknown as { published: Set<string> }).published.add('con_gone');
    await reporter.report();
    expect(sent).toEqual([]);
    await reporter.report();
    expect(sent).toEqual([['con_gone/r1', null]]);
    await reporter.report();
    expect(sent).toHaveLength(1);
  });
});
