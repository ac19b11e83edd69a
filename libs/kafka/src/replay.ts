// Replaying dead letters into the group that failed them, and only that group.
//
// Re-producing a dead letter to its original topic would hand it to every consumer group of that topic again.
// Instead each TypedConsumer also reads its own `<group>.replay` topic (next to `<group>.dlq`): a replay
// record is the dead letter's key, value and original headers, plus `x-replay-*` headers naming the original
// topic, partition, offset, the dead letter's offset and the attempts already made. The consumer decodes it
// with the codec of the original topic and hands it to that topic's handler, with the same retry and
// dead-letter rules; a replay that fails again is dead-lettered again with the attempts added up.
import type { IHeaders } from 'kafkajs';
import { DLQ_HEADERS } from './consumer.js';

export const REPLAY_HEADERS = {
  topic: 'x-replay-topic',
  partition: 'x-replay-partition',
  offset: 'x-replay-offset',
  /** Offset of the dead letter in `<group>.dlq` the replay was made from. */
  deadLetterOffset: 'x-replay-dlq-offset',
  /** Processing attempts made before this replay (the dead letter's x-dlq-attempts). */
  attempts: 'x-replay-attempts',
  time: 'x-replay-time',
} as const;

const DLQ_SUFFIX = '.dlq';

/** `<group>.replay` for the dead-letter topic `<group>.dlq` (any other name gets `.replay` appended). */
export function replayTopicOf(deadLetterTopic: string): string {
  const base = deadLetterTopic.endsWith(DLQ_SUFFIX)
    ? deadLetterTopic.slice(0, -DLQ_SUFFIX.length)
    : deadLetterTopic;
  return `${base}.replay`;
}

/** Retention of replay topics: a replay is read within seconds; a week covers a group that is down. */
export const REPLAY_RETENTION_MS = 7 * 24 * 3600_000;

/** A record of `<group>.dlq` as read from Kafka. */
export interface DeadLetterRecord {
  /** Offset in the dead-letter topic. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** What a replay record says about the record it carries. */
export interface ReplayOrigin {
  topic: string;
  partition: number;
  offset: string;
  deadLetterOffset: string;
  attempts: number;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}

const INTEGER = /^\d+$/;

/** The x-dlq-* facts of a dead letter (missing ones stay undefined: older writers set fewer). */
export function deadLetterFacts(headers: IHeaders | undefined): {
  topic?: string;
  partition?: number;
  offset?: string;
  group?: string;
  error?: string;
  attempts?: number;
  time?: string;
  errorType?: string;
  replica?: string;
} {
  const partition = header(headers, DLQ_HEADERS.sourcePartition);
  const offset = header(headers, DLQ_HEADERS.sourceOffset);
  const attempts = header(headers, DLQ_HEADERS.attempts);
  const out: ReturnType<typeof deadLetterFacts> = {};
  const topic = header(headers, DLQ_HEADERS.sourceTopic);
  if (topic) out.topic = topic;
  if (partition !== undefined && INTEGER.test(partition)) out.partition = Number(partition);
  if (offset !== undefined && INTEGER.test(offset)) out.offset = offset;
  const group = header(headers, DLQ_HEADERS.group);
  if (group) out.group = group;
  const error = header(headers, DLQ_HEADERS.error);
  if (error !== undefined) out.error = error;
  if (attempts !== undefined && INTEGER.test(attempts)) out.attempts = Number(attempts);
  const time = header(headers, DLQ_HEADERS.time);
  if (time) out.time = time;
  const errorType = header(headers, DLQ_HEADERS.errorType);
  if (errorType) out.errorType = errorType;
  const replica = header(headers, DLQ_HEADERS.replica);
  if (replica) out.replica = replica;
  return out;
}

/** The headers of the original record: without the x-dlq-* and x-replay-* ones. */
export function originalHeaders(headers: IHeaders | undefined): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.startsWith('x-dlq-') || k.startsWith('x-replay-')) continue;
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * The replay record of a dead letter: its key and value unchanged, the original headers and x-replay-*.
 * Refused (an Error naming why) when the dead letter does not say which topic it came from.
 */
export function replayRecordOf(
  dl: DeadLetterRecord,
  now = new Date(),
): { key: Buffer | null; value: Buffer | null; headers: Record<string, string | Buffer> } {
  const facts = deadLetterFacts(dl.headers);
  if (!facts.topic) throw new Error(`dead letter ${dl.offset} names no source topic`);
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(originalHeaders(dl.headers))) {
    const one = Array.isArray(v) ? v[0] : v;
    if (typeof one === 'string' || Buffer.isBuffer(one)) headers[k] = one;
  }
  Object.assign(headers, {
    [REPLAY_HEADERS.topic]: facts.topic,
    [REPLAY_HEADERS.partition]: String(facts.partition ?? 0),
    [REPLAY_HEADERS.offset]: facts.offset ?? '-1',
    [REPLAY_HEADERS.deadLetterOffset]: dl.offset,
    [REPLAY_HEADERS.attempts]: String(facts.attempts ?? 1),
    [REPLAY_HEADERS.time]: now.toISOString(),
  });
  return { key: dl.key, value: dl.value, headers };
}

/** The origin a replay record names, or undefined when it names no topic (not written by replayRecordOf). */
export function replayOriginOf(headers: IHeaders | undefined): ReplayOrigin | undefined {
  const topic = header(headers, REPLAY_HEADERS.topic);
  if (!topic) return undefined;
  const partition = header(headers, REPLAY_HEADERS.partition) ?? '0';
  const attempts = header(headers, REPLAY_HEADERS.attempts) ?? '0';
  return {
    topic,
    partition: INTEGER.test(partition) ? Number(partition) : 0,
    offset: header(headers, REPLAY_HEADERS.offset) ?? '-1',
    deadLetterOffset: header(headers, REPLAY_HEADERS.deadLetterOffset) ?? '-1',
    attempts: INTEGER.test(attempts) ? Number(attempts) : 0,
  };
}
