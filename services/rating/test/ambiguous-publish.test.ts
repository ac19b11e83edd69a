// A rated record must reach billing.rated.v1 once, also when Kafka's answer to its publication is late. A
// broker of this test's own (deploy/local/kafka.sh in a temporary directory: the shared test broker is never
// paused) is stopped with SIGSTOP at the moment rating's producer sends a request of rated records (so the
// request is certainly in flight through the stall), for 15 s, while a steady flow of billable events goes
// on, then resumed. Every message must then have exactly one record on the topic (chaos runs 3 and 5 found
// byte-identical extra records around broker faults: a publication that timed out was published again
// while the first request was still written).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { DeliveryStatus } from '@smshub/contracts';
import { startPrivateKafka, waitFor, type PrivateKafka } from '@smshub/testing';
import { RATING_PRODUCER_OPTIONS } from '../src/producer-options.js';
import type { Rating } from '../src/rating.js';
import { NEW, accepted, context, createHarness, finalDelivery, type Harness } from './harness.js';

const STALL_MS = 15_000;

describe('rating: one rated record per message across a stalled broker (SIGSTOP 15 s)', () => {
  let broker: PrivateKafka;
  let h: Harness & { db: { drop(): Promise<void> } };
  let rating: Rating;
  /** Set: the next request of rated records rating sends stops the broker first (SIGSTOP). */
  let armed = false;
  let stalledAt = 0;

  beforeAll(async () => {
    broker = await startPrivateKafka();
    h = await createHarness({
      brokers: broker.brokers,
      // The test's own events are written exactly once whatever the stall does (not what is tested here).
      eventProducer: { definiteOutcome: true, ackTimeoutMs: 120_000 },
      ratingProducer: RATING_PRODUCER_OPTIONS,
      ratingKafka: (kafka) =>
        ({
          producer: (config?: Parameters<typeof kafka.producer>[0]): Producer => {
            const p = kafka.producer(config);
            const sendBatch = p.sendBatch.bind(p);
            p.sendBatch = (batch) => {
              if (armed && batch.topicMessages?.some((t) => t.topic === h.topics.rated.name)) {
                armed = false;
                broker.signal('SIGSTOP');
                stalledAt = Date.now();
              }
              return sendBatch(batch);
            };
            return p;
          },
        }) as unknown as typeof kafka,
    });
    rating = await h.startRating();
  }, 400_000);

  afterAll(async () => {
    await rating?.stop();
    await h?.close();
    await broker?.stop();
  }, 60_000);

  it('publishes every message once, none twice, when the broker stalls during publication', async () => {
    const ids: string[] = [];
    const produced: Array<Promise<void>> = [];
    let n = 0;
    // A dispatch and a final receipt of a new submit-billed message every 50 ms: 2 s before the stall,
    // through it, and 3 s after it.
    const send = (): void => {
      const id = randomUUID();
      ids.push(id);
      const ctx = context(h.accounts.submit, `4930${String(1_000_000 + n++)}`, NEW, { country: 'DE' }, id);
      produced.push(
        h.producer.produce(h.topics.dispatched, accepted(ctx)),
        h.producer.produce(h.topics.delivery, finalDelivery(ctx, DeliveryStatus.DELIVERY_STATUS_DELIVERED)),
      );
    };
    const ticker = setInterval(send, 50);
    await waitFor(() => h.rated.length > 0, {
      what: 'rating to publish before the stall',
      timeoutMs: 60_000,
    });
    armed = true;
    await waitFor(() => stalledAt > 0, { what: 'rating to send a publication', timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    broker.signal('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    clearInterval(ticker);
    await Promise.all(produced);

    // Every message rated and its record acknowledged (no CDR of the run left unpublished) ...
    const countRated = async (): Promise<number> => {
      const r = await h.pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM rating_cdrs c
          WHERE c.hub_message_id = ANY($1::uuid[])
            AND NOT EXISTS (SELECT 1 FROM rating_cdrs_unpublished u WHERE u.hub_message_id = c.hub_message_id)`,
        [ids],
      );
      return Number(r.rows[0]!.n);
    };
    let rated = 0;
    await waitFor(async () => (rated = await countRated()) === ids.length, {
      what: `every message rated and published (${rated} of ${ids.length})`,
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    // ... then the topic's end offsets: the reader holds every record once it has that many distinct ones.
    const admin = h.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(h.topics.rated.name).finally(() => admin.disconnect());
    const total = ends.reduce((sum, p) => sum + Number(p.high), 0);
    const distinct = (): Map<string, string> =>
      new Map(h.rated.map((r) => [`${r.partition}/${r.offset}`, r.key]));
    await waitFor(() => distinct().size >= total, {
      timeoutMs: 60_000,
      what: `the reader to read ${total} records of billing.rated.v1 (has ${distinct().size})`,
    });
    const perMessage = new Map<string, number>();
    for (const key of distinct().values()) perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
    const twice = ids.filter((id) => (perMessage.get(id) ?? 0) > 1);
    const missing = ids.filter((id) => !perMessage.has(id));
    console.info(
      `ambiguous-publish: ${ids.length} messages through a ${STALL_MS / 1000} s stall, ${total} rated records, ` +
        `${twice.length} messages with more than one record, ${missing.length} without`,
    );
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(total).toBe(ids.length);
  }, 300_000);
});
