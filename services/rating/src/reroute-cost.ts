// The second supplier cost of a message re-routed after a fast failure (issue 21 item 2).
//
// The customer is charged once: the message keeps its one record (one sale), made at its billing point as
// for any message. A re-routed message was carried by two suppliers, so the attempt its record does not
// name is recorded apart, as an internal record (domain/internal.ts: zero sell, the supplier's real buy,
// never charged to the account), with its own id (derived from the message id and the connector, so a
// replayed delivery writes nothing new) and `rerouted_message_id` naming the customer's message.
// Finance sees one sale and two supplier costs; settlement per supplier includes both.
//
// Which attempt is "the other one" is the one the message's CDR does not name, read back from the CDR once
// the final delivery's batch is written (rating.ts): billed on submit, the CDR was made when a supplier
// accepted (normally the failed connector, the first to accept); billed on the final outcome, it is made
// from this delivery (the re-sent attempt's connector). Deciding from the CDR rather than from the billing
// point keeps the two records apart whatever order the events were rated in, and whatever the catalogue
// said when each was rated. Only when the message has no CDR (its final event was not billable) does the
// billing point decide.
import { createHash } from 'node:crypto';
import { DeliveryStatus, deliveryStatusToJSON, type SmsDelivery } from '@smshub/contracts';
import type { Catalog } from './catalog.js';
import { billingPoint } from './domain/pricing.js';
import { AFTER_ACCEPTANCE, type Mapped, type RatingInput } from './events.js';

/** A stable UUID for the internal record of `connectorId`'s attempt of `hubMessageId`. */
export function rerouteCostId(hubMessageId: string, connectorId: string): string {
  const h = createHash('sha1')
    .update(`reroute-cost:${hubMessageId.toLowerCase()}:${connectorId}`)
    .digest('hex');
  // RFC 4122 layout, version 5 (name-based, SHA-1), variant 10.
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** The delivery's own mapping, marked when the message was re-routed (rating.ts then calls rerouteCost). */
export function withRerouteCost(d: SmsDelivery, main: Mapped): Mapped {
  const failed = d.reroutedFromConnectorId;
  // The failed connector's own outcome (the extra attempt never started): one supplier, one cost.
  if (!failed || failed === d.connectorId || !('input' in main) || !d.final || !d.connectorId) return main;
  // Its own status: UNSPECIFIED from a dlr older than rerouted_from_status, which meant UNDELIVERABLE.
  const status = d.reroutedFromStatus || DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE;
  return { ...main, input: { ...main.input, rerouteFrom: failed, rerouteFromStatus: status } };
}

/**
 * The internal record of the attempt that `cdrConnectorId` (the connector the message's CDR names;
 * undefined when it has none) does not name. `input` is a delivery marked by withRerouteCost.
 */
export function rerouteCost(
  input: RatingInput & { rerouteFrom: string },
  cdrConnectorId: string | undefined,
  catalog: Catalog,
): Mapped {
  const ev = input.event;
  const failed = input.rerouteFrom;
  const resent = ev.connectorId ?? '';
  let other: string;
  if (cdrConnectorId === failed) other = resent;
  else if (cdrConnectorId === resent) other = failed;
  else {
    const account = catalog.accounts.get(ev.accountId);
    const firstSupplier = catalog.connectors.get(failed)?.policy ?? {
      connectorId: failed,
      buyChargeOn: 'submit',
    };
    const point = account === undefined ? 'final' : billingPoint(account.policy, firstSupplier);
    other = point === 'submit' ? resent : failed;
  }
  const { rerouteFrom: _marked, rerouteFromStatus, ...rest } = input;
  // The failed attempt's own outcome (UNDELIV or REJECTD), or the re-sent attempt's (the message's).
  const failedStatus = rerouteFromStatus ?? DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE;
  const ofFailed = other === failed;
  return {
    input: {
      ...rest,
      ...(ofFailed && { deliveryStatus: deliveryStatusToJSON(failedStatus) }),
      event: {
        ...ev,
        hubMessageId: rerouteCostId(ev.hubMessageId, other),
        connectorId: other,
        segments: 1,
        outcome: ofFailed ? (AFTER_ACCEPTANCE[failedStatus] ?? 'UNDELIVERABLE') : ev.outcome,
      },
      internal: true,
      reroutedMessageId: ev.hubMessageId,
    },
  };
}
