/** Base of the errors this lib throws and understands. `retriable` says whether trying again can help. */
export class KafkaLibError extends Error {
  readonly retriable: boolean;
  constructor(message: string, opts: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable;
  }
}

/** A record whose bytes cannot be decoded with its topic's codec: never retried, goes to the dead-letter topic. */
export class DecodeError extends KafkaLibError {
  constructor(topic: string, cause: unknown) {
    super(`cannot decode a record of ${topic}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      retriable: false,
      cause,
    });
  }
}

/** The broker did not acknowledge a produced record in time (it may still be written later). */
export class ProduceTimeoutError extends KafkaLibError {
  constructor(topic: string, timeoutMs: number) {
    super(`Kafka did not acknowledge the record for ${topic} within ${timeoutMs} ms`, { retriable: true });
  }
}

/**
 * The producer was closed while Kafka had the record but had not answered (a producer with
 * `definiteOutcome` only): it may be written or not. Never tell a sender it failed on this.
 */
export class ProduceOutcomeUnknownError extends KafkaLibError {
  constructor(topic: string) {
    super(
      `the producer closed before Kafka answered for a record of ${topic}: it may or may not be written`,
      {
        retriable: false,
      },
    );
  }
}

/** The producer was closed before the record could be sent. */
export class ProducerClosedError extends KafkaLibError {
  constructor() {
    super('the producer is closed', { retriable: false });
  }
}

/**
 * Whether a handler error may succeed when tried again. Errors say so with a boolean `retriable`
 * property (ours and kafkajs's); anything else is treated as permanent.
 */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}
