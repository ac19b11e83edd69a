// The second supplier cost of a message re-routed after a fast failure (issue 21 item 2).
//
// The customer is charged once: the message keeps its one record (one sale), made at its billing point as
// for any message. A re-routed message was carried by two suppliers, so the attempt its record does not
// name is recorded apart, as an internal record (domain/internal.ts: zero sell, the supplier's real buy,
// never charged to the account), with its own id (derived from the message id and the connector, so a
// replayed delivery writes nothing new) and `rerouted_message_id` naming the customer's message.
// Finance sees one sale and two supplier costs; settlement per supplier includes both.
//
// Which attempt is "the other one" follows from the billing point (pricing.ts): billed on submit, the record
// was made when the first supplier accepted (the failed connector), so the re-sent attempt's connector is
// recorded apart; billed on the final outcome, the record is made from this delivery (the re-sent attempt's
// connector), so the failed attempt is recorded apart. (Under a lag that makes rating see the re-sent
// dispatch before the first one on a submit-billed message, the first record names the wrong connector and
// the costs are swapped, never duplicated.)
import { createHash } from 'node:crypto';
import type { SmsDelivery } from '@smshub/contracts';
import type { Catalog } from './catalog.js';
import { billingPoint } from './domain/pricing.js';
import type { Mapped } from './events.js';

/** A stable UUID for the internal record of `connectorId`'s attempt of `hubMessageId`. */
export function rerouteCostId(hubMessageId: string, connectorId: string): string {
  const h = createHash('sha1')
    .update(`reroute-cost:${hubMessageId.toLowerCase()}:${connectorId}`)
    .digest('hex');
  // RFC 4122 layout, version 5 (name-based, SHA-1), variant 10.
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** The delivery's own mapping, plus the internal record of the other attempt when it was re-routed. */
export function withRerouteCost(d: SmsDelivery, main: Mapped, catalog: Catalog): Mapped[] {
  const failed = d.reroutedFromConnectorId;
  // The failed connector's own outcome (the extra attempt never started): one supplier, one cost.
  if (!failed || failed === d.connectorId || !('input' in main) || !d.final || !d.connectorId) return [main];
  const ev = main.input.event;
  const account = catalog.accounts.get(ev.accountId);
  const firstSupplier = catalog.connectors.get(failed)?.policy ?? {
    connectorId: failed,
    buyChargeOn: 'submit',
  };
  const point = account === undefined ? 'final' : billingPoint(account.policy, firstSupplier);
  const other = point === 'submit' ? d.connectorId : failed;
  const extra: Mapped = {
    input: {
      ...main.input,
      event: {
        ...ev,
        hubMessageId: rerouteCostId(ev.hubMessageId, other),
        connectorId: other,
        segments: 1,
        // The failed attempt's outcome, or the re-sent attempt's (the message's) outcome.
        outcome: other === failed ? 'UNDELIVERABLE' : ev.outcome,
      },
      internal: true,
      reroutedMessageId: ev.hubMessageId,
    },
  };
  return [main, extra];
}
