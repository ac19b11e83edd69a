import { hostname } from 'node:os';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { isSpanContextValid, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import type { Logger } from '@smshub/logging';
import { counter, extractTraceContext, gauge, withSpan } from '@smshub/telemetry';
import { DecodeError, isRetriable } from './errors.js';
import { registerIdleWait } from './idle-fetch.js';
import { registerFirstTopics } from './fetch-order.js';
import { rememberTrace } from './trace-link.js';
import { ensureTopics, type TopicCodec } from './topics.js';
import type { TypedProducer } from './producer.js';
import { checkFetchLimits, fetchLimitsOf, type FetchLimits } from './client.js';
import { originalHeaders, REPLAY_RETENTION_MS, replayOriginOf, replayTopicOf } from './replay.js';

const tracer = trace.getTracer('@smshub/kafka');

/** A span that records or continues a trace (false for the no-op span when tracing is off). */
function traced(span: Span): boolean {
  return span.isRecording() || isSpanContextValid(span.spanContext());
}

/** Whether a record's headers object has any header (no key list allocated). */
function hasAny(headers: IHeaders): boolean {
  for (const _ in headers) return true;
  return false;
}

/** The hub message id a record is about: the codec's messageId(), else the record key. */
function messageIdOf(sub: Subscription, r: ConsumedRecord<unknown>): string | null | undefined {
  return sub.codec.messageId?.(r.value) ?? r.key;
}

/** One decoded record, with where it came from. */
export interface ConsumedRecord<T> {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit: kept as the decimal string kafkajs gives. */
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  /** The record's value as received (the encoding of `value`): store or forward it without re-encoding. */
  readonly bytes?: Buffer;
  readonly headers: IHeaders;
  readonly timestamp: string;
  /** Trace context carried in the record's headers (the producer's span). */
  readonly traceContext: Context;
}

export type RecordHandler<T> = (record: ConsumedRecord<T>) => Promise<void> | void;
/**
 * What a batch handler may return. `stopAt`: the offset of the first record it did not handle (it holds that
 * record and the ones after it back, e.g. to handle them once something else has come); they are fetched
 * and handed to it again, and offsets are resolved and committed only up to the record before. Nothing (or
 * no `stopAt`): the whole batch was handled. A record of the held tail that could not be decoded is
 * dead-lettered once, when the offsets pass it (not once per fetch that brings it again).
 */
export interface BatchOutcome {
  readonly stopAt?: string;
}
export type BatchHandler<T> = (
  records: ConsumedRecord<T>[],
) => Promise<void | BatchOutcome> | void | BatchOutcome;

export interface RetryPolicy {
  /** Attempts for errors that do not say whether they are retriable, before dead-lettering. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ConsumerOptions {
  groupId: string;
  /** Producer used for dead-letter copies (shared with the service's own producer). */
  producer: TypedProducer;
  /** Start a new group at the earliest offset (default) or only take new records. */
  fromBeginning?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Name of the group's dead-letter topic; default `<groupId>.dlq`. */
  deadLetterTopic?: string;
  sessionTimeoutMs?: number;
  /**
   * How long a handled record's offset may wait to be committed (default 1,000 ms); what is handled by then
   * is committed in one OffsetCommit request. Offsets are also committed on stop() and when the member
   * notices a rebalance. 0 commits after every partition batch (kafkajs's autoCommit: an OffsetCommit per
   * batch, a log append in the broker for each). A member that dies uncleanly has its records of the last
   * interval redelivered (at-least-once: handlers are idempotent).
   */
  commitIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * Bytes one fetch may bring back (all partitions / each partition). Default: the client's (KAFKA_FETCH_*
   * through kafkaConnection), else FETCH_LIMITS_DEFAULT. They bound the records held in memory.
   */
  fetch?: Partial<FetchLimits>;
  /**
   * The broker answers a fetch once it holds `minBytes` for it or `maxWaitMs` have passed (default: 1 byte,
   * DEFAULT_MAX_WAIT_MS, i.e. at once when a record is there). A batch handler whose cost is mostly per
   * batch (statements, produce requests) and that can wait a little gets larger batches under a live flow
   * by raising both; with `minBytes` above 1, `maxWaitMs` is the latency it may add.
   */
  minBytes?: number;
  maxWaitMs?: number;
  /**
   * After a fetch that found no record, the next ones ask for minBytes 1 and wait up to this long until a
   * record comes (idle-fetch.ts): an idle batching consumer then sends about one fetch a second instead of
   * one per `maxWaitMs`, and the first record still answers at once. Default: DEFAULT_MAX_WAIT_MS when
   * `minBytes` is above 1 or `maxWaitMs` below that; 0 turns it off.
   */
  idleMaxWaitMs?: number;
  /**
   * How often the member tells the group coordinator it is alive (default 3,000 ms,
   * DEFAULT_HEARTBEAT_INTERVAL_MS); kafkajs sends one after a fetch or batch once this much time has
   * passed. It is also how soon the member notices a rebalance. Keep it at most a third of
   * `sessionTimeoutMs`.
   */
  heartbeatIntervalMs?: number;
  /**
   * Topics whose batches are handed to the workers first in each fetch (fetch-order.ts); the others follow
   * in the order fetched. Default: as fetched (kafkajs mixes the topics).
   */
  firstTopics?: readonly string[];
}

/** Header names on dead-letter copies; the key and value are the original bytes, unchanged. */
export const DLQ_HEADERS = {
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  group: 'x-dlq-group',
  error: 'x-dlq-error',
  attempts: 'x-dlq-attempts',
  time: 'x-dlq-time',
  /** Error class name ("DecodeError", "KafkaLibError", ...). */
  errorType: 'x-dlq-error-type',
  /** Host that dead-lettered the record (the pod name under Kubernetes). */
  replica: 'x-dlq-replica',
} as const;

interface Subscription {
  codec: TopicCodec<unknown>;
  record?: RecordHandler<unknown>;
  batch?: BatchHandler<unknown>;
}

const consumed = counter('smshub_kafka_consumed_total', 'Records processed, by outcome', [
  'group',
  'topic',
  'outcome',
]);
const lagGauge = gauge(
  'smshub_kafka_consumer_lag',
  'Records behind the partition end, at the last fetched batch',
  ['group', 'topic', 'partition'],
);

class StoppingError extends Error {}

/** Default `commitIntervalMs`. */
export const DEFAULT_COMMIT_INTERVAL_MS = 1000;

/**
 * How long the broker holds a fetch that finds no record (with `minBytes` 1 a record answers it at once,
 * so this is no latency). It is the cost of an idle consumer: a fetch request, its response and a turn of
 * kafkajs's loop per period, in the process and the broker. At 100 ms (before session 6) an idle consumer
 * used ~10 CPU-ms per second on the loaded development machine; the hub has about 20 consumers, about ten
 * of them idle on this default whatever the traffic (configuration changes, balances, statistics, probes).
 * 1,000 ms (500 until session 11) also bounds how much later a member notices a rebalance or finishes
 * stop() (kafkajs waits for the fetch in flight).
 */
export const DEFAULT_MAX_WAIT_MS = 1000;

/**
 * Default `heartbeatIntervalMs`: Kafka's own default, a third of the 10 s session timeout. kafkajs sends a
 * heartbeat after a fetch (or a batch) once this much time has passed, so an idle member sent one per
 * second (1,000 until session 11): a request each in the process and in the broker. A member notices a
 * rebalance (another member joining or leaving, or one whose session expired) up to this much later.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 3000;

/** The idle wait a consumer's group gets (undefined: none, its fetches always use its own settings). */
export function idleMaxWaitOf(opts: Pick<ConsumerOptions, 'minBytes' | 'maxWaitMs' | 'idleMaxWaitMs'>) {
  const wait = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const idle =
    opts.idleMaxWaitMs ?? ((opts.minBytes ?? 1) > 1 || wait < DEFAULT_MAX_WAIT_MS ? DEFAULT_MAX_WAIT_MS : 0);
  return idle > wait ? idle : undefined;
}

/**
 * A consumer group member that hands decoded records to handlers and commits an offset only after its
 * record was processed (at-least-once: handlers must be idempotent).
 * Errors: `retriable: true` is retried with backoff until it succeeds or the consumer stops (the record is
 * then redelivered, never skipped); `retriable: false` and undecodable records go to the dead-letter topic
 * at once; other errors are retried `maxAttempts` times, then dead-lettered. The consumer then goes on.
 */
export class TypedConsumer {
  private readonly consumer: Consumer;
  private readonly subs = new Map<string, Subscription>();
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  readonly deadLetterTopic: string;
  /** `<group>.replay`: dead letters replayed into this group only (src/replay.ts). */
  readonly replayTopic: string;
  private running = false;
  private stopping = false;
  private readonly commitIntervalMs: number;
  /** Commits every handled offset not committed yet (set from the latest batch: kafkajs's group). */
  private commitHandled: (() => Promise<void>) | null = null;
  /** Armed after a batch when its offsets wait for the commit interval. */
  private commitTimer: NodeJS.Timeout | null = null;
  /** Batches being handled now (stop() waits for them before its last commit). */
  private inHand = 0;
  private idle: (() => void) | null = null;
  /** Partitions sitting out after their handler held a tail back (holdBack), until their timer resumes them. */
  private readonly heldBack = new Set<NodeJS.Timeout>();

  constructor(
    private readonly kafka: Kafka,
    logger: Logger,
    private readonly opts: ConsumerOptions,
  ) {
    this.log = logger.child({ component: 'consumer', group: opts.groupId });
    this.retry = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5000, ...opts.retry };
    this.deadLetterTopic = opts.deadLetterTopic ?? `${opts.groupId}.dlq`;
    this.replayTopic = replayTopicOf(this.deadLetterTopic);
    this.commitIntervalMs = opts.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    const fetch = { ...fetchLimitsOf(kafka), ...opts.fetch };
    checkFetchLimits(fetch);
    const sessionTimeout = opts.sessionTimeoutMs ?? 10_000;
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      maxBytes: fetch.maxBytes,
      maxBytesPerPartition: fetch.maxBytesPerPartition,
      sessionTimeout,
      // At most a third of the session, whatever the default: a shorter session keeps its margin.
      heartbeatInterval:
        opts.heartbeatIntervalMs ?? Math.min(DEFAULT_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeout / 3)),
      allowAutoTopicCreation: false,
      minBytes: opts.minBytes ?? 1,
      maxWaitTimeInMs: opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
    });
    registerIdleWait(opts.groupId, idleMaxWaitOf(opts));
    registerFirstTopics(opts.groupId, opts.firstTopics);
  }

  /** Handle records of `codec`'s topic one at a time, in partition order. */
  on<T>(codec: TopicCodec<T>, handler: RecordHandler<T>): this {
    this.subs.set(codec.name, {
      codec: codec as TopicCodec<unknown>,
      record: handler as RecordHandler<unknown>,
    });
    return this;
  }

  /** Handle records of `codec`'s topic a fetched batch (of one partition) at a time. */
  onBatch<T>(codec: TopicCodec<T>, handler: BatchHandler<T>): this {
    this.subs.set(codec.name, {
      codec: codec as TopicCodec<unknown>,
      batch: handler as BatchHandler<unknown>,
    });
    return this;
  }

  /** Ensures the dead-letter topic, joins the group and starts processing. */
  async start(): Promise<void> {
    if (this.running) return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [
        { name: this.deadLetterTopic, partitions: 1, retentionMs: 30 * 24 * 3600_000, compacted: false },
        { name: this.replayTopic, partitions: 1, retentionMs: REPLAY_RETENTION_MS, compacted: false },
      ]);
    } finally {
      await admin.disconnect();
    }
    await this.consumer.connect();
    for (const topic of this.subs.keys()) {
      await this.consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    }
    // Every replay written for this group is for it, whenever it was written: from the beginning.
    await this.consumer.subscribe({ topic: this.replayTopic, fromBeginning: true });
    this.running = true;
    // Commits are this class's (commitSoon, stop, beat): kafkajs's autoCommit commits after every batch
    // whatever its interval, an OffsetCommit request per partition batch.
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Resolves when the group has assigned partitions to this member (useful in tests and readiness). */
  async waitForAssignment(timeoutMs = 30_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no partitions assigned to ${this.opts.groupId} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const remove = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        remove();
        resolve();
      });
    });
  }

  /** Finishes the batches in hand, commits what was processed, leaves the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.running) {
      // No new batch is taken (eachBatch returns at once); the ones in hand finish or stop at a record.
      try {
        this.consumer.pause([...this.subs.keys(), this.replayTopic].map((topic) => ({ topic })));
      } catch (err) {
        this.log.debug({ err }, 'could not pause before stopping (the consumer had stopped running)');
      }
      if (this.inHand > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      for (const t of this.heldBack) clearTimeout(t);
      this.heldBack.clear();
      await this.commitNow();
    }
    await this.consumer.disconnect();
    this.running = false;
  }

  /** Commits what was handled and is not committed yet; a failure only means those records come again. */
  private async commitNow(): Promise<void> {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    await this.commitHandled?.().catch((err: unknown) =>
      this.log.warn({ err }, 'could not commit offsets (their records will be delivered again)'),
    );
  }

  /** After a batch: its offsets are committed now (interval 0) or with others within the interval. */
  private async commitSoon(p: EachBatchPayload): Promise<void> {
    this.commitHandled = async () => {
      const offsets = p.uncommittedOffsets();
      if (offsets.topics.length) await p.commitOffsetsIfNecessary(offsets);
    };
    if (this.commitIntervalMs <= 0) return this.commitNow();
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = null;
      if (!this.stopping) void this.commitNow();
    }, this.commitIntervalMs);
  }

  /**
   * A heartbeat; when it says the group is rebalancing, what was handled is committed first (the group
   * still takes commits of the current generation), so the partitions' next owner does not get it again.
   */
  private async beat(p: EachBatchPayload): Promise<void> {
    try {
      await p.heartbeat();
    } catch (err) {
      if ((err as { type?: string }).type === 'REBALANCE_IN_PROGRESS') await this.commitNow();
      throw err;
    }
  }

  private decode(
    sub: Subscription,
    topic: string,
    partition: number,
    m: KafkaMessage,
  ): ConsumedRecord<unknown> {
    if (!m.value) throw new DecodeError(topic, new Error('the record has no value'));
    let value: unknown;
    try {
      value = sub.codec.decode(m.value);
    } catch (err) {
      throw new DecodeError(topic, err);
    }
    const headers = m.headers ?? {};
    return {
      topic,
      partition,
      offset: m.offset,
      key: m.key ? m.key.toString('utf8') : null,
      value,
      bytes: m.value,
      headers,
      timestamp: m.timestamp,
      // Without headers there is no trace to read: the propagators would return the active context after
      // looking for each of their headers (two key lists and closures per record: ~220 B of garbage).
      traceContext: extractTraceContext(hasAny(headers) ? headers : undefined),
    };
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    if (this.stopping) return; // not resolved: delivered again to whoever owns the partition next
    this.inHand++;
    try {
      await this.handleBatch(p);
    } finally {
      if (--this.inHand === 0 && this.idle) this.idle();
    }
  }

  private async handleBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (batch.topic === this.replayTopic) return this.eachReplayBatch(p);
    const sub = this.subs.get(batch.topic);
    if (!sub) return;
    lagGauge.set(
      { group: this.opts.groupId, topic: batch.topic, partition: String(batch.partition) },
      Number(batch.offsetLag()),
    );
    try {
      if (sub.batch) await this.processBatch(sub, p);
      else await this.processRecords(sub, p);
    } catch (err) {
      if (err instanceof StoppingError) return; // unresolved records are redelivered after the rebalance
      throw err;
    }
    await this.commitSoon(p);
  }

  private async processRecords(sub: Subscription, p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    for (const m of batch.messages) {
      if (!p.isRunning() || p.isStale()) return;
      let record: ConsumedRecord<unknown>;
      try {
        record = this.decode(sub, batch.topic, batch.partition, m);
      } catch (err) {
        await this.deadLetter(batch.topic, batch.partition, m, err, 1);
        p.resolveOffset(m.offset);
        continue;
      }
      await this.withRetries(
        () =>
          withSpan(
            `${batch.topic} process`,
            (span) => {
              if (traced(span))
                rememberTrace(messageIdOf(sub, record), trace.setSpan(record.traceContext, span));
              return sub.record!(record);
            },
            {
              parent: record.traceContext,
              kind: SpanKind.CONSUMER,
              attributes: {
                'messaging.system': 'kafka',
                'messaging.destination.name': batch.topic,
                'messaging.kafka.consumer.group': this.opts.groupId,
              },
            },
          ),
        (err, attempts) => this.deadLetter(batch.topic, batch.partition, m, err, attempts),
        p,
      );
      p.resolveOffset(m.offset);
      await this.beat(p);
    }
  }

  private async processBatch(sub: Subscription, p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const records: ConsumedRecord<unknown>[] = [];
    // Dead-lettered after the handler, only those before its stopAt: one of a held tail comes again (once
    // per fetch while the tail is held) and is dead-lettered when the offsets pass it, once.
    let undecodable: { m: KafkaMessage; err: unknown }[] | undefined;
    for (let i = 0; i < batch.messages.length; i++) {
      const m = batch.messages[i]!;
      try {
        records.push(this.decode(sub, batch.topic, batch.partition, m));
      } catch (err) {
        (undecodable ??= []).push({ m, err });
      }
    }
    // A CONSUMER span per record (a batch handler has no span of its own per record), remembered under
    // the record's message id so what the handler produces about that message continues its trace.
    const spans: Span[] = [];
    const name = `${batch.topic} process`;
    const options = {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': batch.topic,
        'messaging.kafka.consumer.group': this.opts.groupId,
      },
    };
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const span = tracer.startSpan(name, options, r.traceContext);
      // Without tracing (no SDK registered, no trace in the record) the span is a no-op one with nothing to
      // continue: no context to remember and no copy of the record (a map entry and three objects per record).
      if (!traced(span)) continue;
      spans.push(span);
      const traceContext = trace.setSpan(r.traceContext, span);
      records[i] = { ...r, traceContext };
      rememberTrace(messageIdOf(sub, r), traceContext);
    }
    // A batch handler may run longer than the session timeout (egress waiting for a supplier's TPS):
    // heartbeats go on meanwhile, else the group evicts this member, the batch is processed again and its
    // partition may go to another member while this one is still working on it.
    const beat = setInterval(() => void p.heartbeat().catch(() => undefined), 1000);
    let stopAt: string | undefined;
    try {
      stopAt = await this.runBatch(sub, p, records);
    } finally {
      clearInterval(beat);
      for (const span of spans) span.end();
    }
    const resolved = resolvedUpTo(batch.messages, stopAt);
    if (stopAt !== undefined) this.holdBack(p);
    if (undecodable !== undefined && resolved !== undefined) {
      const upTo = BigInt(resolved);
      for (const { m, err } of undecodable)
        if (BigInt(m.offset) <= upTo) await this.deadLetter(batch.topic, batch.partition, m, err, 1);
    }
    if (resolved !== undefined) p.resolveOffset(resolved);
    await this.beat(p);
  }

  private async runBatch(
    sub: Subscription,
    p: EachBatchPayload,
    records: ConsumedRecord<unknown>[],
  ): Promise<string | undefined> {
    const { batch } = p;
    // the `stopAt` of the attempt that succeeded (BatchOutcome)
    const held: { stopAt?: string | undefined } = {};
    if (records.length) {
      // A failing batch is retried whole; when it can never succeed, its records are retried one by one
      // so only the poison records go to the dead-letter topic.
      await this.withRetries(
        async () => {
          held.stopAt = (await sub.batch!(records))?.stopAt;
        },
        async () => {
          for (const r of records) {
            const m = batch.messages.find((x) => x.offset === r.offset)!;
            await this.withRetries(
              async () => {
                held.stopAt = (await sub.batch!([r]))?.stopAt;
              },
              (err, attempts) => this.deadLetter(batch.topic, batch.partition, m, err, attempts),
              p,
            );
            if (held.stopAt !== undefined) return;
          }
        },
        p,
      );
    }
    return held.stopAt;
  }

  private async eachReplayBatch(p: EachBatchPayload): Promise<void> {
    try {
      await this.processReplays(p);
    } catch (err) {
      if (err instanceof StoppingError) return;
      throw err;
    }
    await this.commitSoon(p);
  }

  /**
   * Replayed dead letters, one at a time: decoded with the codec of the topic they came from and handed to
   * that topic's handler (a batch handler gets a batch of one), with the usual retries; a failure
   * dead-letters them again under their original coordinates, attempts added up.
   */
  private async processReplays(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    for (const m of batch.messages) {
      if (!p.isRunning() || p.isStale()) return;
      const origin = replayOriginOf(m.headers);
      if (!origin) {
        await this.deadLetter(batch.topic, batch.partition, m, new Error('replay record names no topic'), 1);
        p.resolveOffset(m.offset);
        continue;
      }
      // The original record as it was dead-lettered: its coordinates and headers, this record's key and value.
      const original = {
        ...m,
        offset: origin.offset,
        headers: originalHeaders(m.headers),
      } as KafkaMessage;
      const again = (err: unknown, attempts: number) =>
        this.deadLetter(origin.topic, origin.partition, original, err, origin.attempts + attempts);
      const sub = this.subs.get(origin.topic);
      let record: ConsumedRecord<unknown>;
      try {
        if (!sub) throw new Error(`group ${this.opts.groupId} does not read ${origin.topic}`);
        record = this.decode(sub, origin.topic, origin.partition, original);
      } catch (err) {
        await again(err, 1);
        p.resolveOffset(m.offset);
        continue;
      }
      this.log.info(
        {
          topic: origin.topic,
          partition: origin.partition,
          offset: origin.offset,
          dlqOffset: origin.deadLetterOffset,
        },
        'replaying dead letter',
      );
      // a batch handler that holds the record back (BatchOutcome.stopAt) gets it again with the next fetch
      const held = { stopAt: undefined as string | undefined };
      await this.withRetries(
        () =>
          withSpan(
            `${origin.topic} replay`,
            async (span) => {
              rememberTrace(messageIdOf(sub!, record), trace.setSpan(record.traceContext, span));
              if (sub!.record) await sub!.record(record);
              else held.stopAt = (await sub!.batch!([record]))?.stopAt;
            },
            {
              parent: record.traceContext,
              kind: SpanKind.CONSUMER,
              attributes: {
                'messaging.system': 'kafka',
                'messaging.destination.name': origin.topic,
                'messaging.kafka.consumer.group': this.opts.groupId,
              },
            },
          ),
        again,
        p,
      );
      if (held.stopAt !== undefined) return this.holdBack(p);
      p.resolveOffset(m.offset);
      await this.beat(p);
    }
  }

  /**
   * After a handler held a tail back (BatchOutcome.stopAt): its partition sits out the fetches for the
   * consumer's `maxWaitMs`, as if the broker had held the fetch that brings the tail again. Without it a
   * fetch with `minBytes` 1 (the default) is answered at once, since the held record is there: the tail was
   * fetched and handed over again in a busy loop (277-636 times in 500 ms in test/batch-outcome.test.ts, each a
   * fetch request and the handler's work, dlr's an index lookup). The other partitions are not held up.
   */
  private holdBack(p: EachBatchPayload): void {
    const resume = p.pause();
    const timer = setTimeout(() => {
      this.heldBack.delete(timer);
      // stop() pauses every topic; a partition resumed now would be fetched again for nothing
      if (!this.stopping) resume();
    }, this.opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    this.heldBack.add(timer);
  }

  /** Runs `work` until it succeeds, the error is final (then `onFinal`), or the consumer stops. */
  private async withRetries(
    work: () => Promise<unknown>,
    onFinal: (err: unknown, attempts: number) => Promise<void>,
    p: EachBatchPayload,
  ): Promise<void> {
    let attempts = 0;
    let backoff = this.retry.initialBackoffMs;
    for (;;) {
      attempts++;
      try {
        await work();
        return;
      } catch (err) {
        const explicit = typeof err === 'object' && err !== null && 'retriable' in err;
        const retriable = isRetriable(err);
        const final =
          err instanceof DecodeError ||
          (explicit && !retriable) ||
          (!explicit && attempts >= this.retry.maxAttempts);
        if (final) {
          consumed.inc({ group: this.opts.groupId, topic: p.batch.topic, outcome: 'dead_lettered' });
          await onFinal(err, attempts);
          return;
        }
        this.log.warn(
          { err, attempts, topic: p.batch.topic, partition: p.batch.partition },
          'handler failed; retrying',
        );
        if (!p.isRunning() || this.stopping) throw new StoppingError();
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, this.retry.maxBackoffMs);
        await this.beat(p);
      }
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    m: KafkaMessage,
    err: unknown,
    attempts: number,
  ): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    this.log.error(
      { topic, partition, offset: m.offset, err: reason, deadLetterTopic: this.deadLetterTopic },
      'record dead-lettered',
    );
    const headers: Record<string, string | Buffer> = {};
    for (const [k, v] of Object.entries(m.headers ?? {})) {
      if (typeof v === 'string' || Buffer.isBuffer(v)) headers[k] = v;
    }
    Object.assign(headers, {
      [DLQ_HEADERS.sourceTopic]: topic,
      [DLQ_HEADERS.sourcePartition]: String(partition),
      [DLQ_HEADERS.sourceOffset]: m.offset,
      [DLQ_HEADERS.group]: this.opts.groupId,
      [DLQ_HEADERS.error]: reason.slice(0, 2000),
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.time]: new Date().toISOString(),
      [DLQ_HEADERS.errorType]: err instanceof Error ? err.constructor.name || err.name : typeof err,
      [DLQ_HEADERS.replica]: hostname(),
    });
    // Not acknowledged means not skipped: the error propagates and the batch is redelivered.
    await this.opts.producer.produceRaw(this.deadLetterTopic, m.key, m.value, { headers, noTrace: true });
  }
}

/**
 * The offset to resolve after a batch: its last record's, or with `stopAt` (BatchOutcome) the one before it
 * (nothing when that is before the batch: the whole batch comes again).
 */
export function resolvedUpTo(
  messages: readonly { offset: string }[],
  stopAt: string | undefined,
): string | undefined {
  const first = messages[0];
  const last = messages.at(-1);
  if (first === undefined || last === undefined) return undefined;
  if (stopAt === undefined) return last.offset;
  const stop = BigInt(stopAt);
  if (stop <= BigInt(first.offset)) return undefined;
  if (stop > BigInt(last.offset)) return last.offset;
  return (stop - 1n).toString();
}
