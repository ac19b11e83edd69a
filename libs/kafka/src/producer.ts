import type { Kafka, Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { pinningPartitioner } from './partitioner.js';
import type { Logger } from '@smshub/logging';
import {
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';
import { counter, histogram, injectTraceHeaders } from '@smshub/telemetry';
import { ProduceOutcomeUnknownError, ProduceTimeoutError, ProducerClosedError } from './errors.js';
import { parentFor } from './trace-link.js';
import type { TopicCodec } from './topics.js';

export interface ProducerOptions {
  /**
   * How long a record may wait for companions before its batch is sent. 0: no timer, the batch goes once
   * the current event-loop turn's I/O callbacks have run (setImmediate), so it still carries every record
   * produced from the same poll (e.g. the submits of one socket read); while a request is in flight,
   * records wait for its answer either way and then go together at once.
   */
  lingerMs?: number;
  /** A batch is sent at once when it holds this many records. */
  maxBatchRecords?: number;
  /**
   * A request carries at most about this many bytes of keys and values (at least one record), so that no
   * partition's record batch nears the broker's message.max.bytes (1 MiB) or the consumers' fetch limit
   * per partition. Default 256 KiB (about 650 hub records, more than maxBatchRecords).
   */
  maxBatchBytes?: number;
  /**
   * produce() rejects with ProduceTimeoutError when the broker has not acknowledged in this time (the record
   * may still be written later). With `definiteOutcome`: when the record still waits in this producer's
   * queue after this time (it is then never sent).
   */
  ackTimeoutMs?: number;
  /**
   * Definite outcomes, for callers that tell someone else whether a record was taken (ingress's
   * submit_sm_resp): produce() rejects only when the record is certainly not written, and otherwise resolves
   * once Kafka has acknowledged it, however long that takes.
   *  - A record still queued here after `ackTimeoutMs` is withdrawn: ProduceTimeoutError (never sent).
   *  - A record handed to Kafka has no deadline. kafkajs retries the request without limit (backoff up to
   *    1 s) with the same producer id and sequence numbers, so the broker writes it once whether or not an
   *    earlier attempt got through (a stalled broker, a leader killed, a connection reset).
   *  - Should kafkajs give up anyway (an answer it does not retry, e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after
   *    a broker lost its producer state), the batch is sent again through a new producer 1 s later: if
   *    the first attempt was written after all, the log holds a second copy with the same key (the hub
   *    message id), which consumers already handle as an at-least-once redelivery.
   *  - close() waits `closeTimeoutMs` for Kafka's answers; a record still unanswered then rejects with
   *    ProduceOutcomeUnknownError (never report it as failed), one never sent with ProducerClosedError.
   */
  definiteOutcome?: boolean;
  /** With `definiteOutcome`: how long close() waits for records Kafka has not answered. Default 10 s. */
  closeTimeoutMs?: number;
}

export interface ProduceOptions {
  /** Defaults to the topic codec's key. */
  key?: string;
  headers?: Record<string, string | Buffer>;
  /** Skip the PRODUCER span and trace context injection. */
  noTrace?: boolean;
  /**
   * Parent of the record's PRODUCER span. Default: the active span, else the trace this process last
   * consumed for the same hub message (see trace-link.ts), else a new trace.
   */
  traceContext?: Context;
  /**
   * The hub message id the record is about, when neither the topic codec's messageId() nor the key says
   * it (produceRaw of an encoded sms.dispatched.v1): the record continues that message's trace.
   */
  messageId?: string;
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
  settled: boolean;
  /** Given to kafkajs at least once (definiteOutcome: no deadline from then on). */
  sent: boolean;
  /** definiteOutcome: sent in a batch of its own, after the broker refused a batch holding it. */
  alone?: boolean;
  bytes: number;
  span: Span | undefined;
}

const tracer = trace.getTracer('@smshub/kafka');

/** Broker answers that refuse the records themselves: retrying the same records cannot succeed. */
const REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/** The kafkajs error type of `err` (or of its causes) when it is one of REFUSALS. */
function refusal(err: unknown): string | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (e.type && REFUSALS.has(e.type)) return e.type;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * The records of `batch` whose partition has no answer in `acks` (what kafkajs's sendBatch returned: one
 * entry per topic-partition a broker acknowledged). kafkajs 2.2.4 resolves a multi-broker request whose
 * retry skipped partitions: after a leader dies mid-request, its retry only sends to brokers that have not
 * answered yet, so partitions that moved to a broker that already answered are never sent
 * (tulios/kafkajs#1303, PR #1798; chaos run 6 lost records on four topics so).
 */
export function unacknowledged<P extends { topic: string; message: Message }>(
  batch: readonly P[],
  acks: readonly RecordMetadata[] | undefined,
): P[] {
  const answered = new Set(
    (acks ?? []).filter((a) => !a.errorCode).map((a) => `${a.topicName}\u0000${a.partition}`),
  );
  return batch.filter(
    (p) => p.message.partition === undefined || !answered.has(`${p.topic}\u0000${p.message.partition}`),
  );
}

const produced = counter('smshub_kafka_produced_total', 'Records acknowledged by Kafka', ['topic']);
const produceFailed = counter('smshub_kafka_produce_failed_total', 'Records Kafka did not acknowledge', [
  'topic',
]);
const resent = counter(
  'smshub_kafka_produce_resent_total',
  'Records sent again through a new producer after Kafka gave up on their batch (definite outcomes)',
  [],
);
const unanswered = counter(
  'smshub_kafka_produce_unanswered_total',
  'Records kafkajs reported sent whose partition no broker acknowledged (sent again through a new producer)',
  ['topic'],
);
const producerRenewals = counter(
  'smshub_kafka_producer_renewals_total',
  'Idempotent producers replaced after a failed batch',
  [],
);
const batchSize = histogram(
  'smshub_kafka_produce_batch_records',
  'Records per produce request',
  [],
  [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
);

/**
 * An idempotent producer (acks=all) that batches: records produced within `lingerMs` of each other go in
 * one request, and while one request is in flight the next batch fills. One request at a time keeps
 * kafkajs's idempotent sequence numbers in order; batching keeps throughput.
 * produce() resolves only when Kafka has acknowledged the record with acks=all.
 */
export class TypedProducer {
  private producer: Producer;
  /**
   * Set when a batch failed. kafkajs's idempotent producer keeps counting sequence numbers across a failed
   * batch, so after a broker restart the broker answers OUT_OF_ORDER_SEQUENCE_NUMBER to every later batch,
   * and it can take a later batch that reuses the sequence numbers of one it already holds for a retry of
   * that one: acknowledged, but not written (the chaos harness lost 155 accepted messages so). The next
   * batch therefore goes through a new kafkajs producer: a new producer id, whose sequences start afresh.
   */
  private renew = false;
  private readonly log: Logger;
  /** The PRODUCER span name and options of each topic (made once per topic instead of per record). */
  private readonly spanOptions = new Map<string, { name: string; options: SpanOptions }>();
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly ackTimeoutMs: number;
  private readonly definite: boolean;
  private readonly closeTimeoutMs: number;
  private queue: Pending[] = [];
  /** The batch kafkajs is sending now. */
  private current: Pending[] = [];
  private closing = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** lingerMs 0: the pending setImmediate that sends the queue. */
  private lingerImmediate: NodeJS.Immediate | null = null;
  private inFlight: Promise<void> | null = null;
  private connected = false;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    logger: Logger,
    opts: ProducerOptions = {},
  ) {
    this.log = logger.child({ component: 'producer' });
    this.lingerMs = opts.lingerMs ?? 2;
    this.maxBatch = opts.maxBatchRecords ?? 500;
    this.maxBatchBytes = opts.maxBatchBytes ?? 256 * 1024;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 10_000;
    this.definite = opts.definiteOutcome ?? false;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: pinningPartitioner,
      // definiteOutcome: kafkajs keeps retrying the same request (same producer id and sequence numbers).
      ...(this.definite && {
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 },
      }),
    });
  }

  /** Replaces the kafkajs producer after a failed batch (see `renew`); throws when the broker is unreachable. */
  private async renewProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    await old.disconnect().catch(() => undefined);
    await this.producer.connect();
    this.renew = false;
    producerRenewals.inc();
    this.log.warn('new idempotent producer after a failed batch (fresh producer id and sequence numbers)');
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Encodes `value` with the topic's codec and resolves once Kafka has acknowledged it (acks=all). */
  produce<T>(topic: TopicCodec<T>, value: T, opts: ProduceOptions = {}): Promise<void> {
    const key = opts.key ?? topic.key(value);
    const bytes = topic.encode(value);
    // A view of the codec's fresh array, not a copy (Buffer.from(array) copied every record's bytes).
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.send(topic.name, key, buf, opts, topic.messageId?.(value) ?? key);
  }

  /** Produces bytes as they are (dead-letter copies, replays). */
  produceRaw(
    topic: string,
    key: string | Buffer | null,
    value: Buffer | null,
    opts: ProduceOptions = {},
  ): Promise<void> {
    return this.send(topic, key, value, opts, opts.messageId ?? (key === null ? undefined : key.toString()));
  }

  /** Queues one record; `messageId` says which message's trace it continues (the key when none is known). */
  private send(
    topic: string,
    key: string | Buffer | null,
    value: Buffer | null,
    opts: ProduceOptions,
    messageId: string | undefined,
  ): Promise<void> {
    if (this.closed || !this.connected) return Promise.reject(new ProducerClosedError());
    const headers: Record<string, string | Buffer> = { ...opts.headers };
    let span: Span | undefined;
    if (!opts.noTrace) {
      const parent = opts.traceContext ?? parentFor(messageId);
      let named = this.spanOptions.get(topic);
      if (!named) {
        named = {
          name: `${topic} publish`,
          options: {
            kind: SpanKind.PRODUCER,
            attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic },
          },
        };
        this.spanOptions.set(topic, named);
      }
      span = tracer.startSpan(named.name, named.options, parent);
      // A no-op span with no trace (tracing off, none to continue) and no baggage: the propagators (W3C
      // trace context and baggage, libs/telemetry) would write nothing, after a new context per record.
      if (isSpanContextValid(span.spanContext()) || propagation.getBaggage(parent))
        injectTraceHeaders(headers, trace.setSpan(parent, span));
    }
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        topic,
        message: { key, value, headers },
        resolve,
        reject,
        settled: false,
        sent: false,
        bytes: (value?.length ?? 0) + (key?.length ?? 0),
        // Set whether or not there is one: a conditional spread per record was slow to build.
        span,
        timer: setTimeout(
          () => this.settle(pending, new ProduceTimeoutError(topic, this.ackTimeoutMs)),
          this.ackTimeoutMs,
        ),
      };
      this.queue.push(pending);
      if (this.queue.length >= this.maxBatch) this.kick();
      else if (this.lingerMs === 0) this.lingerImmediate ??= setImmediate(() => this.kick());
      else if (!this.lingerTimer) this.lingerTimer = setTimeout(() => this.kick(), this.lingerMs);
    });
  }

  private settle(p: Pending, err?: unknown): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    if (p.span) {
      if (err)
        p.span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message ?? String(err) });
      p.span.end();
    }
    if (err) {
      produceFailed.inc({ topic: p.topic });
      p.reject(err);
    } else {
      produced.inc({ topic: p.topic });
      p.resolve();
    }
  }

  /** Starts sending the queue unless a request is already in flight (it will pick the queue up after). */
  private kick(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    if (this.lingerImmediate) {
      clearImmediate(this.lingerImmediate);
      this.lingerImmediate = null;
    }
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = this.sendLoop().finally(() => {
      this.inFlight = null;
    });
  }

  private async sendLoop(): Promise<void> {
    while (this.queue.length) {
      // Records that already timed out are not sent: their callers were told they failed.
      const batch = this.nextBatch();
      if (!batch.length) continue;
      for (const p of batch) {
        p.sent = true;
        // From here Kafka may write it: with definite outcomes only Kafka's answer settles it.
        if (this.definite) clearTimeout(p.timer);
      }
      this.current = batch;
      const byTopic = new Map<string, Message[]>();
      for (const p of batch) {
        const list = byTopic.get(p.topic) ?? [];
        list.push(p.message);
        byTopic.set(p.topic, list);
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      batchSize.observe(batch.length);
      try {
        if (this.renew) await this.renewProducer();
        const acks = await this.producer.sendBatch({ topicMessages, acks: -1 });
        // Each record is acknowledged only when a broker answered for its partition (see unacknowledged).
        const missing = new Set(unacknowledged(batch, acks));
        for (const p of batch) if (!missing.has(p)) this.settle(p);
        if (missing.size) {
          // Not written by this request; maybe by an earlier attempt of it that failed with the dead leader
          // (then the copy sent now has the same key: consumers take it as a redelivery). A new producer id,
          // so that no later batch reuses the sequence numbers kafkajs gave these records.
          this.renew = true;
          const parts = new Set([...missing].map((p) => `${p.topic}[${p.message.partition ?? '?'}]`));
          for (const p of missing) unanswered.inc({ topic: p.topic });
          this.log.warn(
            { records: missing.size, partitions: [...parts] },
            'Kafka did not answer for some partitions of a batch it reported sent: sending them again',
          );
          this.queue.unshift(...[...missing].filter((p) => !p.settled));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } catch (err) {
        this.renew = true;
        const refused = refusal(err);
        if (this.definite && refused && batch.length === 1) {
          // The broker refused the record itself (too large, invalid): certainly not written.
          this.log.error({ err, topic: batch[0]!.topic }, 'Kafka refused a record');
          this.settle(batch[0]!, err);
          continue;
        }
        if (this.definite && !this.closing) {
          // A refused record makes its whole partition batch fail, and the others of the request may or
          // may not be written: each goes alone from now on, so the refused one fails by itself.
          if (refused) for (const p of batch) p.alone = true;
          // Written or not, nobody knows: the same records again, through a new producer.
          this.log.error(
            { err, records: batch.length },
            'Kafka gave up on a batch whose outcome is unknown: sending it again through a new producer',
          );
          resent.inc(batch.length);
          this.queue.unshift(...batch.filter((p) => !p.settled));
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        this.log.error({ err, records: batch.length }, 'Kafka did not acknowledge a batch');
        for (const p of batch) this.settle(p, this.definite ? new ProduceOutcomeUnknownError(p.topic) : err);
      } finally {
        this.current = [];
      }
    }
  }

  /**
   * Takes the next batch off the queue: up to maxBatchRecords records and maxBatchBytes bytes (at least
   * one), skipping records already settled; a record marked `alone` goes by itself.
   */
  private nextBatch(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    while (this.queue.length && batch.length < this.maxBatch) {
      const p = this.queue[0]!;
      if (p.settled) {
        this.queue.shift();
        continue;
      }
      if (batch.length && (p.alone || bytes + p.bytes > this.maxBatchBytes)) break;
      this.queue.shift();
      batch.push(p);
      bytes += p.bytes;
      if (p.alone) break;
    }
    return batch;
  }

  /** Sends what is queued and waits for it. */
  async flush(): Promise<void> {
    this.kick();
    while (this.inFlight) {
      await this.inFlight;
      this.kick();
    }
  }

  /**
   * Flushes, then disconnects. Later produce() calls reject with ProducerClosedError. With definite
   * outcomes, waits at most `closeTimeoutMs` for Kafka; what it has not answered by then rejects with
   * ProduceOutcomeUnknownError (ProducerClosedError for records never sent).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (!this.definite) await this.flush();
    else {
      let timer: NodeJS.Timeout | undefined;
      const flushed = await Promise.race([
        this.flush().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.closeTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (!flushed) {
        for (const p of [...this.current, ...this.queue])
          this.settle(p, p.sent ? new ProduceOutcomeUnknownError(p.topic) : new ProducerClosedError());
        this.queue = [];
        this.log.error(
          { closeTimeoutMs: this.closeTimeoutMs },
          'closed with records Kafka had not answered (outcome unknown)',
        );
      }
    }
    this.closed = true;
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
  }
}
