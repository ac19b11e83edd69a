// Re-route orders (issue 21 item 2): a part's fast failure that the message's re-route terms cover is
// withheld from the customer by the reducer (domain/reroute.ts, domain/timeline.ts) and turned here into
// an SmsReroute on sms.reroute.v1 (key: hub message id), which egress sends through the next candidate.
//
// Produced inside the aggregation transaction, before its commit, like the deliveries: a crash before the
// commit produces the same order again, which egress ignores (it re-sends a part only while its row still
// names the failed connector); after the commit the stored state says the extra attempt was ordered, so
// a replayed receipt never orders a second one.
import { SmsReroute, SmsRouted } from '@smshub/contracts';
import type { TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import type { RerouteDone, RerouteState } from './domain/reroute.js';
import { asBuffer } from './encode.js';
import { reroutesTotal } from './metrics.js';
import type { Queryable } from './sql.js';
import type { DlrTopics } from './topics.js';
import { timelineRow, type TimelineRow } from './timeline-rows.js';

export interface RerouteOrder {
  hubId: string;
  partIndex: number;
  done: RerouteDone;
}

/** SmsRouted.reroute and the candidate order as the reducer keeps them (unset: never re-routed). */
export function rerouteTermsOf(v: SmsRouted): Omit<RerouteState, 'done'> | undefined {
  const t = v.reroute;
  if (t === undefined || v.candidates.length < 2) return undefined;
  return {
    failures: [...t.failures],
    exceptErrors: [...t.exceptErrors],
    windowMs: t.windowMs,
    ruleId: t.ruleId,
    candidates: v.candidates.map((c) => c.connectorId),
  };
}

export class RerouteOrders {
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      producer: TypedProducer;
      topics: DlrTopics;
      logger: Logger;
      /** rerouteTimeoutMs (DLR_REROUTE_TIMEOUT_SECONDS), read per order: SmsReroute.send_before. */
      options?: { rerouteTimeoutMs?: number };
    },
  ) {
    this.log = deps.logger.child({ component: 'reroute' });
  }

  /**
   * Produces the orders and returns their timeline rows. The routed record (message text and all) is read
   * from the timeline: this transaction's pending rows first, then dlr_timeline.
   */
  async order(
    db: Queryable,
    orders: RerouteOrder[],
    pending: readonly TimelineRow[],
    now: number,
  ): Promise<TimelineRow[]> {
    const topic = this.deps.topics.reroute;
    if (orders.length === 0 || topic === undefined) return [];
    const routed = new Map<string, Buffer>();
    for (const row of pending) if (row[3] === 'routed') routed.set(row[0], row[6]);
    const missing = orders.map((o) => o.hubId).filter((id) => !routed.has(id));
    if (missing.length > 0) {
      const res = await db.query<{ message_id: string; payload: Buffer }>(
        `SELECT DISTINCT ON (message_id) message_id::text AS message_id, payload FROM dlr_timeline
          WHERE message_id = ANY($1::uuid[]) AND kind = 'routed' ORDER BY message_id, event_time DESC`,
        [missing],
      );
      for (const r of res.rows) routed.set(r.message_id, r.payload);
    }
    const rows: TimelineRow[] = [];
    const timeoutMs = this.deps.options?.rerouteTimeoutMs;
    await Promise.all(
      orders.map(async (o) => {
        const bytes = routed.get(o.hubId) ?? routed.get(o.hubId.toLowerCase());
        if (bytes === undefined) {
          // Cannot happen: the terms come from the routed event, stored with its timeline row.
          this.log.error({ messageId: o.hubId }, 're-route ordered without a stored routed record');
          return;
        }
        const order = SmsReroute.fromPartial({
          routed: SmsRouted.decode(bytes),
          fromCandidate: o.done.fromCandidate,
          attempt: 2,
          failedConnectorId: o.done.from,
          reason: o.done.reason,
          failure: o.done.reason.split(' ', 1)[0] ?? '',
          orderedAt: new Date(now),
          partNumber: o.partIndex + 1,
          // Half the re-route timeout for egress to start the attempt; the other half leaves room for the
          // supplier's answer to reach dlr before it ends the message with the failure (domain/expiry.ts).
          ...(timeoutMs !== undefined
            ? { sendBefore: new Date(o.done.time + Math.floor(timeoutMs / 2)) }
            : {}),
        });
        const encoded = asBuffer(topic.encode(order));
        await this.deps.producer.produceRaw(topic.name, o.hubId, encoded, { messageId: o.hubId });
        rows.push(timelineRow(o.hubId, `rerouted/${order.attempt}`, 'rerouted', topic.name, now, encoded));
        reroutesTotal.inc({ connector: o.done.from, reason: order.failure });
        this.log.info(
          { messageId: o.hubId, from: o.done.from, fromCandidate: o.done.fromCandidate },
          `re-routed: ${o.done.reason}`,
        );
      }),
    );
    return rows;
  }
}
