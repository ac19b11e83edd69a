import { describe, expect, it } from 'vitest';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MAX_WAIT_MS, TypedConsumer } from './consumer.js';
import type { TypedProducer } from './producer.js';

/** The kafkajs consumer configuration a TypedConsumer asks for (a fake client records it). */
function configOf(opts: Partial<ConstructorParameters<typeof TypedConsumer>[2]> = {}): ConsumerConfig {
  let config: ConsumerConfig | undefined;
  const kafka = {
    consumer: (c: ConsumerConfig) => {
      config = c;
      return {};
    },
  } as unknown as Kafka;
  new TypedConsumer(kafka, createLogger({ service: 'spec', level: 'silent' }), {
    groupId: 'g',
    producer: {} as TypedProducer,
    ...opts,
  });
  return config!;
}

describe('TypedConsumer defaults (idle requests)', () => {
  it('holds an empty fetch 1 s and heartbeats every 3 s, a third of the 10 s session', () => {
    expect(DEFAULT_MAX_WAIT_MS).toBe(1000);
    expect(DEFAULT_HEARTBEAT_INTERVAL_MS).toBe(3000);
    expect(configOf()).toMatchObject({
      minBytes: 1,
      maxWaitTimeInMs: 1000,
      sessionTimeout: 10_000,
      heartbeatInterval: 3000,
    });
  });

  it('keeps the heartbeat at most a third of a shorter session, and takes what the caller sets', () => {
    expect(configOf({ sessionTimeoutMs: 6000 }).heartbeatInterval).toBe(2000);
    expect(configOf({ heartbeatIntervalMs: 500, maxWaitMs: 50, minBytes: 32_768 })).toMatchObject({
      heartbeatInterval: 500,
      maxWaitTimeInMs: 50,
      minBytes: 32_768,
    });
  });
});
