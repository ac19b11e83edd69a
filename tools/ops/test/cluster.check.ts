// `npm run cluster -- check` (not part of npm test: 35-150 s on the shared 2-core machine, three JVMs).
// A real 3-broker KRaft cluster of this test's own (deploy/local/kafka.sh with KAFKA_CLUSTER_SIZE=3 in a
// temporary directory, on its own ports; the run's shared broker is not touched): `ops topics` creates the
// hub's topics with three copies and min.insync.replicas 2 without being told (from the broker count),
// acks=all writes go on after the leader of a partition is killed with SIGKILL, and everything written
// before and after is read back; a producer writing through a leader's SIGKILL writes again within 15 s;
// every record acknowledged around a leader kill is on the topic, also when a request spanning every broker
// is in flight as its leader dies (kafkajs's retry skipped the brokers that had answered: chaos run 6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { namespacedTopics, topics } from '@smshub/contracts';
import { createKafka, ensureTopics, TypedProducer, withAdminRetries } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { startPrivateKafka, uniqueName, waitFor, type PrivateKafka } from '@smshub/testing';
import { createTopics } from '../src/setup.js';

// CLUSTER_CHECK_LOG=warn shows the clients' own logs (kafkajs's retries, the producer's resends).
const logger = createLogger({
  service: 'ops-cluster-test',
  level: (process.env.CLUSTER_CHECK_LOG as 'fatal' | undefined) ?? 'fatal',
});
const namespace = uniqueName('cl');
const hubTopics = namespacedTopics(topics, namespace);
const topic = hubTopics.submitted.name;

let cluster: PrivateKafka;
let kafka: Kafka;

beforeAll(async () => {
  cluster = await startPrivateKafka({ size: 3 });
  kafka = createKafka({ brokers: cluster.brokers, clientId: 'ops-cluster-test' }, logger);
}, 400_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** Produces `n` records keyed `<prefix>-<i>` with acks=all; resolves when Kafka acknowledged all. */
async function produceAll(producer: TypedProducer, prefix: string, n: number): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await Promise.all(keys.map((k) => producer.produceRaw(topic, k, Buffer.from(k), { noTrace: true })));
  return keys;
}

describe('a 3-broker cluster (deploy/local/kafka.sh, KAFKA_CLUSTER_SIZE=3)', () => {
  it('gets the hub topics with 3 copies and min ISR 2, and keeps taking acks=all writes with a broker killed', async () => {
    expect(cluster.brokers).toHaveLength(3);
    // kafka.sh returns once every broker answers; the last may register with the controller a moment later
    // (a run saw 2 brokers here and got replication 2): wait until the cluster lists all three.
    const probe = kafka.admin();
    await probe.connect();
    await waitFor(async () => (await probe.describeCluster()).brokers.length === 3, {
      timeoutMs: 60_000,
      what: 'the cluster to list three brokers',
    });
    await probe.disconnect();
    const result = await createTopics(kafka, logger, {}, namespace);
    expect(result.replication).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    const names = Object.values(hubTopics).map((t) => t.name);
    expect(result.created.sort()).toEqual([...names].sort());

    const admin = kafka.admin();
    await admin.connect();
    const producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 30_000 });
    try {
      // Brokers learn of new topics from the controller a moment after createTopics returns.
      const meta = await withAdminRetries(() => admin.fetchTopicMetadata({ topics: names }));
      for (const t of meta.topics)
        for (const p of t.partitions) expect(p.replicas, `${t.name}[${p.partitionId}]`).toHaveLength(3);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })),
      });
      for (const r of configs.resources)
        expect(
          r.configEntries.map((e) => e.configValue),
          r.resourceName,
        ).toEqual(['2']);

      await producer.connect();
      const before = await produceAll(producer, 'before', 300);

      // Kill -9 the broker leading partition 0 of the topic: its partitions move to the two others.
      const leader = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find(
        (p) => p.partitionId === 0,
      )!.leader;
      cluster.signal('SIGKILL', leader);
      await waitFor(
        async () => {
          const m = await admin.fetchTopicMetadata({ topics: [topic] });
          return m.topics[0]!.partitions.every((p) => p.leader !== leader && p.isr.length === 2);
        },
        { timeoutMs: 30_000, intervalMs: 250, what: `every partition led elsewhere than broker ${leader}` },
      );
      const after = await produceAll(producer, 'after', 300);

      // Everything acknowledged is there, read by a consumer group on the two surviving brokers.
      const seen = new Set<string>();
      const consumer = kafka.consumer({ groupId: uniqueName('cluster-read') });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(message.key!.toString());
        },
      });
      try {
        await waitFor(() => seen.size >= before.length + after.length, {
          timeoutMs: 45_000,
          what: `${before.length + after.length} records read back (have ${seen.size})`,
        });
      } finally {
        await consumer.disconnect();
      }
      expect([...before, ...after].filter((k) => !seen.has(k))).toEqual([]);

      // The killed broker comes back with its data (kafka.sh restart) and rejoins every ISR.
      await cluster.restart(leader);
      await waitFor(
        async () => {
          const m = await admin.fetchTopicMetadata({ topics: [topic] });
          return m.topics[0]!.partitions.every((p) => p.isr.length === 3);
        },
        { timeoutMs: 30_000, intervalMs: 250, what: `broker ${leader} back in every ISR` },
      );
    } finally {
      await producer.close().catch(() => undefined);
      await admin.disconnect();
    }
  }, 150_000);

  it('a producer writing when the leader is killed writes again within 15 s (it finds the new leader)', async () => {
    const admin = kafka.admin();
    await admin.connect();
    // As ingress produces sms.submitted.v1 (definite outcomes: kafkajs retries without limit).
    const producer = new TypedProducer(kafka, logger, { definiteOutcome: true, ackTimeoutMs: 10_000 });
    const acked: Array<{ sentAt: number; ackedAt: number }> = [];
    let refused = 0;
    let n = 0;
    let ticker: NodeJS.Timeout | undefined;
    try {
      await producer.connect();
      await produceAll(producer, 'warm', 50);
      // 20 records a second, keyed over every partition, each noting when it was sent and acknowledged.
      ticker = setInterval(() => {
        const sentAt = Date.now();
        const key = `steady-${n++}`;
        producer.produceRaw(topic, key, Buffer.from(key), { noTrace: true }).then(
          () => acked.push({ sentAt, ackedAt: Date.now() }),
          () => refused++,
        );
      }, 50);
      await waitFor(() => acked.length >= 40, { timeoutMs: 30_000, what: 'steady writes before the kill' });
      const leader = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find(
        (p) => p.partitionId === 0,
      )!.leader;
      const killedAt = Date.now();
      cluster.signal('SIGKILL', leader);
      // The first record sent after the kill that Kafka acknowledges: the producer writes again.
      const first = await waitFor(() => acked.find((a) => a.sentAt > killedAt + 200), {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: `a write acknowledged after broker ${leader} was killed`,
      });
      const stalledMs = first.ackedAt - killedAt;
      console.info(
        `leader kill: broker ${leader} killed; first write sent after the kill acknowledged ${stalledMs} ms after it; ` +
          `${refused} records withdrawn (queued > 10 s) by then`,
      );
      // The controller fences the dead broker after broker.session.timeout.ms (6 s, kafka.sh) and moves its
      // partitions; kafkajs refreshes its metadata on each connection error and retries every <= 1 s. 9.8 s
      // measured on the loaded 2-core machine; chaos runs 3 and 5 saw 34-42 s (a producer waiting for the
      // dead broker to come back), which this bound catches.
      expect(stalledMs).toBeLessThan(15_000);
      await cluster.restart(leader);
    } finally {
      clearInterval(ticker);
      await producer.close().catch(() => undefined);
      await admin.disconnect();
    }
  }, 150_000);

  it('every record Kafka acknowledged around a leader kill is on the topic (default producer, as egress and dlr)', async () => {
    const admin = kafka.admin();
    await admin.connect();
    // The producer most services use: no definite outcomes (a failed batch goes through a new producer).
    const producer = new TypedProducer(kafka, logger);
    const acked = new Set<string>();
    let failed = 0;
    let n = 0;
    let ticker: NodeJS.Timeout | undefined;
    const consumer = kafka.consumer({ groupId: uniqueName('cl-read') });
    try {
      await producer.connect();
      // 400 records a second over every partition (leaders on all three brokers).
      ticker = setInterval(() => {
        for (let i = 0; i < 20; i++) {
          const key = `loss-${n++}`;
          producer.produceRaw(topic, key, Buffer.from(key), { noTrace: true }).then(
            () => acked.add(key),
            () => failed++,
          );
        }
      }, 50);
      await waitFor(() => acked.size >= 1000, { timeoutMs: 60_000, what: 'writes before the kill' });
      const leader = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find(
        (p) => p.partitionId === 0,
      )!.leader;
      cluster.signal('SIGKILL', leader);
      const killedAt = Date.now();
      await waitFor(() => Date.now() - killedAt > 20_000, { timeoutMs: 30_000, what: '20 s after the kill' });
      clearInterval(ticker);
      ticker = undefined;
      await producer.close().catch(() => undefined);
      const seen = new Set<string>();
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => void seen.add(message.key?.toString() ?? ''),
      });
      const missing = (): string[] => [...acked].filter((k) => !seen.has(k));
      await waitFor(() => missing().length === 0, {
        timeoutMs: 90_000,
        what: 'every acknowledged record',
      }).catch(() => undefined);
      console.info(
        `leader ${leader} killed: ${acked.size} records acknowledged, ${failed} failed, ` +
          `${missing().length} acknowledged but not on the topic (e.g. ${missing().slice(0, 5).join(', ')})`,
      );
      expect(missing()).toEqual([]);
      await cluster.restart(leader);
    } finally {
      if (ticker) clearInterval(ticker);
      await consumer.disconnect().catch(() => undefined);
      await producer.close().catch(() => undefined);
      await admin.disconnect();
    }
  }, 300_000);

  it('a request in flight to every broker as one of them dies: every record acknowledged is on its topic (kafkajs#1303)', async () => {
    // Chaos run 6 lost records on four topics so: a produce request spanning the three brokers, its leader
    // killed while the two others had it in hand; they answered once the controller fenced the dead broker
    // (its partitions then led by them), and kafkajs's retry sent only to brokers without an answer yet,
    // so the dead broker's records were never sent again, yet the batch resolved.
    const admin = kafka.admin();
    await admin.connect();
    const names = [uniqueName('cl-skip-a'), uniqueName('cl-skip-b')];
    // The producer egress and dlr use (no definite outcomes), writing two topics in each request as they do.
    const producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 60_000 });
    const acked = new Set<string>();
    let failed = 0;
    let n = 0;
    let ticker: NodeJS.Timeout | undefined;
    const consumer = kafka.consumer({ groupId: uniqueName('cl-skip-read') });
    try {
      await waitFor(async () => (await admin.describeCluster()).brokers.length === 3, {
        timeoutMs: 60_000,
        what: 'the cluster to list three brokers',
      });
      await ensureTopics(
        admin,
        names.map((name) => ({ name, partitions: 6, retentionMs: 3_600_000, compacted: false })),
      );
      await waitFor(
        async () => {
          const m = await withAdminRetries(() => admin.fetchTopicMetadata({ topics: names }));
          return m.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3));
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'both topics led and fully replicated' },
      );
      await producer.connect();
      // 200 records a second over the 12 partitions (leaders on all three brokers).
      ticker = setInterval(() => {
        for (let i = 0; i < 10; i++) {
          const key = `skip-${n++}`;
          producer.produceRaw(names[n % 2]!, key, Buffer.from(key), { noTrace: true }).then(
            () => acked.add(key),
            () => failed++,
          );
        }
      }, 50);
      await waitFor(() => acked.size >= 400, { timeoutMs: 60_000, what: 'writes before the kill' });
      const leader = (await admin.fetchTopicMetadata({ topics: [names[0]!] })).topics[0]!.partitions.find(
        (p) => p.partitionId === 0,
      )!.leader;
      // Paused first, so that a request is in flight to it (and held by the two others, which wait for its
      // copy: acks=all), then killed: its connection resets mid-request, as at a crash under load.
      cluster.signal('SIGSTOP', leader);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      cluster.signal('SIGKILL', leader);
      await waitFor(
        async () => {
          const m = await admin.fetchTopicMetadata({ topics: names });
          return m.topics.every((t) => t.partitions.every((p) => p.leader !== leader));
        },
        { timeoutMs: 30_000, intervalMs: 250, what: `every partition led elsewhere than broker ${leader}` },
      );
      const moved = acked.size;
      await waitFor(() => acked.size >= moved + 1000, { timeoutMs: 60_000, what: 'writes after the move' });
      clearInterval(ticker);
      ticker = undefined;
      await producer.close().catch(() => undefined);
      const seen = new Set<string>();
      await consumer.connect();
      for (const topic of names) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => void seen.add(message.key?.toString() ?? ''),
      });
      const missing = (): string[] => [...acked].filter((k) => !seen.has(k));
      await waitFor(() => missing().length === 0, {
        timeoutMs: 60_000,
        what: 'every acknowledged record',
      }).catch(() => undefined);
      console.info(
        `request in flight as leader ${leader} died: ${acked.size} records acknowledged, ${failed} failed, ` +
          `${missing().length} acknowledged but not on their topic (e.g. ${missing().slice(0, 5).join(', ')})`,
      );
      expect(missing()).toEqual([]);
      await cluster.restart(leader);
    } finally {
      if (ticker) clearInterval(ticker);
      await consumer.disconnect().catch(() => undefined);
      await producer.close().catch(() => undefined);
      await admin.disconnect();
    }
  }, 300_000);
});
