// DeadLetterService: browse the consumer groups' dead-letter topics (`<group>.dlq`, raw records with
// x-dlq-* headers) and replay dead letters into the group that failed them through `<group>.replay`
// (libs/kafka/src/replay.ts; docs/architecture.md "Dead letters").
//
// - A group is the dead-letter topic's name without `.dlq`; DLQs have one partition (partition 0 is read).
// - Listing never returns message bodies: sizes, the source topic's message id where its codec decodes it.
// - A replay is remembered per (group, dlq offset) in admin_dead_letter_replays in the same transaction as
//   the claim; the records are written to `<group>.replay` before it commits, so a failed write forgets the
//   claim (a commit that fails after the write leaves a replay unremembered: at least once, as the handlers).
import type { CallInfo } from '@smshub/auth';
import type {
  DeadLetterEntry,
  DeadLetterGroup,
  ListDeadLetterGroupsRequest,
  ListDeadLetterGroupsResponse,
  ListDeadLettersRequest,
  ListDeadLettersResponse,
  ReplayDeadLettersRequest,
  ReplayDeadLettersResponse,
  TopicSpec,
} from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import {
  deadLetterFacts,
  ensureTopics,
  readOffsetRanges,
  REPLAY_RETENTION_MS,
  replayRecordOf,
  replayTopicOf,
  withAdminRetries,
  type Kafka,
  type RawRecord,
  type TypedProducer,
} from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { status } from '@grpc/grpc-js';
import { invalid, notFound, RpcError } from './errors.js';

const DLQ = '.dlq';
const GROUP = /^[A-Za-z0-9._-]{1,240}$/;
/** Most dead letters one ReplayDeadLetters call replays (the records are held in memory meanwhile). */
export const MAX_REPLAY = 20_000;
const MAX_LISTED_OFFSETS = 1_000;
const MAX_ALREADY_SHOWN = 1_000;
/** Dead-letter times remembered (two per group). */
const TIMES_KEPT = 10_000;

export interface DeadLetterDeps {
  kafka: Kafka;
  producer: TypedProducer;
  pool: Pool;
  /** Codecs of the hub's topics by (namespaced) name: message ids of dead letters are decoded with them. */
  codecs: ReadonlyMap<string, TopicSpec<unknown>>;
  logger: Logger;
  /** KAFKA_NAMESPACE: only the groups under it are listed (those of this hub). */
  namespace?: string;
}

export interface DeadLetterHandlers {
  listDeadLetterGroups(
    req: ListDeadLetterGroupsRequest,
    call: CallInfo,
  ): Promise<ListDeadLetterGroupsResponse>;
  listDeadLetters(req: ListDeadLettersRequest, call: CallInfo): Promise<ListDeadLettersResponse>;
  replayDeadLetters(req: ReplayDeadLettersRequest, call: CallInfo): Promise<ReplayDeadLettersResponse>;
}

interface Extent {
  group: string;
  topic: string;
  low: bigint;
  high: bigint;
}

function dlqTopic(group: string): string {
  if (!GROUP.test(group)) throw invalid('group', 'a consumer group name (letters, digits, ".", "_", "-")');
  return `${group}${DLQ}`;
}

async function withKafkaAdmin<T>(
  kafka: Kafka,
  fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>,
): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function extentsOf(kafka: Kafka, groups: string[]): Promise<Extent[]> {
  return withKafkaAdmin(kafka, (admin) =>
    Promise.all(
      groups.map(async (group) => {
        const topic = `${group}${DLQ}`;
        const offsets = await withAdminRetries(() => admin.fetchTopicOffsets(topic));
        const p0 = offsets.find((o) => o.partition === 0);
        return { group, topic, low: BigInt(p0?.low ?? 0), high: BigInt(p0?.high ?? 0) };
      }),
    ),
  );
}

/** The extent of one group's dead-letter topic; NOT_FOUND when the group has none. */
async function extentOf(kafka: Kafka, group: string): Promise<Extent> {
  const topic = dlqTopic(group);
  const exists = await withKafkaAdmin(kafka, async (admin) => (await admin.listTopics()).includes(topic));
  if (!exists) throw notFound('dead-letter topic of group', group);
  return (await extentsOf(kafka, [group]))[0]!;
}

const timeOf = (r: RawRecord): Date => {
  const t = deadLetterFacts(r.headers).time;
  const d = t ? new Date(t) : new Date(Number(r.timestamp));
  return Number.isNaN(d.getTime()) ? new Date(Number(r.timestamp)) : d;
};

function groupMessage(e: Extent, replayed: bigint, oldest?: Date, newest?: Date): DeadLetterGroup {
  return {
    group: e.group,
    topic: e.topic,
    count: e.high - e.low,
    startOffset: e.low,
    endOffset: e.high,
    oldestTime: oldest,
    newestTime: newest,
    replayed,
  };
}

async function replayedCounts(pool: Pool, extents: Extent[]): Promise<Map<string, bigint>> {
  if (extents.length === 0) return new Map();
  const { rows } = await pool.query<{ g: string; n: string }>(
    `SELECT t.g, count(r.dlq_offset)::text AS n
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(g, low, high)
       JOIN admin_dead_letter_replays r
         ON r.consumer_group = t.g AND r.dlq_offset >= t.low AND r.dlq_offset < t.high
      GROUP BY t.g`,
    [
      extents.map((e) => e.group),
      extents.map((e) => e.low.toString()),
      extents.map((e) => e.high.toString()),
    ],
  );
  return new Map(rows.map((r) => [r.g, BigInt(r.n)]));
}

export function deadLetterHandlers(deps: DeadLetterDeps): DeadLetterHandlers {
  const { kafka, pool, logger } = deps;

  /** The first and last record of each non-empty extent (unset when reading them fails: logged). */
  // When the record at a dlq offset was written never changes: remembered, so listing the groups again
  // reads only the groups whose first or last offset moved. Bounded (cleared past TIMES_KEPT).
  const times = new Map<string, Date>();
  const timeKey = (topic: string, offset: bigint) => `${topic}@${offset}`;

  /** The time of the first and last record of each non-empty extent (unset when reading fails: logged). */
  async function ends(extents: Extent[]): Promise<Map<string, { oldest?: Date; newest?: Date }>> {
    const held = extents.filter((e) => e.high > e.low);
    const wanted = (offsetOf: (e: Extent) => bigint) =>
      held
        .filter((e) => !times.has(timeKey(e.topic, offsetOf(e))))
        .map((e) => ({ topic: e.topic, partition: 0, from: offsetOf(e), to: offsetOf(e) + 1n }));
    const first = (e: Extent) => e.low;
    const last = (e: Extent) => e.high - 1n;
    try {
      const read = await Promise.all([
        readOffsetRanges(kafka, wanted(first)),
        readOffsetRanges(kafka, wanted(last)),
      ]);
      if (times.size > TIMES_KEPT) times.clear();
      for (const r of read.flat()) times.set(timeKey(r.topic, BigInt(r.offset)), timeOf(r));
    } catch (err) {
      logger.warn({ err }, 'reading the oldest and newest dead letters failed; listing without their times');
    }
    const out = new Map<string, { oldest?: Date; newest?: Date }>();
    for (const e of held) {
      const oldest = times.get(timeKey(e.topic, first(e)));
      const newest = times.get(timeKey(e.topic, last(e)));
      out.set(e.group, { ...(oldest ? { oldest } : {}), ...(newest ? { newest } : {}) });
    }
    return out;
  }

  function entryOf(r: RawRecord, replay?: { at: Date; by: string }): DeadLetterEntry {
    const f = deadLetterFacts(r.headers);
    const key = r.key ? r.key.toString('utf8') : '';
    let messageId = '';
    let decodable = false;
    const spec = f.topic ? deps.codecs.get(f.topic) : undefined;
    if (spec && r.value) {
      try {
        const v = spec.decode(r.value);
        decodable = true;
        messageId = spec.messageId?.(v) ?? spec.key(v) ?? '';
      } catch {
        decodable = false;
      }
    }
    return {
      offset: BigInt(r.offset),
      sourceTopic: f.topic ?? '',
      sourcePartition: f.partition ?? 0,
      sourceOffset: f.offset !== undefined ? BigInt(f.offset) : -1n,
      errorType: f.errorType ?? '',
      errorMessage: f.error ?? '',
      attempts: f.attempts ?? 0,
      failedAt: timeOf(r),
      replica: f.replica ?? '',
      key,
      size: r.value?.length ?? 0,
      messageId,
      decodable,
      replayedAt: replay?.at,
      replayedBy: replay?.by ?? '',
    };
  }

  async function replaysOf(group: string, offsets: bigint[]): Promise<Map<string, { at: Date; by: string }>> {
    if (offsets.length === 0) return new Map();
    const { rows } = await pool.query<{ dlq_offset: string; replayed_at: Date; replayed_by: string }>(
      `SELECT dlq_offset::text, replayed_at, replayed_by FROM admin_dead_letter_replays
        WHERE consumer_group = $1 AND dlq_offset = ANY($2::bigint[])`,
      [group, offsets.map(String)],
    );
    return new Map(rows.map((r) => [r.dlq_offset, { at: r.replayed_at, by: r.replayed_by }]));
  }

  return {
    async listDeadLetterGroups(req) {
      const topics = await withKafkaAdmin(kafka, (admin) => admin.listTopics());
      const groups = topics
        .filter((t) => t.endsWith(DLQ) && t.length > DLQ.length && !t.startsWith('__'))
        .filter((t) => !deps.namespace || t.startsWith(`${deps.namespace}.`))
        .map((t) => t.slice(0, -DLQ.length))
        .filter((g) => GROUP.test(g))
        .sort();
      const extents = (await extentsOf(kafka, groups)).filter((e) => req.includeEmpty || e.high > e.low);
      const [replayed, ended] = await Promise.all([replayedCounts(pool, extents), ends(extents)]);
      return {
        groups: extents.map((e) =>
          groupMessage(
            e,
            replayed.get(e.group) ?? 0n,
            ended.get(e.group)?.oldest,
            ended.get(e.group)?.newest,
          ),
        ),
      };
    },

    async listDeadLetters(req) {
      const e = await extentOf(kafka, req.group);
      const size = req.pageSize === 0 ? 50 : req.pageSize;
      if (size < 0 || size > 500) throw invalid('page_size', 'between 1 and 500 (0 = 50)');
      let from: bigint;
      let to: bigint;
      let next: bigint;
      if (req.oldestFirst) {
        from = req.fromOffset > e.low ? req.fromOffset : e.low;
        to = from + BigInt(size) < e.high ? from + BigInt(size) : e.high;
        next = to < e.high ? to : -1n;
      } else {
        if (req.beforeOffset < 0n) throw invalid('before_offset', 'an offset (0 = from the newest)');
        to = req.beforeOffset > 0n && req.beforeOffset < e.high ? req.beforeOffset : e.high;
        from = to - BigInt(size) > e.low ? to - BigInt(size) : e.low;
        next = from > e.low ? from : -1n;
      }
      const records =
        from < to ? await readOffsetRanges(kafka, [{ topic: e.topic, partition: 0, from, to }]) : [];
      if (!req.oldestFirst) records.reverse();
      const [replays, counts] = await Promise.all([
        replaysOf(
          e.group,
          records.map((r) => BigInt(r.offset)),
        ),
        replayedCounts(pool, [e]),
      ]);
      return {
        deadLetters: records.map((r) => entryOf(r, replays.get(r.offset))),
        nextOffset: next,
        group: groupMessage(e, counts.get(e.group) ?? 0n),
      };
    },

    async replayDeadLetters(req, call) {
      const e = await extentOf(kafka, req.group);
      const hasList = req.offsets.length > 0;
      const hasRange = req.upToOffset !== undefined;
      if (hasList === hasRange) throw invalid('offsets', 'give either offsets or up_to_offset');
      let wanted: bigint[];
      if (hasList) {
        if (req.offsets.length > MAX_LISTED_OFFSETS)
          throw invalid('offsets', `at most ${MAX_LISTED_OFFSETS} offsets (use up_to_offset for more)`);
        if (req.offsets.some((o) => o < 0n)) throw invalid('offsets', 'offsets are not negative');
        wanted = [...new Set(req.offsets)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      } else {
        const upTo = req.upToOffset!;
        if (upTo < -1n) throw invalid('up_to_offset', 'an offset, or -1 for the newest');
        const end = upTo === -1n || upTo + 1n > e.high ? e.high : upTo + 1n;
        if (end - e.low > BigInt(MAX_REPLAY))
          throw invalid(
            'up_to_offset',
            `${end - e.low} dead letters: at most ${MAX_REPLAY} at once (replay up to offset ${e.low + BigInt(MAX_REPLAY) - 1n} first)`,
          );
        wanted = [];
        for (let o = e.low; o < end; o++) wanted.push(o);
      }
      const held = wanted.filter((o) => o >= e.low && o < e.high);
      const records =
        held.length > 0
          ? await readOffsetRanges(kafka, [
              { topic: e.topic, partition: 0, from: held[0]!, to: held.at(-1)! + 1n },
            ])
          : [];
      const heldSet = new Set(held.map(String));
      const byOffset = new Map(records.filter((r) => heldSet.has(r.offset)).map((r) => [r.offset, r]));
      const missing = wanted.filter((o) => !byOffset.has(o.toString()));
      const unreplayable: bigint[] = [];
      const replayable = [...byOffset.values()].filter((r) => {
        if (deadLetterFacts(r.headers).topic) return true;
        unreplayable.push(BigInt(r.offset));
        return false;
      });
      const replayTopic = replayTopicOf(e.topic);
      const by = call.principal?.name || call.principal?.tokenId || '';
      await withKafkaAdmin(kafka, (admin) =>
        ensureTopics(admin, [
          { name: replayTopic, partitions: 1, retentionMs: REPLAY_RETENTION_MS, compacted: false },
        ]),
      );
      const client = await pool.connect();
      let claimed: Set<string>;
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ dlq_offset: string }>(
          `INSERT INTO admin_dead_letter_replays (consumer_group, dlq_offset, replayed_by)
           SELECT $1, o, $3 FROM unnest($2::bigint[]) AS o
           ON CONFLICT (consumer_group, dlq_offset) DO ${
             req.force
               ? 'UPDATE SET replayed_at = now(), replayed_by = EXCLUDED.replayed_by, replays = admin_dead_letter_replays.replays + 1'
               : 'NOTHING'
           }
           RETURNING dlq_offset::text`,
          [e.group, replayable.map((r) => r.offset), by],
        );
        claimed = new Set(rows.map((r) => r.dlq_offset));
        const now = new Date();
        // In dead-letter order (one partition, records queued in order), in chunks the producer batches.
        const toSend = replayable.filter((r) => claimed.has(r.offset));
        for (let i = 0; i < toSend.length; i += 500) {
          await Promise.all(
            toSend.slice(i, i + 500).map((r) => {
              const rec = replayRecordOf(r, now);
              return deps.producer.produceRaw(replayTopic, rec.key, rec.value, {
                headers: rec.headers,
                noTrace: true,
              });
            }),
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        logger.error({ err, group: e.group }, 'replaying dead letters failed');
        throw new RpcError(status.UNAVAILABLE, `replaying dead letters of ${e.group} failed: try again`);
      } finally {
        client.release();
      }
      const already = replayable.filter((r) => !claimed.has(r.offset)).map((r) => BigInt(r.offset));
      logger.info(
        {
          group: e.group,
          replayed: claimed.size,
          alreadyReplayed: already.length,
          missing: missing.length,
          by,
        },
        'dead letters replayed',
      );
      return {
        replayed: BigInt(claimed.size),
        alreadyReplayed: already.slice(0, MAX_ALREADY_SHOWN),
        alreadyReplayedCount: BigInt(already.length),
        missing: missing.slice(0, MAX_ALREADY_SHOWN),
        replayTopic,
        unreplayable,
      };
    },
  };
}
