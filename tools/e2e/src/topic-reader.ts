// Reads one of the hub's (namespaced) topics from the beginning with its own consumer group and keeps every
// decoded record, so a test can assert what a downstream system (finance, an operator's tool) would see.
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { uniqueName } from '@smshub/testing';

export interface TopicRecord<T> {
  key: string;
  value: T;
  partition: number;
  offset: string;
  /** Trace id of the W3C traceparent header, when the producer sent one. */
  traceId?: string;
}

/** The trace id of a W3C `traceparent` header value (`00-<trace id>-<span id>-<flags>`). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent?.trim() ?? '');
  return m?.[1];
}

interface Decodable<T> {
  readonly name: string;
  decode(bytes: Uint8Array): T;
}

export class TopicReader<T> {
  readonly records: TopicRecord<T>[] = [];
  /** Records whose value did not decode (a contract bug the test should report). */
  readonly undecodable: string[] = [];

  /** Next offset to read, per partition. */
  private readonly next = new Map<number, bigint>();

  private constructor(
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly topic: string,
  ) {}

  /** Subscribes from the earliest offset and starts collecting; resolves once the group has joined. */
  static async start<T>(brokers: string[], spec: Decodable<T>): Promise<TopicReader<T>> {
    const kafka = new Kafka({ clientId: uniqueName('e2e-reader'), brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueName('e2e-reader'), maxWaitTimeInMs: 200 });
    const admin = kafka.admin();
    await admin.connect();
    const reader = new TopicReader<T>(consumer, admin, spec.name);
    await consumer.connect();
    await consumer.subscribe({ topic: spec.name, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const key = message.key?.toString('utf8') ?? '';
        reader.next.set(partition, BigInt(message.offset) + 1n);
        if (!message.value) return;
        const traceparent = message.headers?.traceparent;
        const traceId = traceIdOf(
          Array.isArray(traceparent) ? traceparent[0]?.toString() : traceparent?.toString(),
        );
        try {
          reader.records.push({
            key,
            value: spec.decode(message.value),
            partition,
            offset: message.offset,
            ...(traceId !== undefined && { traceId }),
          });
        } catch (err) {
          reader.undecodable.push(`${key}@${partition}/${message.offset}: ${(err as Error).message}`);
        }
      },
    });
    await joined;
    return reader;
  }

  /** Every record with this key so far, with its metadata. */
  byKeyRecords(key: string): TopicRecord<T>[] {
    return this.records.filter((r) => r.key === key);
  }

  /** Every record with this key so far. */
  byKey(key: string): T[] {
    return this.records.filter((r) => r.key === key).map((r) => r.value);
  }

  /** True when every record written to the topic so far has been read. */
  async caughtUp(): Promise<boolean> {
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    return ends.every((p) => BigInt(p.high) <= (this.next.get(p.partition) ?? 0n));
  }

  /** True when consumer group `group` has committed offsets at the end of every partition of `topic`. */
  async groupConsumedAll(group: string, topic: string): Promise<boolean> {
    const ends = await this.admin.fetchTopicOffsets(topic);
    const [committed] = await this.admin.fetchOffsets({ groupId: group, topics: [topic] });
    return ends.every((end) => {
      const c = committed?.partitions.find((p) => p.partition === end.partition);
      const at = c && c.offset !== '-1' ? BigInt(c.offset) : 0n;
      return BigInt(end.high) <= at;
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }
}
