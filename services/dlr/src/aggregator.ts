// Aggregation stage: everything keyed by hub message id (sms.submitted.v1, sms.routed.v1,
// sms.rejected.v1 and the internal dlr.parts.v1).
//
// Each batch: lock the batch's messages (transaction-scoped advisory locks, so two instances never
// read-modify-write one message at once, e.g. during a rebalance), load their rows, apply the events
// with the reducer (domain/timeline.ts, in place), produce the resulting sms.delivery.v1 events, then write
// the rows (UPDATE of those read, INSERT of new ones) and timeline events (INSERT ... ON CONFLICT DO
// NOTHING), multi-row, and commit.
//
// Idempotency: the stored reducer state says which part states are known and whether the final
// delivery was sent; a redelivered event changes nothing and produces nothing. A crash after producing
// and before the commit makes the retry produce the same event again with the same `revision`
// (consumers keep the highest revision), never a different outcome.
import type { Logger } from '@smshub/logging';
import { arrayLiteralOf, GroupCommit, withTransaction, type Pool } from '@smshub/db';
import type { ConsumedRecord, TypedProducer } from '@smshub/kafka';
import {
  DeliveryStatus,
  MessageContext,
  SmsDelivery,
  SmsPartStatus,
  type DeliveryStats as DeliveryStatsEvent,
  type SmsRejected,
  type SmsRouted,
  type SmsSubmitted,
} from '@smshub/contracts';
import { expiryDeadline, isExpired, type ExpiryConfig } from './domain/expiry.js';
import { ALL_STATUSES, isFinal } from './domain/status.js';
import { DeliveryStats, sampleFromOutput } from './domain/stats.js';
import {
  applyEventInPlace,
  dispatchUnknown,
  type DlrOutput,
  type MessageState,
  type TimelineEvent,
} from './domain/timeline.js';
import { dispatchesByMessage, lastConnectorOf, segmentsOf, type IndexRow } from './dispatch-replay.js';
import type { DeliveryNotification, DlrStatus } from './domain/types.js';
import type { DlrOptions } from './config.js';
import type { DlrTopics } from './topics.js';
import {
  contextFromSubmitted,
  customerError,
  destKeyOf,
  errOf,
  fromProtoStatus,
  mergeContext,
  ms,
  toProtoStatus,
} from './mapping.js';
import { deliveriesTotal, deliveryRatio, expiredTotal, ignoredTotal, receiptLatency } from './metrics.js';
import { insertUnnestAll, withLockedMessages, type TypedColumn } from './sql.js';
import { asBuffer, encodeBuffer } from './encode.js';
import { TIMELINE_COLUMNS, timelineRow, type TimelineRow } from './timeline-rows.js';
import { RerouteOrders, rerouteTermsOf, type RerouteOrder } from './reroute.js';
import { packState, STORED_STATE, unpackState, type StoredState } from './stored-state.js';

/** Messages expired per sweep transaction. */
export const EXPIRY_SWEEP_LIMIT = 500;

/** Events per message-row transaction at most (a consumed batch is never split). */
export const MAX_EVENTS_PER_TRANSACTION = 2_000;

interface AggInput {
  hubId: string;
  context?: MessageContext;
  event?: TimelineEvent;
  timeline?: TimelineRow;
  /** Customer-facing text for the error of a rejection. */
  errorMessage?: string;
  /** An accepted dispatch replayed from dlr_dispatch_index: applied only when the state lacks it. */
  replay?: true;
  /** The timeline row of the receipt that made this part state (RECEIPT_IN_DELIVERY). */
  receipt?: TimelineRow;
}

/*
 * RECEIPT_IN_DELIVERY (migration 0405): a joined receipt's timeline row (written by this stage's
 * transaction with its part state: RECEIPT_ROW in joiner.ts) is folded into the dlr_timeline row of the
 * first delivery its part state causes (receipt_key, receipt_topic, receipt_time, receipt), instead of a
 * row of its own: one row and one primary-key entry fewer per message. A receipt that causes no delivery
 * keeps its own row. GetMessage reads the folded receipt back as the entry it was (grpc.ts TIMELINE_OF), one
 * entry per event key (a receipt applied again after a crash, which causes no delivery then, has its own
 * row too). DLR_RECEIPT_EVENT=timeline writes every receipt in a row of its own, as before 0405.
 */
/** dlr_timeline rows as this stage writes them: TIMELINE_COLUMNS and the folded receipt's. */
const AGG_TIMELINE_COLUMNS: readonly TypedColumn[] = [
  ...TIMELINE_COLUMNS,
  ['receipt_key', 'text'],
  ['receipt_topic', 'text'],
  ['receipt_time', 'timestamptz'],
  ['receipt', 'bytea'],
];

interface Loaded {
  state?: MessageState;
  ctx?: MessageContext;
  revision: number;
  changed: boolean;
  /** Read from its row (written back with an UPDATE), else new (an INSERT). */
  stored: boolean;
  /** The stored encoding of `ctx`, while `ctx` is unchanged (written back without re-encoding). */
  ctxBytes?: Buffer;
}

export const MESSAGE_COLUMNS: readonly TypedColumn[] = [
  ['message_id', 'uuid'],
  ['account_id', 'text'],
  ['system_id', 'text'],
  ['customer_message_id', 'text'],
  ['destination', 'text'],
  ['status', 'smallint'],
  ['final', 'boolean'],
  ['connector_id', 'text'],
  ['parts_total', 'integer'],
  ['parts_delivered', 'integer'],
  ['segments', 'integer'],
  ['revision', 'integer'],
  ['received_at', 'timestamptz'],
  ['done_at', 'timestamptz'],
  ['expires_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['context', 'bytea'],
  // one of the two (STORED_STATE); the other NULL
  ['state', 'jsonb'],
  ['state_json', 'json'],
];
/** How the rows were written before session 12 (an upsert of every row); bench/state-bench.ts compares. */
export const MESSAGE_UPSERT = `ON CONFLICT (message_id) DO UPDATE SET ${MESSAGE_COLUMNS.slice(1)
  .map(([c]) => `${c} = EXCLUDED.${c}`)
  .join(', ')}`;

export interface AggregatorDeps {
  options: DlrOptions;
  logger: Logger;
  producer: TypedProducer;
  pool: Pool;
  topics: DlrTopics;
}

export class Aggregator {
  readonly stats = new DeliveryStats();
  private readonly log: Logger;
  private readonly reroutes: RerouteOrders;
  /**
   * The batches being handled at the same time (partitions of six topics, and the join stage's part
   * states) share one transaction: a message's submitted, routed and dispatch events, which arrive
   * within milliseconds on different topics, are applied in order and its row is written once instead
   * of once per batch; and the lock, read and write statements are paid once per round.
   */
  private readonly commits = new GroupCommit<AggInput, void>({
    commit: (inputs) => this.commit(inputs),
    maxItems: MAX_EVENTS_PER_TRANSACTION,
  });

  constructor(private readonly deps: AggregatorDeps) {
    this.log = deps.logger.child({ component: 'aggregate' });
    this.reroutes = new RerouteOrders(deps);
  }

  onSubmitted(records: ConsumedRecord<SmsSubmitted>[]): Promise<void> {
    const topic = this.deps.topics.submitted;
    return this.process(
      records.flatMap((r) => {
        const s = r.value;
        if (!s.messageId) return [];
        const time = ms(s.receivedAt) ?? Number(r.timestamp);
        const event: TimelineEvent = {
          type: 'submitted',
          hubMessageId: s.messageId,
          accountId: s.accountId,
          partsTotal: 1,
          time,
        };
        const validUntil = ms(s.validityUntil);
        if (validUntil !== undefined) event.validUntil = validUntil;
        return [
          {
            hubId: s.messageId,
            context: contextFromSubmitted(s),
            event,
            // A message the scheduler released (released_at set) is in the timeline as "released", at
            // its release time, next to the "held" entry (and the first "submitted" of a quiet-hours hold).
            timeline:
              s.releasedAt !== undefined
                ? timelineRow(
                    s.messageId,
                    'released',
                    'released',
                    topic.name,
                    s.releasedAt.getTime(),
                    r.bytes ?? topic.encode(s),
                  )
                : timelineRow(
                    s.messageId,
                    'submitted',
                    'submitted',
                    topic.name,
                    time,
                    r.bytes ?? topic.encode(s),
                  ),
          },
        ];
      }),
    );
  }

  /**
   * sms.scheduled.v1: a "held" timeline entry (the record carries hold_until and hold_reason), at the
   * time the hub decided to hold it (now for a quiet-hours hold; acceptance for a customer's schedule).
   */
  onScheduled(records: ConsumedRecord<SmsSubmitted>[]): Promise<void> {
    const topic = this.deps.topics.scheduled;
    if (!topic) return Promise.resolve();
    return this.process(
      records.flatMap((r) => {
        const s = r.value;
        if (!s.messageId) return [];
        const time = Number(r.timestamp);
        return [
          {
            hubId: s.messageId,
            context: contextFromSubmitted(s),
            timeline: timelineRow(
              s.messageId,
              `held/${time}`,
              'held',
              topic.name,
              time,
              r.bytes ?? topic.encode(s),
            ),
          },
        ];
      }),
    );
  }

  onRouted(records: ConsumedRecord<SmsRouted>[]): Promise<void> {
    const topic = this.deps.topics.routed;
    return this.process(
      records.flatMap((r) => {
        const v = r.value;
        const hubId = v.message?.messageId;
        if (!hubId || v.message === undefined) return [];
        const time = ms(v.routedAt) ?? Number(r.timestamp);
        const context = contextFromSubmitted(v.message);
        if (v.destinationInfo) context.destinationInfo = v.destinationInfo;
        return [
          {
            hubId,
            context,
            event: {
              type: 'routed',
              hubMessageId: hubId,
              connectorId: v.candidates[0]?.connectorId ?? '',
              time,
              // Only when this dlr can order re-routes (sms.reroute.v1 given).
              ...(this.deps.topics.reroute ? { reroute: rerouteTermsOf(v) } : {}),
            },
            timeline: timelineRow(
              hubId,
              `routed/${time}`,
              'routed',
              topic.name,
              time,
              r.bytes ?? topic.encode(v),
            ),
          },
        ];
      }),
    );
  }

  onRejected(records: ConsumedRecord<SmsRejected>[]): Promise<void> {
    const topic = this.deps.topics.rejected;
    return this.process(
      records.flatMap((r) => {
        const v = r.value;
        const hubId = v.message?.messageId;
        if (!hubId || v.message === undefined) return [];
        const time = ms(v.rejectedAt) ?? Number(r.timestamp);
        const context = contextFromSubmitted(v.message);
        if (v.destinationInfo) context.destinationInfo = v.destinationInfo;
        const event: TimelineEvent = { type: 'rejected', hubMessageId: hubId, err: errOf(v.error), time };
        if (v.reason) event.reason = v.reason;
        if (v.error?.code === 'EXPIRED') event.expired = true;
        const input: AggInput = {
          hubId,
          context,
          event,
          timeline: timelineRow(hubId, 'rejected', 'rejected', topic.name, time, r.bytes ?? topic.encode(v)),
        };
        if (v.error?.message) input.errorMessage = v.error.message;
        return [input];
      }),
    );
  }

  /** Part states read from dlr.parts.v1: expiry orders, and part states of an earlier version's join stage. */
  onParts(records: ConsumedRecord<SmsPartStatus>[]): Promise<void> {
    return this.process(records.flatMap((r) => partInputs(r.value, Number(r.timestamp))));
  }

  /**
   * Part states decided by this process's join stage, applied at once instead of through dlr.parts.v1
   * (a produce, a broker append and a fetch per part saved). The caller applies a dispatch's state
   * before the dispatch can be joined to a receipt, which keeps the order the topic used to give.
   */
  applyParts(
    parts: readonly SmsPartStatus[],
    timeline: readonly (TimelineRow | undefined)[] = [],
  ): Promise<void> {
    const now = Date.now();
    const fold = this.deps.options.receiptEvent !== 'timeline';
    const inputs: AggInput[] = [];
    // each part state's timeline row (its receipt: RECEIPT_ROW in joiner.ts), in the same transaction
    parts.forEach((p, i) => {
      const row = timeline[i];
      const own = partInputs(p, now);
      const last = own.at(-1);
      if (row !== undefined && fold && last?.event !== undefined) last.receipt = row;
      else if (row !== undefined) inputs.push({ hubId: row[0], timeline: row });
      inputs.push(...own);
    });
    return this.process(inputs);
  }

  /**
   * Applies `inputs` (in order) to the stored messages; produces deliveries; writes rows. Resolves once
   * they are committed, with the inputs of other batches pushed meanwhile (group commit).
   */
  process(inputs: AggInput[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve();
    return this.commits.push(inputs);
  }

  private async commit(inputs: AggInput[]): Promise<void> {
    const ids = [...new Set(inputs.map((i) => i.hubId))];
    const now = Date.now();
    const o = this.deps.options;
    const expiryConfig: ExpiryConfig = {
      defaultValidityMs: o.defaultValidityMs,
      graceMs: o.expiryGraceMs,
      ...(o.rerouteTimeoutMs !== undefined ? { rerouteTimeoutMs: o.rerouteTimeoutMs } : {}),
    };
    // dlr_timeline holds the whole timeline; the stored state keeps only its first entry (the message's
    // start when the submitted event has not been seen yet), so the JSON written on every event stays small.
    const tlConfig = { notifyIntermediate: o.intermediateReceipts, maxTimeline: 1 };
    // Round trips: BEGIN with the locks; the rows with the dispatches to replay; the rows and timeline
    // written; COMMIT (and a routed record's read when a re-route is ordered).
    const { samples, deliveries, expired, ignored } = await withLockedMessages(
      this.deps.pool,
      ids,
      async (client) => {
        const loaded = new Map<string, Loaded>();
        const res = await client.query<LoadedRow>(LOAD_MESSAGES, [
          arrayLiteralOf(ids),
          arrayLiteralOf(replayCandidates(inputs)),
        ]);
        const dispatches: IndexRow[] = [];
        for (const row of res.rows) {
          if (row.part_index !== null) {
            dispatches.push(row as IndexRow);
            continue;
          }
          loaded.set(row.message_id, {
            state: unpackState(row.state, row.message_id, row.account_id),
            ctx: MessageContext.decode(row.context),
            ctxBytes: row.context,
            revision: row.revision,
            changed: false,
            stored: true,
          });
        }
        res.rows.length = 0;
        const timeline: TimelineRow[] = [];
        /** Receipts folded into the delivery row at that index of `timeline` (RECEIPT_IN_DELIVERY). */
        const folded = new Map<number, TimelineRow>();
        const deliveries: SmsDelivery[] = [];
        const ordered = withReplays(inputs, loaded, dispatches);
        const encoded: { key: string; hubId: string; bytes: Buffer }[] = [];
        const samples: DlrOutput[] = [];
        const ignored: string[] = [];
        const reroutes: RerouteOrder[] = [];
        let expired = 0;
        for (const input of ordered) {
          let m = loaded.get(input.hubId);
          if (m === undefined) loaded.set(input.hubId, (m = { revision: 0, changed: false, stored: false }));
          if (input.replay && !(input.event?.type === 'part' && dispatchUnknown(m.state, input.event)))
            continue;
          if (input.context !== undefined) {
            m.ctx = mergeContext(m.ctx, input.context);
            delete m.ctxBytes;
            m.changed = true;
          }
          if (input.timeline !== undefined) timeline.push(input.timeline);
          // the receipt's own row, replaced by the first delivery it causes (RECEIPT_IN_DELIVERY)
          let receiptAt = -1;
          if (input.receipt !== undefined) receiptAt = timeline.push(input.receipt) - 1;
          const event = input.event;
          if (event === undefined) continue;
          if (event.type === 'expire') {
            if (m.state === undefined) continue;
            if (!isExpired(m.state, event.time, expiryConfig)) {
              // An order made from a deadline the replayed dispatches moved (a re-routed part accepted
              // again): not due; the row is written back with its deadline recomputed.
              if (!m.state.finalNotified) m.changed = true;
              continue;
            }
          }
          const destKey = destKeyOf(m.ctx);
          if (m.state !== undefined && m.state.destKey === undefined && destKey !== undefined) {
            m.state.destKey = destKey;
            m.changed = true;
          }
          if (destKey !== undefined && (event.type === 'submitted' || event.type === 'part'))
            event.destKey ??= destKey;
          // in place: this transaction owns the states it read (a retry reads them again), and each
          // delivery is built from the state at once (no copy of the state per event)
          const { state, outputs, changed } = applyEventInPlace(m.state, event, tlConfig);
          if (changed) {
            m.state = state;
            m.changed = true;
          }
          for (const out of outputs) {
            if (out.type === 'delivery') {
              m.revision += 1;
              const d = this.delivery(out.notification, state, m.ctx, m.revision, now, input.errorMessage);
              // encoded once: the same bytes go to Kafka and to the timeline
              const bytes = asBuffer(this.deps.topics.delivery.encode(d));
              deliveries.push(d);
              encoded.push({ key: this.deps.topics.delivery.key(d), hubId: input.hubId, bytes });
              const row = timelineRow(
                input.hubId,
                `delivery/${m.revision}`,
                'delivery',
                this.deps.topics.delivery.name,
                now, // when dlr produced it (the outcome time, e.g. a minute-precision done date, is in the event)
                bytes,
              );
              const receipt = receiptAt >= 0 ? timeline[receiptAt] : undefined;
              if (receipt !== undefined) {
                folded.set(receiptAt, receipt);
                timeline[receiptAt] = row;
                receiptAt = -1;
              } else {
                timeline.push(row);
              }
              if (event.type === 'expire' && out.notification.final) expired++;
            } else if (out.type === 'part-final') {
              samples.push(out);
            } else if (out.type === 'ignored') {
              ignored.push(out.reason);
            } else if (out.type === 'reroute') {
              reroutes.push({ hubId: input.hubId, partIndex: out.partIndex, done: out.done });
            }
          }
        }
        timeline.push(...(await this.reroutes.order(client, reroutes, timeline, now)));
        const deliveryTopic = this.deps.topics.delivery.name;
        await Promise.all(
          encoded.map((e) =>
            this.deps.producer.produceRaw(deliveryTopic, e.key, e.bytes, { messageId: e.hubId }),
          ),
        );
        // Rows read above are updated, the others inserted. The advisory locks make this
        // transaction the only writer of these messages' rows, so a row it did not read does not exist;
        // should one appear anyway (a writer without the lock), the insert fails, the batch is retried
        // and reads it.
        const inserted: unknown[][] = [];
        const updated: unknown[][] = [];
        for (const [id, m] of loaded) {
          if (!m.changed || m.state === undefined) continue;
          (m.stored ? updated : inserted).push(this.row(id, m, m.state, now, expiryConfig));
        }
        loaded.clear();
        // one statement (different tables; different rows of dlr_messages)
        await insertUnnestAll(client, [
          { table: 'dlr_messages', columns: MESSAGE_COLUMNS, rows: updated, update: true },
          { table: 'dlr_messages', columns: MESSAGE_COLUMNS, rows: inserted },
          {
            table: 'dlr_timeline',
            columns: AGG_TIMELINE_COLUMNS,
            rows: timeline.map((row, i) => {
              const r = folded.get(i);
              return r === undefined ? [...row, null, null, null, null] : [...row, r[1], r[2], r[4], r[6]];
            }),
            suffix: 'ON CONFLICT DO NOTHING',
          },
        ]);
        return { samples, deliveries, expired, ignored };
      },
    );
    // after the commit: figures count each outcome once even when a batch is retried
    for (const s of samples) {
      const sample = sampleFromOutput(s);
      if (sample !== undefined) this.stats.record(sample);
      if (s.type === 'part-final' && s.latencyMs !== undefined) receiptLatency.observe(s.latencyMs / 1000);
    }
    for (const d of deliveries) {
      deliveriesTotal.inc({ status: DeliveryStatus[d.status] ?? String(d.status), final: String(d.final) });
    }
    for (const reason of ignored) ignoredTotal.inc({ reason });
    if (expired > 0) expiredTotal.inc(expired);
  }

  private delivery(
    n: DeliveryNotification,
    state: MessageState,
    ctx: MessageContext | undefined,
    revision: number,
    now: number,
    errorMessage: string | undefined,
  ): SmsDelivery {
    const error = n.final
      ? customerError(n.status, n.err, n.status === 'REJECTED' ? errorMessage : undefined)
      : undefined;
    return SmsDelivery.fromPartial({
      context: ctx ?? { messageId: state.hubMessageId },
      status: toProtoStatus(n.status),
      final: n.final,
      ...(error ? { error } : {}),
      parts: state.parts.map((p, i) => ({
        partNumber: i + 1,
        status: toProtoStatus(p.status),
        connectorId: p.connectorId ?? '',
        supplierMessageId: p.supplierIds.at(-1)?.supplierMessageId ?? '',
        supplierError: isFinal(p.status) && p.err !== '000' ? p.err : '',
        ...(p.finalAt !== undefined && isFinal(p.status) ? { doneAt: new Date(p.finalAt) } : {}),
      })),
      ...(n.final ? { doneAt: new Date(n.time) } : {}),
      connectorId: n.connectorId ?? '',
      segments: state.parts.reduce((a, p) => a + (p.segments ?? 0), 0),
      revision,
      updatedAt: new Date(now),
      // A re-routed message: the failed attempt's connector (rating records its cost apart). Not when the
      // outcome is the failed attempt's own (the extra attempt never started: domain/expiry.ts).
      ...(n.final && state.reroute?.done !== undefined && n.connectorId !== state.reroute.done.from
        ? {
            reroutedFromConnectorId: state.reroute.done.from,
            // Its own outcome, for its internal cost record (UNDELIVERABLE when not known).
            reroutedFromStatus: toProtoStatus(
              (ALL_STATUSES as readonly string[]).includes(state.reroute.done.status ?? '')
                ? (state.reroute.done.status as DlrStatus)
                : 'UNDELIVERABLE',
            ),
          }
        : {}),
    });
  }

  private row(
    id: string,
    m: Loaded,
    state: MessageState,
    now: number,
    expiryConfig: ExpiryConfig,
  ): unknown[] {
    const ctx = m.ctx ?? MessageContext.fromPartial({ messageId: id });
    const final = state.finalNotified;
    const lastConnector = lastConnectorOf(state);
    const accountId = ctx.accountId || state.accountId || '';
    const whole = this.deps.options.stateFormat === 'jsonb';
    return [
      id,
      accountId,
      ctx.systemId,
      ctx.customerMessageId,
      ctx.destination?.address ?? '',
      toProtoStatus(state.status),
      final,
      lastConnector,
      state.partsTotal,
      state.parts.filter((p) => p.status === 'DELIVERED').length,
      segmentsOf(state),
      m.revision,
      new Date(ms(ctx.receivedAt) ?? state.submittedAt ?? state.timeline[0]?.time ?? now),
      final && state.finalAt !== undefined ? new Date(state.finalAt) : null,
      final ? null : new Date(expiryDeadline(state, expiryConfig)),
      new Date(now),
      m.ctxBytes ?? encodeBuffer(MessageContext, ctx),
      whole ? JSON.stringify(state) : null,
      whole ? null : packState(state, accountId),
    ];
  }

  /**
   * Messages past their expiry deadline get an expire order on dlr.parts.v1 (part 0 = all pending parts),
   * so the instance owning the message's partition applies it like any other event. The deadline is
   * pushed back meanwhile, so a lost order is re-sent later and concurrent sweeps do not repeat it.
   */
  async sweepExpiry(now = Date.now()): Promise<number> {
    const { pool, producer, topics, options } = this.deps;
    return withTransaction(pool, async (client) => {
      const res = await client.query<{ message_id: string; context: Buffer }>(
        `SELECT message_id, context FROM dlr_messages
          WHERE NOT final AND expires_at <= $1
          ORDER BY expires_at LIMIT ${EXPIRY_SWEEP_LIMIT} FOR UPDATE SKIP LOCKED`,
        [new Date(now)],
      );
      if (res.rows.length === 0) return 0;
      await Promise.all(
        res.rows.map((row) =>
          producer.produce(
            topics.partStatus,
            SmsPartStatus.fromPartial({
              context: MessageContext.decode(row.context),
              part: { partNumber: 0, status: DeliveryStatus.DELIVERY_STATUS_EXPIRED },
              updatedAt: new Date(now),
            }),
          ),
        ),
      );
      await client.query('UPDATE dlr_messages SET expires_at = $2 WHERE message_id = ANY($1::uuid[])', [
        res.rows.map((r) => r.message_id),
        new Date(now + Math.max(60_000, options.sweepIntervalMs * 6)),
      ]);
      return res.rows.length;
    });
  }

  /** Deletes messages, timelines and dispatch index entries older than the retention. */
  async retention(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.deps.options.retentionDays * 86_400_000);
    const { pool } = this.deps;
    let deleted = 0;
    const chunked = async (table: string, column: string): Promise<number> => {
      let total = 0;
      for (;;) {
        const r = await pool.query(
          `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT 5000)`,
          [cutoff],
        );
        total += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < 5000) return total;
      }
    };
    deleted += await chunked('dlr_messages', 'received_at');
    await chunked('dlr_timeline', 'event_time');
    await chunked('dlr_dispatch_index', 'accepted_at');
    if (deleted > 0) this.log.info({ deleted, cutoff }, 'retention: old messages deleted');
    return deleted;
  }

  /** The statistics of every route over the shortest window, as delivery.stats.v1 records. */
  statsEvents(now = Date.now()): DeliveryStatsEvent[] {
    const out: DeliveryStatsEvent[] = [];
    for (const route of this.stats.snapshot(now)) {
      const w = route.windows[0];
      if (w === undefined || w.finals === 0) continue;
      const [kind, value] = splitDestKey(route.destKey);
      if (value === '') continue;
      const ratio = w.deliveryRatio ?? 0;
      deliveryRatio.set({ connector: route.connectorId, prefix: route.destKey }, ratio);
      const windowMs = windowLength(w.window);
      out.push({
        connectorId: route.connectorId,
        destination: kind === 'mccmnc' ? { $case: 'mccMnc', value } : { $case: 'prefix', value },
        windowStart: new Date(now - windowMs),
        windowEnd: new Date(now),
        accepted: BigInt(w.finals),
        delivered: BigInt(w.delivered),
        failed: BigInt(w.finals - w.delivered),
        deliveryRatioPpm: Math.round(ratio * 1_000_000),
        latencyP50Ms: Math.min(0xffffffff, w.latency.p50 ?? 0),
        latencyP90Ms: Math.min(0xffffffff, w.latency.p90 ?? 0),
        latencyP99Ms: Math.min(0xffffffff, w.latency.p99 ?? 0),
        computedAt: new Date(now),
      });
    }
    return out;
  }

  async publishStats(now = Date.now()): Promise<number> {
    const events = this.statsEvents(now);
    await Promise.all(events.map((e) => this.deps.producer.produce(this.deps.topics.deliveryStats, e)));
    return events.length;
  }
}

function splitDestKey(destKey: string): ['prefix' | 'mccmnc', string] {
  if (destKey.startsWith('mccmnc:')) return ['mccmnc', destKey.slice('mccmnc:'.length)];
  if (destKey.startsWith('prefix:')) return ['prefix', destKey.slice('prefix:'.length)];
  return ['prefix', destKey];
}

/** Length of a statistics window from its name ("5m", "1h"). */
function windowLength(name: string): number {
  const m = /^(\d+)([smh])$/.exec(name);
  if (!m) return 0;
  const n = Number(m[1]);
  return n * (m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : 1000);
}

/** The aggregation input of one part state (none for a malformed one). */
function partInputs(v: SmsPartStatus, timestamp: number): AggInput[] {
  const hubId = v.context?.messageId;
  const part = v.part;
  if (!hubId || part === undefined) return [];
  const time = ms(v.updatedAt) ?? timestamp;
  const status = fromProtoStatus(part.status);
  if (part.partNumber === 0) {
    // part 0 = every pending part: the hub's expiry sweep (see sweepExpiry)
    if (status !== 'EXPIRED') return [];
    return [{ hubId, event: { type: 'expire', hubMessageId: hubId, time } }];
  }
  if (status === undefined) return [];
  const err = v.error ? String(Math.min(999, v.error.receiptError)).padStart(3, '0') : '000';
  const event: TimelineEvent = {
    type: 'part',
    hubMessageId: hubId,
    partIndex: part.partNumber - 1,
    partsTotal: Math.max(1, v.partTotal),
    status,
    err,
    time,
  };
  if (part.connectorId) event.connectorId = part.connectorId;
  if (part.supplierMessageId) event.supplierMessageId = part.supplierMessageId;
  // dispatch-made part states carry the part total; receipt-made ones do not
  if (v.partTotal > 0 && part.supplierMessageId) event.accepted = true;
  if (v.segments > 0) event.segments = v.segments;
  if (v.partTotal === 0) event.fromReceipt = true; // receipt-made (the join stage's receipts)
  if (v.context?.accountId) event.accountId = v.context.accountId;
  const doneAt = ms(part.doneAt);
  if (doneAt !== undefined) event.doneAt = doneAt;
  return [{ hubId, ...(v.partTotal > 0 && v.context ? { context: v.context } : {}), event }];
}

/** A row of LOAD_MESSAGES: a dlr_messages row (part_index null) or a dlr_dispatch_index row. */
type LoadedRow =
  | {
      message_id: string;
      account_id: string;
      context: Buffer;
      state: StoredState;
      revision: number;
      part_index: null;
    }
  | (IndexRow & { part_index: number });

/**
 * The batch's message rows ($1) and the accepted dispatches ($2) of the messages that may need them
 * replayed (DISPATCH_REPLAY in dispatch-replay.ts), in one statement (one snapshot, taken after the locks).
 */
const LOAD_MESSAGES = `
  SELECT message_id, account_id, context, ${STORED_STATE} AS state, revision, NULL::integer AS part_index,
         NULL::text AS connector_id, NULL::text AS supplier_message_id, NULL::integer AS parts_total,
         NULL::timestamptz AS accepted_at, NULL::integer AS segments, NULL::integer AS attempt
    FROM dlr_messages WHERE message_id = ANY($1::uuid[])
  UNION ALL
  SELECT message_id, NULL, context, NULL, NULL, part_index, connector_id, supplier_message_id, parts_total,
         accepted_at, segments, attempt
    FROM dlr_dispatch_index WHERE message_id = ANY($2::uuid[])`;

/** The messages of `inputs` that may need their accepted dispatches replayed: a part state, an expiry, a rejection. */
function replayCandidates(inputs: readonly AggInput[]): string[] {
  const ids = new Set<string>();
  for (const input of inputs) {
    const type = input.event?.type;
    if (type === 'part' || type === 'expire' || type === 'rejected') ids.add(input.hubId);
  }
  return [...ids];
}

/**
 * `inputs` with, before the first input of each message that needs the state past its dispatch (a part
 * state, an expiry, a rejection) and is not final, that message's accepted dispatches (`dispatches`, read
 * from dlr_dispatch_index with the rows: DISPATCH_REPLAY in dispatch-replay.ts): the join stage writes no
 * row for them.
 */
function withReplays(
  inputs: AggInput[],
  loaded: ReadonlyMap<string, Loaded>,
  dispatches: readonly IndexRow[],
): AggInput[] {
  if (dispatches.length === 0) return inputs;
  const replays = dispatchesByMessage(
    dispatches.filter((d) => loaded.get(d.message_id)?.state?.finalNotified !== true),
  );
  if (replays.size === 0) return inputs;
  const out: AggInput[] = [];
  for (const input of inputs) {
    const list = replays.get(input.hubId);
    if (list !== undefined) {
      replays.delete(input.hubId);
      for (const r of list)
        out.push({ hubId: input.hubId, context: r.context, event: r.event, replay: true });
    }
    out.push(input);
  }
  return out;
}
