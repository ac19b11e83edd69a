// Re-route orders (issue 21 item 2; sms.reroute.v1, produced by dlr): a message whose accepted part failed
// fast at the supplier ("not delivered" receipt within the rule's window) is sent once more, through the
// first usable candidate from `from_candidate` on (disabled, unbound or unable connectors are skipped as
// for any routed message; the connector's TPS and window apply), as the part's next attempt.
//
// Why egress and not routing: the candidates routing ordered seconds ago are the eligible ones; egress
// holds the message text (in the order), knows which connectors are enabled and bound right now, and owns
// the part's dedupe row, which makes the re-send happen once.
//
// Once: the part's row is reopened ("sent" -> "pending") only while it still names the failed connector;
// the re-send then claims it like any retry (domain/dedupe.ts). A replayed order finds the row at the new
// connector (or "sending"/"pending" after a crash, which the sender resolves as for any redelivery) and
// never sends a second time.
import type { SmsReroute } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import { partKey, type DispatchStore } from './dispatch-store.js';
import type { Sender } from './sender.js';

export interface RerouteDeps {
  pool: Pool;
  store: DispatchStore;
  sender: Sender;
  logger: Logger;
}

const REOPEN = `UPDATE egress_part_dispatch SET state = 'pending', event = NULL, updated_at = now()
  WHERE message_id = $1 AND part_number = $2 AND state = 'sent' AND connector_id = $3`;

export class RerouteHandler {
  private readonly log: Logger;

  constructor(private readonly deps: RerouteDeps) {
    this.log = deps.logger.child({ component: 'reroute' });
  }

  async handle(order: SmsReroute): Promise<void> {
    const routed = order.routed;
    const messageId = routed?.message?.messageId;
    if (!routed || !messageId || !order.failedConnectorId) {
      throw Object.assign(new Error('re-route order without routed message or failed connector'), {
        retriable: false,
      });
    }
    if (order.sendBefore !== undefined && Date.now() > order.sendBefore.getTime()) {
      // dlr ends the message with the first failure at its re-route timeout: a late extra attempt would
      // reach the handset after the customer was told "not delivered".
      this.log.warn(
        { messageId, sendBefore: order.sendBefore.toISOString() },
        're-route order read after its send_before: not sent',
      );
      return;
    }
    const { sender, store } = this.deps;
    const p = sender.prepare(routed);
    if (!p.plan || p.plan.parts.length !== 1 || order.partNumber !== 1) {
      this.log.warn({ messageId }, 're-route order for a message egress does not send as one part: ignored');
      return;
    }
    const key = { messageId: p.context.messageId, partNumber: 1 };
    await this.deps.pool.query(REOPEN, [key.messageId, key.partNumber, order.failedConnectorId]);
    const records = await store.getMany([key]);
    const rec = records.get(partKey(key));
    // Sent or failed elsewhere already (a replayed order): its dispatch event is out, nothing to do.
    if (rec === undefined || rec.state === 'sent' || rec.state === 'failed' || rec.state === 'unknown') {
      this.log.debug({ messageId, state: rec?.state }, 're-route order already carried out');
      return;
    }
    this.log.info(
      { messageId, from: order.failedConnectorId, fromCandidate: order.fromCandidate },
      're-routing after a fast failure',
    );
    await sender.run(p, records, order.fromCandidate);
  }
}
