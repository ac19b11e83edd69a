// `ops rated [--message ID]`: the records on billing.rated.v1 as finance systems receive them, decoded to
// JSON, one per line. Reads the topic from the beginning up to its current end with a throwaway consumer
// group (deleted afterwards), so it never moves a real consumer's offsets.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { BillingRated, namespacedTopics, topics } from '@smshub/contracts';

export interface RatedOptions {
  namespace?: string | undefined;
  /** Only the records of this hub message id (the topic's key). */
  messageId?: string | undefined;
  /** Called with each record as JSON. */
  write(line: string): void;
}

/** Prints the matching records; resolves with how many were printed. */
export async function printRated(kafka: Kafka, opts: RatedOptions): Promise<number> {
  const topic = namespacedTopics(topics, opts.namespace).rated.name;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `ops-rated-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let printed = 0;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    // Next offset to reach per partition; done when every partition got there.
    const remaining = new Map(
      ends
        .filter((p) => BigInt(p.high) > BigInt(p.low))
        .map((p) => [p.partition, BigInt(p.high)] as [number, bigint]),
    );
    if (remaining.size === 0) return 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const key = message.key?.toString('utf8') ?? '';
            if (message.value && (!opts.messageId || key === opts.messageId)) {
              opts.write(JSON.stringify(BillingRated.toJSON(BillingRated.decode(message.value))));
              printed++;
            }
            const end = remaining.get(partition);
            if (end !== undefined && BigInt(message.offset) + 1n >= end) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return printed;
}
