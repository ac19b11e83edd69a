export {
  createKafka,
  kafkaConnection,
  FETCH_LIMITS_DEFAULT,
  type FetchLimits,
  type KafkaConnection,
  type KafkaEnvConfig,
} from './client.js';
export type { Kafka } from 'kafkajs';
export { TypedProducer, type ProducerOptions, type ProduceOptions } from './producer.js';
export { readTopicSince, type ReadRecord, type ReadTopicOptions } from './reader.js';
export {
  TypedConsumer,
  DLQ_HEADERS,
  type ConsumedRecord,
  type ConsumerOptions,
  type RecordHandler,
  type BatchHandler,
  type BatchOutcome,
  type RetryPolicy,
} from './consumer.js';
export {
  ensureTopics,
  clusterReplication,
  replicationFor,
  withAdminRetries,
  type Replication,
  type TopicCodec,
  type TopicLayout,
  type EnsureTopicsResult,
} from './topics.js';
export {
  KafkaLibError,
  DecodeError,
  ProduceTimeoutError,
  ProduceOutcomeUnknownError,
  ProducerClosedError,
  isRetriable,
} from './errors.js';
export {
  REPLAY_HEADERS,
  REPLAY_RETENTION_MS,
  deadLetterFacts,
  originalHeaders,
  replayOriginOf,
  replayRecordOf,
  replayTopicOf,
  type DeadLetterRecord,
  type ReplayOrigin,
} from './replay.js';
export { readOffsetRanges, type OffsetRange, type RawRecord } from './range-reader.js';
