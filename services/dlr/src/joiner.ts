// Join stage: sms.dispatched.v1 + sms.receipt.raw.v1 (both keyed by connector/supplier id).
//
// Joins receipts to dispatched parts with the domain Correlator (id readings, evidence, precedence) and
// hands every part's new state to the aggregation stage in the same process (`applyParts`: its own
// transaction under the messages' advisory locks, so the instance owning the message's partition and
// this one never read-modify-write a message at once). Part states used to travel over dlr.parts.v1:
// one more produce, broker append and fetch per part, for nothing the lock does not already give.
// The in-memory correlator is a cache: accepted dispatches are written to dlr_dispatch_index and looked
// up there on a miss, and receipts that arrive before their dispatch are kept in dlr_parked_receipts
// (retried when a dispatch with one of their keys arrives and on every sweep, reported unmatched after
// the park TTL). So a restart or a rebalance (even one that gives the dispatch and receipt partitions
// to different instances) loses nothing.
//
// Order per batch: compute -> apply the part states (committed, deliveries produced, with the receipts'
// timeline rows: RECEIPT_ROW) -> write Postgres (parked receipts, unparked ones) -> offsets are committed;
// for dispatches the index and timeline rows are written first, before any part state is applied and
// before the dispatch enters the cache. An accepted dispatch's part state is not applied at all
// (DISPATCH_REPLAY in dispatch-replay.ts: the aggregation stage replays its index row). A crash in between
// applies a part state again, which the aggregation stage ignores (a repeat of a known state).
import type { Logger } from '@smshub/logging';
import { arrayLiteralOf, withTransaction, type Pool, type PoolClient } from '@smshub/db';
import type { BatchOutcome, ConsumedRecord, TypedProducer } from '@smshub/kafka';
import { MessageContext, SmsPartStatus, type SmsDispatched, type SmsReceiptRaw } from '@smshub/contracts';
import { Correlator, type CorrelatorOutput } from './domain/correlator.js';
import { candidateKeys } from './domain/message-id.js';
import { customerErr } from './domain/status.js';
import type { Dispatch, Receipt } from './domain/types.js';
import type { DlrOptions } from './config.js';
import type { DlrTopics } from './topics.js';
import { customerError, toDispatch, toProtoStatus, toReceipt } from './mapping.js';
import { heldTotal, parkedTotal, receiptsTotal, unmatchedTotal } from './metrics.js';
import {
  asOneStatement,
  insertRows,
  insertUnnest,
  ONE_STATEMENT_MAX_PARAMS,
  unnestInsert,
  valuesInserts,
  type Queryable,
  type TypedColumn,
} from './sql.js';
import { asBuffer, encodeBuffer } from './encode.js';
import { FLOW_ORDER, TIMELINE_COLUMNS, timelineRow, type TimelineRow } from './timeline-rows.js';

/** Parked receipts claimed per sweep transaction. */
export const SWEEP_LIMIT = 1000;
/*
 * KEY_PROBE: dispatches and parked receipts are found by their keys with one GIN probe per key
 * (`unnest(keys) JOIN ... ON keys @> ARRAY[key]`), and the rows of what was found through
 * `= ANY(ARRAY(...))` (a primary key lookup). `keys && $1` with a batch's hundreds of keys, or
 * `IN (subquery)`, lets the planner pick a sequential scan: every row's keys compared with every key of
 * the batch, or the whole dispatch index hashed, for each batch.
 */
/*
 * CACHE_IN_FLIGHT: the correlator keeps only messages still waiting for a receipt. A message whose parts
 * are all final is dropped from it at the end of the batch that ended it: the aggregation stage's stored
 * state is the idempotency record (a duplicate or late receipt is applied there as a no-op or an
 * `after-final`), and such a receipt finds its dispatch through dlr_dispatch_index like any receipt of
 * a message evicted for room. Keeping final messages (10 minutes, up to DLR_MAX_MESSAGES_IN_MEMORY) filled
 * the cache with ~2.8 KB of heap per message that the garbage collector marked again and again.
 */
/** How long after parking a receipt is still retried by the sweep (see sweepParked). */
const RETRY_WINDOW_MS = 120_000;
/*
 * DISPATCHES_FIRST: a receipt batch waits for the dispatch batches this process is handling at that moment
 * before it looks for its dispatches. kafkajs hands the batches of one fetch (one per partition of each
 * topic) to DLR_PARTITION_CONCURRENCY workers at once, dispatches and receipts alike, and a receipt
 * that follows its dispatch closely (an instant supplier, a fast network) is often in the same fetch: looked
 * up while its dispatch's index row was not yet committed, it was parked (a row with its GIN keys), then
 * claimed (a transaction) and deleted: about half of the bench's receipts. A dispatch batch never waits for
 * a receipt batch (nor holds anything a receipt batch holds), so the wait is bounded by the dispatch
 * batches' own handling; a receipt whose dispatch comes in a later fetch is parked as before.
 * DLR_RECEIPTS_AFTER_DISPATCHES=false turns it off.
 */
/*
 * RECEIPT_HOLD: a receipt that finds no dispatch (in memory or in the index) and whose record is younger
 * than DLR_RECEIPT_HOLD_MS is not parked: the batch is handled up to the record before it and the rest is
 * left unresolved (BatchOutcome.stopAt), so kafkajs fetches it again with the next fetch (after
 * DLR_FETCH_MAX_WAIT_MS at most), in which the dispatch batches go first (DISPATCHES_FIRST). In the hub the
 * supplier's deliver_sm comes with its submit_sm_resp, and egress publishes the dispatch only after its
 * PostgreSQL write commits: the receipt is on the broker first, often fetched a fetch before its dispatch,
 * and was parked (a row with its GIN keys, a claim transaction, a delete): about half the hub's receipts.
 * A handler cannot wait for the next fetch itself (kafkajs fetches again only once every batch of the last
 * fetch is handled). Bounds: a record is held only while younger than the setting by its timestamp, and at
 * most that long from when this process first held it (a producer clock ahead); then it is parked as
 * before, joined later by the dispatch's parked lookup or the sweep. Offsets never pass the held record, so
 * a crash or a rebalance redelivers it; nothing waits on it at shutdown. 0 turns it off.
 */

interface ReceiptItem {
  raw: SmsReceiptRaw;
  /** Record key on sms.receipt.raw.v1 (kept for the dead-letter copy). */
  recordKey: string | null;
  /** Receipt id used for parking (receipt_id, or topic/partition/offset when it has none). */
  id: string;
  /** Already a row in dlr_parked_receipts. */
  fromParked: boolean;
  /** The encoded receipt as consumed or stored (timeline, parking and dead-letter copies reuse it). */
  bytes: Buffer;
}

interface Plan {
  parts: SmsPartStatus[];
  /**
   * The timeline row of each part state of `parts` (same index; none for a dispatch's), written with it
   * in the aggregation stage's transaction (RECEIPT_ROW).
   */
  partTimeline: (TimelineRow | undefined)[];
  timeline: TimelineRow[];
  /** INDEX_COLUMNS, plus the event's topic and payload when it is kept in the row (DISPATCH_EVENT_IN_INDEX). */
  indexRows: unknown[][];
  parkRows: unknown[][];
  unpark: string[];
  deadLetters: { item: ReceiptItem; reason: string }[];
}

const newPlan = (): Plan => ({
  parts: [],
  partTimeline: [],
  timeline: [],
  indexRows: [],
  parkRows: [],
  unpark: [],
  deadLetters: [],
});

export interface JoinerDeps {
  options: DlrOptions;
  logger: Logger;
  producer: TypedProducer;
  pool: Pool;
  topics: DlrTopics;
  /**
   * Applies part states to their messages (the aggregation stage) and writes `timeline` rows of those
   * messages in the same transaction; resolves once committed.
   */
  applyParts: (
    parts: readonly SmsPartStatus[],
    timeline: readonly (TimelineRow | undefined)[],
  ) => Promise<void>;
  /** Where unmatched receipts are copied (the group's dead-letter topic). */
  deadLetterTopic: () => string;
}

export class Joiner {
  private correlator: Correlator;
  private readonly log: Logger;
  /** Dispatch batches being handled now (DISPATCHES_FIRST). */
  private readonly dispatchBatches = new Set<Promise<void>>();
  /** RECEIPT_HOLD: per receipt partition, the record held back and when it was first held. */
  private readonly held = new Map<number, { offset: string; since: number }>();

  constructor(private readonly deps: JoinerDeps) {
    this.log = deps.logger.child({ component: 'join' });
    this.correlator = this.newCorrelator();
  }

  private newCorrelator(): Correlator {
    const o = this.deps.options;
    return new Correlator({
      idSetting: o.idSetting,
      notifyIntermediate: false,
      expire: false,
      reportMatches: true,
      retainFinalMs: 10 * 60_000,
      maxMessages: o.maxMessagesInMemory,
      maxTimeline: 1, // the join stage never reads the timeline (the aggregation stage stores it)
      parkTtlMs: o.parkTtlMs,
    });
  }

  /** Drops the cache after a failed batch: the retry reloads from Postgres and recomputes every output. */
  private reset(): void {
    this.correlator = this.newCorrelator();
  }

  private keysOf(connectorId: string, supplierId: string): string[] {
    const format = this.deps.options.idSetting(connectorId).format;
    return candidateKeys(supplierId, format).map((k) => `${connectorId}|${k}`);
  }

  async onDispatches(records: ConsumedRecord<SmsDispatched>[]): Promise<void> {
    const handled = this.handleDispatches(records);
    this.dispatchBatches.add(handled);
    try {
      await handled;
    } finally {
      this.dispatchBatches.delete(handled);
    }
  }

  private async handleDispatches(records: ConsumedRecord<SmsDispatched>[]): Promise<void> {
    try {
      const plan = newPlan();
      const now = Date.now();
      const dispatches: Dispatch[] = [];
      for (const r of records) {
        const d = r.value;
        const hubId = d.context?.messageId;
        if (!hubId) {
          this.log.warn(
            { topic: r.topic, partition: r.partition, offset: r.offset },
            'dispatch without message id',
          );
          continue;
        }
        const { dispatch, status, err } = toDispatch(d, hubId, Number(r.timestamp) || now);
        dispatches.push(dispatch);
        const indexed = dispatch.accepted && dispatch.supplierMessageId !== undefined;
        const payload = r.bytes ?? asBuffer(this.deps.topics.dispatched.encode(d));
        // DISPATCH_EVENT_IN_INDEX: an indexed dispatch's timeline event goes in its index row
        const eventInIndex = indexed && this.deps.options.dispatchEvent !== 'timeline';
        if (indexed) {
          plan.indexRows.push([
            hubId,
            dispatch.partIndex,
            d.connectorId,
            dispatch.supplierMessageId,
            dispatch.partsTotal,
            dispatch.attempt,
            new Date(dispatch.time),
            this.keysOf(d.connectorId, dispatch.supplierMessageId ?? ''),
            encodeBuffer(MessageContext, d.context ?? MessageContext.fromPartial({ messageId: hubId })),
            d.segments, // as the part state carried it (DISPATCH_REPLAY)
            ...(eventInIndex ? [this.deps.topics.dispatched.name, payload] : []),
          ]);
        }
        if (!eventInIndex) {
          plan.timeline.push(
            timelineRow(
              hubId,
              dispatchEventKey(dispatch.partIndex, dispatch.attempt, d.connectorId),
              'dispatched',
              this.deps.topics.dispatched.name,
              dispatch.time,
              payload,
            ),
          );
        }
        // DISPATCH_REPLAY: an accepted dispatch's part state (ENROUTE) is its index row; the aggregation
        // stage replays it when the message's next part state, expiry or rejection comes. Only a state
        // that notifies the customer (an intermediate ENROUTE, a final failure) is applied now.
        if (indexed && !dispatch.finalFailure && !this.deps.options.intermediateReceipts) continue;
        const part = SmsPartStatus.fromPartial({
          context: d.context,
          part: {
            partNumber: dispatch.partIndex + 1,
            status: toProtoStatus(status),
            connectorId: d.connectorId,
            supplierMessageId: dispatch.supplierMessageId ?? '',
            supplierError: dispatch.finalFailure ? `0x${(d.commandStatus >>> 0).toString(16)}` : '',
            ...(dispatch.finalFailure ? { doneAt: new Date(dispatch.time) } : {}),
          },
          partTotal: dispatch.partsTotal,
          segments: d.segments,
          updatedAt: new Date(dispatch.time),
          ...(dispatch.finalFailure ? { error: customerError(status, err) } : {}),
        });
        plan.parts.push(part);
        plan.partTimeline.push(undefined);
      }
      // The index rows (and the dispatches' timeline rows) are committed, and the part states that are
      // still applied are applied, before any receipt can be joined to these dispatches (in memory or
      // through the index): the aggregation stage always finds a dispatch (replayed from its index row, or
      // applied) before its receipts, so it learns the part total, segments and acceptance time first.
      await this.writeAtomically(plan);
      await this.publish(plan);
      for (const dispatch of dispatches) this.correlator.onDispatch(dispatch);
      // an egress final failure ends its part: nothing more to join (CACHE_IN_FLIGHT)
      this.correlator.forgetFinal(dispatches.map((d) => d.hubMessageId));
      // Receipts parked earlier (by any instance) that one of these dispatches may answer.
      const keys = plan.indexRows.flatMap((row) => row[7] as string[]);
      // PARKED_LOOKUP: a plain lookup first (one GIN probe per key, no transaction); only when it finds
      // parked receipts are they claimed. Most dispatch batches answer no parked receipt, and claiming
      // opened a transaction (BEGIN, SELECT ... FOR UPDATE, COMMIT) for each of them. A receipt parked
      // after this lookup looks at the index again itself (RECHECK_PARKED in onReceipts).
      const found = keys.length > 0 ? await parkedIdsFor(this.deps.pool, keys) : [];
      if (found.length > 0) await this.claimParked(found, now);
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  /**
   * Claims the parked receipts `ids` (FOR UPDATE SKIP LOCKED: one claimer, see below) and joins those whose
   * dispatch is indexed now; the others stay parked for the next dispatch or the sweep.
   */
  private async claimParked(ids: readonly string[], now: number): Promise<void> {
    const joined = newPlan();
    // Claimed (FOR UPDATE SKIP LOCKED) and unparked in one transaction, as sweepParked does: the
    // dispatch's index rows are committed, so the sweep (or a receipt batch's re-check) may already retry
    // the same receipts; unclaimed, both would write their timeline rows and delete their parked rows, in
    // different orders (deadlocks). A row claimed elsewhere meanwhile is skipped, one already unparked is
    // gone.
    await withTransaction(this.deps.pool, async (client) => {
      const parked = await client.query<{
        receipt_id: string;
        receipt: Buffer;
        record_key: string | null;
      }>(
        `SELECT receipt_id, receipt, record_key FROM dlr_parked_receipts
          WHERE receipt_id = ANY($1::text[])
          ORDER BY parked_at
          FOR UPDATE SKIP LOCKED`,
        [arrayLiteralOf(ids)],
      );
      if (parked.rows.length === 0) return;
      const items = parked.rows.map((row) => this.parkedItem(row));
      await this.planReceipts(items, joined, client, now);
      await this.publish(joined);
      await this.write(joined, client);
    });
  }

  async onReceipts(records: ConsumedRecord<SmsReceiptRaw>[]): Promise<BatchOutcome | undefined> {
    // DISPATCHES_FIRST: their failure is theirs (retried by their own handler)
    if (this.dispatchBatches.size > 0 && this.deps.options.receiptsAfterDispatches !== false)
      await Promise.allSettled(this.dispatchBatches);
    try {
      const plan = newPlan();
      const now = Date.now();
      const items: ReceiptItem[] = records.map((r) => ({
        raw: r.value,
        recordKey: r.key,
        id: r.value.receiptId || `${r.topic}/${r.partition}/${r.offset}`,
        fromParked: false,
        bytes: r.bytes ?? asBuffer(this.deps.topics.receiptRaw.encode(r.value)),
      }));
      const holdMs = this.deps.options.receiptHoldMs ?? 0;
      const hold = holdMs > 0 ? (i: number) => this.holds(records[i]!, holdMs, now) : undefined;
      const { receipts, heldAt } = await this.planReceipts(items, plan, this.deps.pool, now, hold);
      await this.publish(plan);
      await this.writeAtomically(plan);
      // RECHECK_PARKED: a receipt parked here while its dispatch was being indexed (by this instance or
      // another, each missing the other's uncommitted row) would wait for the sweep
      // (DLR_SWEEP_INTERVAL_MS, 5 s): a fast network's receipt often overtakes its dispatch. The dispatch
      // side looks for parked receipts after its index rows commit; this side looks at the index again
      // after its parked rows commit, so one of the two always sees the other. One index probe per parked
      // receipt's key, only for a batch that parked something; a claim only for those whose dispatch is
      // there now (the race, not a receipt whose dispatch simply comes later).
      if (plan.parkRows.length > 0) {
        const indexed = await indexedNow(this.deps.pool, plan.parkRows);
        if (indexed.length > 0) await this.claimParked(indexed, now);
      }
      for (const receipt of receipts) {
        receiptsTotal.inc({
          connector: receipt.connectorId,
          status: this.correlator.normalise(receipt).status,
        });
      }
      if (heldAt === undefined) return undefined;
      heldTotal.inc();
      return { stopAt: records[heldAt]!.offset };
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  /** RECEIPT_HOLD: whether this unmatched receipt record is held back rather than parked. */
  private holds(record: ConsumedRecord<SmsReceiptRaw>, holdMs: number, now: number): boolean {
    const age = now - Number(record.timestamp);
    if (!(age < holdMs && age > -holdMs)) return false;
    const held = this.held.get(record.partition);
    if (held === undefined || held.offset !== record.offset) {
      this.held.set(record.partition, { offset: record.offset, since: now });
      return true;
    }
    return now - held.since < holdMs;
  }

  /**
   * Retries parked receipts whose dispatch is now indexed and reports the ones older than the park TTL
   * as unmatched (metric + dead-letter copy). Rows are claimed with FOR UPDATE SKIP LOCKED, so each
   * parked receipt is handled by one instance.
   *
   * A dispatch looks parked receipts up itself when it arrives; the retry here closes the one gap
   * that leaves: a receipt parked by one instance while another indexed its dispatch at the same
   * moment (each missed the other's uncommitted row). That window is short, so only receipts parked
   * in the last RETRY_WINDOW_MS are retried (the check is an index probe per parked row).
   */
  async sweepParked(now = Date.now()): Promise<{ claimed: number; matched: number; unmatched: number }> {
    try {
      return await withTransaction(this.deps.pool, async (client) => {
        // The planner prices each && probe at a fixed 1 % of the index (so the claim below looks
        // expensive) and would JIT-compile it, which costs more than running it.
        await client.query('SET LOCAL jit = off');
        const rows = await client.query<{
          receipt_id: string;
          receipt: Buffer;
          record_key: string | null;
          expired: boolean;
        }>(
          // A join, not a correlated EXISTS: Postgres plans that EXISTS as a sequential scan of the
          // whole dispatch index per parked receipt, and the join as one GIN probe per parked receipt.
          `SELECT p.receipt_id, p.receipt, p.record_key, p.parked_at <= $1 AS expired
             FROM dlr_parked_receipts p
            WHERE p.parked_at <= $1
               OR p.receipt_id IN (SELECT r.receipt_id
                                     FROM dlr_parked_receipts r
                                     JOIN dlr_dispatch_index d ON d.keys && r.keys
                                    WHERE r.parked_at > $2)
            ORDER BY p.parked_at
            LIMIT ${SWEEP_LIMIT}
            FOR UPDATE OF p SKIP LOCKED`,
          [new Date(now - this.deps.options.parkTtlMs), new Date(now - RETRY_WINDOW_MS)],
        );
        if (rows.rows.length === 0) return { claimed: 0, matched: 0, unmatched: 0 };
        const plan = newPlan();
        const items = rows.rows.map((row) => this.parkedItem(row));
        await this.planReceipts(items, plan, client, now);
        const matched = new Set(plan.unpark);
        for (const [i, row] of rows.rows.entries()) {
          const item = items[i];
          if (row.expired && item !== undefined && !matched.has(row.receipt_id)) {
            plan.deadLetters.push({ item, reason: 'park-expired' });
            plan.unpark.push(row.receipt_id);
          }
        }
        plan.parkRows = []; // those that did not match stay parked as they are
        await this.publish(plan);
        await this.write(plan, client);
        return { claimed: rows.rows.length, matched: matched.size, unmatched: plan.deadLetters.length };
      });
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  /** Evicts old entries of the in-memory cache. */
  maintain(now = Date.now()): void {
    this.correlator.sweep(now);
  }

  private parkedItem(row: { receipt_id: string; receipt: Buffer; record_key: string | null }): ReceiptItem {
    return {
      raw: this.deps.topics.receiptRaw.decode(row.receipt),
      recordKey: row.record_key,
      id: row.receipt_id,
      fromParked: true,
      bytes: row.receipt,
    };
  }

  /** Loads, from the dispatch index, every message one of these receipts may belong to. */
  private async preload(receipts: Receipt[], db: Queryable): Promise<void> {
    const keys: string[] = [];
    for (const r of receipts) {
      if (this.correlator.match(r) !== undefined) continue;
      for (const k of this.correlator.candidateKeysOf(r)) keys.push(`${r.connectorId}|${k}`);
    }
    if (keys.length === 0) return;
    const rows = await db.query<{
      message_id: string;
      part_index: number;
      connector_id: string;
      supplier_message_id: string;
      parts_total: number;
      attempt: number;
      accepted_at: Date;
    }>(
      `SELECT message_id, part_index, connector_id, supplier_message_id, parts_total, attempt, accepted_at
         FROM dlr_dispatch_index
        WHERE message_id = ANY(ARRAY(SELECT DISTINCT d.message_id
                                       FROM unnest($1::text[]) AS k(key)
                                       JOIN dlr_dispatch_index d ON d.keys @> ARRAY[k.key]))
        ORDER BY accepted_at`,
      [arrayLiteralOf(keys)],
    );
    for (const row of rows.rows) {
      // Replaying the accepted dispatch re-indexes its supplier id (a no-op when already known).
      this.correlator.onDispatch({
        hubMessageId: row.message_id,
        partIndex: row.part_index,
        partsTotal: row.parts_total,
        connectorId: row.connector_id,
        attempt: row.attempt,
        supplierMessageId: row.supplier_message_id,
        accepted: true,
        finalFailure: false,
        time: row.accepted_at.getTime(),
      });
    }
  }

  /**
   * Joins (or parks) the receipts of `items` into `plan`; returns them as domain receipts. With `hold`
   * (RECEIPT_HOLD), the first receipt that finds no dispatch and that `hold` holds ends the plan: it and
   * the items after it are left out (`heldAt`: its index).
   */
  private async planReceipts(
    allItems: ReceiptItem[],
    plan: Plan,
    db: Queryable,
    now: number,
    hold?: (index: number) => boolean,
  ): Promise<{ receipts: Receipt[]; heldAt?: number }> {
    let items = allItems;
    let receipts = items.map((i) => toReceipt(i.raw, now));
    await this.preload(receipts, db);
    let heldAt: number | undefined;
    if (hold !== undefined) {
      heldAt = receipts.findIndex(
        (r, i) =>
          this.correlator.match(r) === undefined && this.correlator.candidateKeysOf(r).length > 0 && hold(i),
      );
      if (heldAt < 0) heldAt = undefined;
      else {
        items = items.slice(0, heldAt);
        receipts = receipts.slice(0, heldAt);
      }
    }
    const receiptTopic = this.deps.topics.receiptRaw;
    const joinedIds = new Set<string>();
    items.forEach((item, i) => {
      const receipt = receipts[i];
      if (receipt === undefined) return;
      const outputs: CorrelatorOutput[] = this.correlator.onReceipt(receipt);
      this.correlator.clearParked(); // parked receipts live in Postgres
      let matched = false;
      for (const o of outputs) {
        if (o.type === 'matched') {
          matched = true;
          joinedIds.add(o.hubMessageId);
          const n = o.normalised;
          const err = n.status === 'DELIVERED' ? '000' : customerErr(n.err);
          plan.parts.push(
            SmsPartStatus.fromPartial({
              context: { messageId: o.hubMessageId },
              part: {
                partNumber: o.partIndex + 1,
                status: toProtoStatus(n.status),
                connectorId: n.connectorId,
                supplierMessageId: n.supplierMessageId ?? '',
                supplierError: n.err ?? '',
                ...(n.doneDate !== undefined ? { doneAt: new Date(n.doneDate) } : {}),
              },
              // 0: a receipt-made part state; the aggregation stage has the total from the dispatch.
              partTotal: 0,
              ...(customerError(n.status, err) ? { error: customerError(n.status, err) } : {}),
              // The receipt's arrival time (the end of the receipt latency).
              updatedAt: new Date(n.receivedAt),
            }),
          );
          // RECEIPT_ROW: written by the transaction that applies the part state (and writes the delivery it
          // causes), not by a statement of this stage: one statement fewer per receipt batch, and the row
          // is committed with the state it made
          plan.partTimeline.push(
            timelineRow(
              o.hubMessageId,
              `receipt/${item.id}`,
              'receipt',
              receiptTopic.name,
              n.receivedAt,
              item.bytes,
            ),
          );
          if (item.fromParked) plan.unpark.push(item.id);
        } else if (o.type === 'parked' && !item.fromParked) {
          parkedTotal.inc();
          plan.parkRows.push([
            item.id,
            receipt.connectorId,
            this.correlator.candidateKeysOf(receipt).map((k) => `${receipt.connectorId}|${k}`),
            item.bytes,
            item.recordKey,
          ]);
        } else if (o.type === 'unmatched') {
          plan.deadLetters.push({ item, reason: o.reason });
          if (item.fromParked) plan.unpark.push(item.id);
        }
      }
      if (matched) this.log.debug({ receiptId: item.id }, 'receipt joined');
    });
    // After the batch (a duplicate in the same batch still joins in memory): CACHE_IN_FLIGHT.
    this.correlator.forgetFinal(joinedIds);
    return heldAt === undefined ? { receipts } : { receipts, heldAt };
  }

  private async publish(plan: Plan): Promise<void> {
    const { producer, topics } = this.deps;
    const sends: Promise<void>[] =
      plan.parts.length > 0 ? [this.deps.applyParts(plan.parts, plan.partTimeline)] : [];
    for (const { item, reason } of plan.deadLetters) {
      sends.push(
        producer.produceRaw(this.deps.deadLetterTopic(), item.recordKey, item.bytes, {
          headers: {
            'x-dlq-source-topic': topics.receiptRaw.name,
            'x-dlq-error': `unmatched receipt: ${reason}`,
            'x-dlq-reason': reason,
            'x-dlq-time': new Date().toISOString(),
          },
          noTrace: true,
        }),
      );
    }
    await Promise.all(sends);
    for (const { reason } of plan.deadLetters) unmatchedTotal.inc({ reason });
    if (plan.deadLetters.length > 0) {
      this.log.warn(
        {
          receipts: plan.deadLetters.map((d) => ({
            id: d.item.id,
            connector: d.item.raw.connectorId,
            reason: d.reason,
          })),
        },
        'unmatched receipts dead-lettered',
      );
    }
  }

  private maxParams(): number {
    return this.deps.options.joinStatementMaxParams ?? ONE_STATEMENT_MAX_PARAMS;
  }

  /**
   * Writes the plan atomically: as one statement (writeStatement), which needs no transaction, so one
   * round trip instead of BEGIN, a statement per table and COMMIT; else in a transaction.
   */
  private async writeAtomically(plan: Plan): Promise<void> {
    const one = writeStatement(plan, this.maxParams());
    if (one === null) await withTransaction(this.deps.pool, (client) => this.write(plan, client));
    else if (one !== undefined) await this.deps.pool.query(one.text, one.values);
  }

  /** Writes the plan in the caller's transaction: one statement when it can (writeStatement). */
  private async write(plan: Plan, client: PoolClient): Promise<void> {
    const one = writeStatement(plan, this.maxParams());
    if (one !== null) {
      if (one !== undefined) await client.query(one.text, one.values);
      return;
    }
    if (plan.indexRows[0]?.length === INDEX_EVENT_COLUMNS.length) {
      for (let i = 0; i < plan.indexRows.length; i += INDEX_EVENT_CHUNK) {
        const values: unknown[] = [];
        const text = asOneStatement(
          indexEventInserts(plan.indexRows.slice(i, i + INDEX_EVENT_CHUNK), values),
        );
        if (text !== undefined) await client.query(text, values);
      }
    } else {
      await insertRows(
        client,
        'dlr_dispatch_index',
        INDEX_COLUMNS,
        plan.indexRows,
        'ON CONFLICT DO NOTHING',
        INDEX_CASTS,
      );
    }
    await insertUnnest(client, 'dlr_timeline', TIMELINE_COLUMNS, plan.timeline, 'ON CONFLICT DO NOTHING');
    await insertRows(
      client,
      'dlr_parked_receipts',
      PARK_COLUMNS,
      plan.parkRows,
      'ON CONFLICT DO NOTHING',
      PARK_CASTS,
    );
    if (plan.unpark.length > 0) await client.query(UNPARK, [arrayLiteralOf(plan.unpark)]);
  }
}

const INDEX_COLUMNS = [
  'message_id',
  'part_index',
  'connector_id',
  'supplier_message_id',
  'parts_total',
  'attempt',
  'accepted_at',
  'keys',
  'context',
  'segments',
];
const INDEX_CASTS = ['uuid', undefined, undefined, undefined, undefined, undefined, undefined, 'text[]'];
/** INDEX_COLUMNS and the dispatch's timeline event (DISPATCH_EVENT_IN_INDEX), with their types. */
const INDEX_EVENT_COLUMNS: readonly TypedColumn[] = [
  ['message_id', 'uuid'],
  ['part_index', 'integer'],
  ['connector_id', 'text'],
  ['supplier_message_id', 'text'],
  ['parts_total', 'integer'],
  ['attempt', 'integer'],
  ['accepted_at', 'timestamptz'],
  ['keys', 'text[]'],
  ['context', 'bytea'],
  ['segments', 'integer'],
  ['topic', 'text'],
  ['payload', 'bytea'],
];
/** Index rows per statement on the write path statement by statement (12 parameters each). */
const INDEX_EVENT_CHUNK = 2_000;

/** dlr_timeline.event_key of a dispatch (the same expression in SQL: indexEventInserts, grpc.ts TIMELINE_OF). */
export function dispatchEventKey(partIndex: number, attempt: number, connectorId: string): string {
  return `dispatch/${partIndex}/${attempt}/${connectorId}`;
}

/*
 * DISPATCH_EVENT_IN_INDEX (migration 0404): an accepted dispatch's timeline event (its topic and protobuf
 * bytes) is kept in its dlr_dispatch_index row, written anyway, instead of a dlr_timeline row of its own:
 * one row and one primary-key entry fewer per message. GetMessage reads the index rows' events with the
 * timeline (grpc.ts TIMELINE_OF). The two tables' keys differ (the index: part, connector and supplier id;
 * the timeline: part, attempt and connector), so the event of a dispatch whose index row exists already (a
 * redelivery, or another attempt the supplier gave the same id) is written to dlr_timeline as before, when
 * its index insert finds that conflict (RETURNING, in the same statement); GetMessage keeps one event per
 * timeline key, the dlr_timeline row first (as ON CONFLICT DO NOTHING kept the first written). Retention
 * deletes index rows by accepted_at, the event's time, with the same cutoff as the timeline's.
 */
/**
 * The statements (for asOneStatement: they refer to each other as w0 and w1, so they come first) that insert
 * index rows with their events (INDEX_EVENT_COLUMNS) and the dlr_timeline row of each event whose index row
 * was not inserted (DISPATCH_EVENT_IN_INDEX); parameters appended to `values`.
 */
function indexEventInserts(rows: readonly unknown[][], values: unknown[]): string[] {
  if (rows.length === 0) return [];
  const names = INDEX_EVENT_COLUMNS.map(([name]) => name).join(', ');
  const tuples = rows.map((row) => {
    const ph = INDEX_EVENT_COLUMNS.map(([, type], c) => {
      const v = row[c];
      values.push(v instanceof Date ? v.toISOString() : v);
      return `$${values.length}::${type}`;
    });
    return `(${ph.join(', ')})`;
  });
  // the primary key, and the attempt: which of the batch's rows with one key was inserted
  const pk = ['message_id', 'part_index', 'connector_id', 'supplier_message_id', 'attempt'];
  return [
    `SELECT * FROM (VALUES ${tuples.join(', ')}) AS v(${names})`,
    `INSERT INTO dlr_dispatch_index (${names}) SELECT ${names} FROM w0 ON CONFLICT DO NOTHING RETURNING ${pk.join(', ')}`,
    `INSERT INTO dlr_timeline (message_id, event_key, topic, kind, event_time, flow_order, payload)
     SELECT v.message_id, 'dispatch/' || v.part_index || '/' || v.attempt || '/' || v.connector_id, v.topic,
            'dispatched', v.accepted_at, ${FLOW_ORDER.dispatched}, v.payload
       FROM w0 AS v
      WHERE NOT EXISTS (SELECT 1 FROM w1 AS i WHERE ${pk.map((c) => `i.${c} = v.${c}`).join(' AND ')})
     ON CONFLICT DO NOTHING`,
  ];
}
const PARK_COLUMNS = ['receipt_id', 'connector_id', 'keys', 'receipt', 'record_key'];
const PARK_CASTS = [undefined, undefined, 'text[]'];
const UNPARK = 'DELETE FROM dlr_parked_receipts WHERE receipt_id = ANY($1::text[])';

/**
 * A plan's writes (dispatch index rows, timeline rows, parked receipts, unparked ones) as ONE statement
 * (asOneStatement: the first ones as CTEs), undefined when there is nothing to write, null when it cannot
 * be one: a plan that parks and unparks receipts (both on dlr_parked_receipts), or more than `maxParams`
 * parameters (counted as 12 per index or parked row; the timeline's unnest takes a fixed few).
 */
export function writeStatement(
  plan: Pick<Plan, 'timeline' | 'indexRows' | 'parkRows' | 'unpark'>,
  maxParams: number,
): { text: string; values: unknown[] } | null | undefined {
  if (plan.parkRows.length > 0 && plan.unpark.length > 0) return null;
  if ((plan.indexRows.length + plan.parkRows.length) * 12 > maxParams) return null;
  const values: unknown[] = [];
  const texts = [
    // first: its statements refer to each other by position (indexEventInserts)
    ...(plan.indexRows[0]?.length === INDEX_EVENT_COLUMNS.length
      ? indexEventInserts(plan.indexRows, values)
      : valuesInserts(
          'dlr_dispatch_index',
          INDEX_COLUMNS,
          plan.indexRows,
          'ON CONFLICT DO NOTHING',
          INDEX_CASTS,
          values,
        )),
    ...(plan.timeline.length > 0
      ? [unnestInsert('dlr_timeline', TIMELINE_COLUMNS, plan.timeline, 'ON CONFLICT DO NOTHING', values).text]
      : []),
    ...valuesInserts(
      'dlr_parked_receipts',
      PARK_COLUMNS,
      plan.parkRows,
      'ON CONFLICT DO NOTHING',
      PARK_CASTS,
      values,
    ),
  ];
  if (plan.unpark.length > 0) {
    values.push(arrayLiteralOf(plan.unpark));
    texts.push(`DELETE FROM dlr_parked_receipts WHERE receipt_id = ANY($${values.length}::text[])`);
  }
  const text = asOneStatement(texts);
  return text === undefined ? undefined : { text, values };
}

/** Ids of the parked receipts under any of `keys` (KEY_PROBE; a receipt under two keys comes back once). */
/** The receipts of these parked rows ([id, connector, keys, ...]) whose dispatch is indexed now. */
async function indexedNow(pool: Pool, parkRows: readonly unknown[][]): Promise<string[]> {
  const ids: string[] = [];
  const keys: string[] = [];
  for (const row of parkRows)
    for (const key of row[2] as string[]) {
      ids.push(row[0] as string);
      keys.push(key);
    }
  if (keys.length === 0) return [];
  const res = await pool.query<{ receipt_id: string }>(
    `SELECT DISTINCT p.id AS receipt_id
       FROM unnest($1::text[], $2::text[]) AS p(id, key)
      WHERE EXISTS (SELECT 1 FROM dlr_dispatch_index d WHERE d.keys @> ARRAY[p.key])`,
    [arrayLiteralOf(ids), arrayLiteralOf(keys)],
  );
  return res.rows.map((r) => r.receipt_id);
}

async function parkedIdsFor(pool: Pool, keys: readonly string[]): Promise<string[]> {
  const res = await pool.query<{ receipt_id: string }>(
    `SELECT DISTINCT p.receipt_id
       FROM unnest($1::text[]) AS k(key)
       JOIN dlr_parked_receipts p ON p.keys @> ARRAY[k.key]`,
    [arrayLiteralOf(keys)],
  );
  return res.rows.map((r) => r.receipt_id);
}
