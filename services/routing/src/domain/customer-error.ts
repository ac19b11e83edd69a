// Customer-facing receipt codes for routing rejections.
//
// The hub's own `err:` codes are 3 decimal digits. 001 is shared with services/dlr (HUB_ERR
// INVALID_DESTINATION); 010-017 are reserved for routing decisions.
//
// | category             | stat    | err | meaning for the customer                                    |
// |----------------------|---------|-----|-------------------------------------------------------------|
// | invalid_number       | UNDELIV | 001 | destination is not a valid phone number                     |
// | no_route             | UNDELIV | 010 | no route to this destination for the account                |
// | blocked              | REJECTD | 011 | a routing rule blocks this traffic                          |
// | firewall_sender      | REJECTD | 012 | sender id not allowed for the destination                   |
// | firewall_content     | REJECTD | 013 | message content not allowed (keyword, pattern, shortener)   |
// | firewall_destination | REJECTD | 014 | destination blocked (blocklist, premium/unallocated range)  |
// | velocity             | REJECTD | 015 | rate or burst limit exceeded (per prefix, per account, seq.) |
// | duplicate            | REJECTD | 016 | same text to the same number within the duplicate window    |
// | opted_out            | REJECTD | 017 | the subscriber opted out of the account (STOP, or its list) |
// | expired              | EXPIRED | 009 | validity ends before the quiet hours end (dlr's EXPIRED_IN_HUB) |
//
// UNDELIV says "the network could not take it"; REJECTD says "the hub refused it by policy".

import type { CustomerError, RejectCategory, RejectedDecision, Destination } from './types.js';

export const CUSTOMER_ERRORS: Readonly<Record<RejectCategory, Readonly<CustomerError>>> = Object.freeze({
  invalid_number: { stat: 'UNDELIV', err: 1 },
  no_route: { stat: 'UNDELIV', err: 10 },
  blocked: { stat: 'REJECTD', err: 11 },
  firewall_sender: { stat: 'REJECTD', err: 12 },
  firewall_content: { stat: 'REJECTD', err: 13 },
  firewall_destination: { stat: 'REJECTD', err: 14 },
  velocity: { stat: 'REJECTD', err: 15 },
  duplicate: { stat: 'REJECTD', err: 16 },
  opted_out: { stat: 'REJECTD', err: 17 },
  expired: { stat: 'EXPIRED', err: 9 },
});

/** The `err:` code as it appears in a receipt ("001"). */
export function formatErr(err: number): string {
  return String(err).padStart(3, '0');
}

export function reject(
  category: RejectCategory,
  ruleId: string,
  reason: string,
  destination?: Destination,
): RejectedDecision {
  const e = CUSTOMER_ERRORS[category];
  const out: RejectedDecision = {
    kind: 'rejected',
    ruleId,
    reason,
    customerError: { stat: e.stat, err: e.err },
    category,
  };
  if (destination) out.destination = destination;
  return out;
}
