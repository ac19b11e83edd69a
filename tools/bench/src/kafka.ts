// Kafka side of the benchmark: consumer lag of the hub's groups over time (and the rated topic's end
// offsets, i.e. rated records), a sample of record sizes, and the raw Kafka baseline with Apache Kafka's own
// perf tools (ProducerPerformance / ConsumerPerformance) from the jars the local broker runs on.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { cpuSeconds, type Watched } from './procfs.js';

export function kafkaClient(brokers: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
  });
}

export interface LagSample {
  /** Seconds since the load started. */
  t: number;
  /** Total lag per consumer group (group name without the namespace). */
  lag: Record<string, number>;
  /** Records in the rated topic (sum of its partitions' end offsets). */
  rated: number;
}

/** Samples every hub consumer group's lag and the rated topic's size. */
export class LagMonitor {
  readonly samples: LagSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private groups: string[] = [];
  private t0 = performance.now();
  private n = 0;

  constructor(
    private readonly admin: Admin,
    private readonly namespace: string,
    private readonly ratedTopic: string,
  ) {}

  /** Starts sampling every `intervalMs`; times are seconds since `t0` (performance.now()). */
  start(t0: number, intervalMs = 2000): void {
    this.t0 = t0;
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Current total records in the rated topic. */
  async rated(): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(this.ratedTopic);
    return offsets.reduce((s, p) => s + Number(p.high), 0);
  }

  async sample(): Promise<LagSample | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      if (this.n++ % 10 === 0) {
        const { groups } = await this.admin.listGroups();
        this.groups = groups
          .map((g) => g.groupId)
          // The message-flow groups; config, stats and balances followers carry little.
          .filter((g) => g.startsWith(`${this.namespace}.`) && !/balances|config|stats/.test(g));
      }
      const ends = new Map<string, Map<number, number>>();
      const endsOf = async (topic: string): Promise<Map<number, number>> => {
        let m = ends.get(topic);
        if (!m) {
          m = new Map((await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
          ends.set(topic, m);
        }
        return m;
      };
      const lag: Record<string, number> = {};
      for (const groupId of this.groups) {
        let total = 0;
        for (const t of await this.admin.fetchOffsets({ groupId })) {
          const end = await endsOf(t.topic);
          for (const p of t.partitions) {
            const committed = Number(p.offset);
            const high = end.get(p.partition) ?? 0;
            // A partition with no commit yet counts as lag from its start (records it has not seen).
            total += committed >= 0 ? Math.max(0, high - committed) : high;
          }
        }
        lag[groupId.slice(this.namespace.length + 1).replace(/^smshub-/, '')] = total;
      }
      const ratedEnds = await endsOf(this.ratedTopic);
      const s: LagSample = {
        t: Math.round((performance.now() - this.t0) / 100) / 10,
        lag,
        rated: [...ratedEnds.values()].reduce((a, b) => a + b, 0),
      };
      this.samples.push(s);
      return s;
    } catch {
      return undefined; // a transient metadata error: the next sample will do
    } finally {
      this.busy = false;
    }
  }
}

/** Mean key + value size in bytes of up to `max` records of `topic`, read from the beginning. */
export async function sampleRecordSize(
  kafka: Kafka,
  topic: string,
  groupId: string,
  max = 2000,
): Promise<number> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let n = 0;
  let bytes = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 15_000);
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (n >= max) break;
            n++;
            bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
          }
          if (n >= max) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return n > 0 ? Math.round(bytes / n) : 0;
}

/** The jars of the local broker: <cache>/kafka-<version>/libs, version from deploy/local/kafka/pom.xml. */
export function kafkaJarsDir(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pom = path.join(root, 'deploy/local/kafka/pom.xml');
  if (!existsSync(pom)) return undefined;
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'))?.[1];
  if (!version) return undefined;
  const cache =
    env.SMSHUB_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'smshub');
  const dir = path.join(cache, `kafka-${version}`, 'libs');
  return existsSync(dir) ? dir : undefined;
}

export interface ProducerPerf {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The summary line of ProducerPerformance: "100000 records sent, 51255.766 records/sec (4.89 MB/sec),
 * 205.57 ms avg latency, 420.00 ms max latency, 210 ms 50th, 380 ms 95th, 410 ms 99th, 419 ms 99.9th."
 */
export function parseProducerPerf(output: string): ProducerPerf | undefined {
  const lines = output.split('\n').filter((l) => /records sent,.*50th/.test(l));
  const line = lines[lines.length - 1];
  if (!line) return undefined;
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.*?(\d+) ms 50th.*?(\d+) ms 99th/.exec(
      line,
    );
  if (!m) return undefined;
  return {
    records: Number(m[1]),
    recordsPerSecond: Math.round(Number(m[2])),
    mbPerSecond: Number(m[3]),
    avgLatencyMs: Number(m[4]),
    p50Ms: Number(m[5]),
    p99Ms: Number(m[6]),
  };
}

export interface ConsumerPerf {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
}

/**
 * ConsumerPerformance's CSV line (with --hide-header or after its header): start.time, end.time,
 * data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
 * fetch.MB.sec, fetch.nMsg.sec. The fetch figures (without the group join) are taken.
 */
export function parseConsumerPerf(output: string): ConsumerPerf | undefined {
  const rows = output
    .split('\n')
    .map((l) => l.split(',').map((c) => c.trim()))
    .filter((c) => c.length >= 10 && /^\d/.test(c[0] ?? '') && Number.isFinite(Number(c[4])));
  const c = rows[rows.length - 1];
  if (!c) return undefined;
  return {
    records: Number(c[4]),
    recordsPerSecond: Math.round(Number(c[9])),
    mbPerSecond: Number(c[8]),
  };
}

export interface KafkaBaseline {
  topic: string;
  records: number;
  recordSize: number;
  partitions: number;
  producer?: ProducerPerf;
  consumer?: ConsumerPerf;
  /** Broker CPU per record while producing / consuming, µs. */
  brokerCpuMicrosPerRecordProduce?: number;
  brokerCpuMicrosPerRecordConsume?: number;
  error?: string;
}

function runJava(
  jars: string,
  mainClass: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('java', ['-Xmx512m', '-cp', path.join(jars, '*'), mainClass, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, out: `${out}\n${err.message}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * Produces `records` records of `recordSize` bytes (acks=all, as the hub's producers) to a fresh topic with
 * `partitions` partitions, then consumes them all, with the Kafka perf tools; measures the broker's CPU.
 */
export async function kafkaBaseline(opts: {
  root: string;
  admin: Admin;
  brokers: string;
  topic: string;
  records: number;
  recordSize: number;
  partitions: number;
  broker?: Watched;
}): Promise<KafkaBaseline> {
  const base: KafkaBaseline = {
    topic: opts.topic,
    records: opts.records,
    recordSize: opts.recordSize,
    partitions: opts.partitions,
  };
  const jars = kafkaJarsDir(opts.root);
  if (!jars) return { ...base, error: 'Kafka jars not found (run deploy/local/up.sh once)' };
  await opts.admin.createTopics({
    topics: [{ topic: opts.topic, numPartitions: opts.partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const cpu = (): number => (opts.broker ? (cpuSeconds(opts.broker) ?? 0) : 0);
  const perRecord = (s: number): number => Math.round((s * 1e6) / Math.max(1, opts.records));
  try {
    let c0 = cpu();
    const p = await runJava(
      jars,
      'org.apache.kafka.tools.ProducerPerformance',
      [
        '--topic',
        opts.topic,
        '--num-records',
        String(opts.records),
        '--record-size',
        String(Math.max(1, opts.recordSize)),
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${opts.brokers}`,
        'acks=all',
      ],
      300_000,
    );
    const producer = parseProducerPerf(p.out);
    if (!producer) return { ...base, error: `ProducerPerformance failed (${p.code}): ${p.out.slice(-500)}` };
    const producerCpu = cpu() - c0;
    c0 = cpu();
    const c = await runJava(
      jars,
      'org.apache.kafka.tools.ConsumerPerformance',
      [
        '--bootstrap-server',
        opts.brokers,
        '--topic',
        opts.topic,
        '--messages',
        String(opts.records),
        '--group',
        `${opts.topic}-perf`,
        '--timeout',
        '60000',
      ],
      300_000,
    );
    const consumer = parseConsumerPerf(c.out);
    const consumerCpu = cpu() - c0;
    return {
      ...base,
      producer,
      ...(consumer && { consumer }),
      ...(opts.broker && {
        brokerCpuMicrosPerRecordProduce: perRecord(producerCpu),
        brokerCpuMicrosPerRecordConsume: perRecord(consumerCpu),
      }),
      ...(!consumer && { error: `ConsumerPerformance failed (${c.code}): ${c.out.slice(-500)}` }),
    };
  } finally {
    await opts.admin.deleteTopics({ topics: [opts.topic] }).catch(() => undefined);
  }
}
