/**
 * The no-double-send record of one egress part (table egress_part_dispatch, one row per hub message id
 * and part number), written in Postgres BEFORE the Kafka offset of the routed record is committed.
 *
 *   (none) --claim--> sending --resp OK--> sent            (final; event stored)
 *                        |----rejected/timeout, will retry--> pending --claim--> sending ...
 *                        |----gave up--> failed            (final; event stored)
 *   sending (found on redelivery) --> unknown               (final; event stored)
 *
 * "sending" is written right before the submit_sm goes on the wire (after the window slot and the
 * rate token are held), so on redelivery it means: a submit_sm may have reached the supplier and we
 * never learned the answer (crash or rebalance in between).
 *
 * Decision for that window: DO NOT resend (at-most-once towards the supplier). A duplicate is visible to
 * the subscriber (two identical texts, two OTPs where the first may already be in use), is billed twice
 * by the supplier, and is a complaint carriers and enterprise customers escalate; a lost part still
 * ends in a status the customer sees (dlr reports UNKNOWN when no receipt can be joined), and the window
 * is one response time per in-flight part at a crash. Egress publishes a TIMEOUT dispatch for it
 * (outcome unknown, not a final failure: the supplier may still deliver) and stores it as "unknown".
 * A "pending" part (the last attempt was answered with an error, or timed out and was going to be
 * retried anyway) is sent again, continuing the attempt count.
 */
export type PartState = 'sending' | 'pending' | 'sent' | 'failed' | 'unknown';

export interface PartRecord {
  state: PartState;
  /** Attempts made so far (1-based number of the last one). */
  attempt: number;
  /** The encoded SmsDispatched to re-publish for the final states. */
  event: Buffer | null;
  /** Connector of the last attempt. */
  connectorId?: string;
  /**
   * "sending" by another replica that is alive (its egress_replicas heartbeat is fresh): its submit_sm may
   * still be waiting for the answer, so the part is not ended "unknown" until that replica finishes or dies.
   */
  heldByLiveReplica?: boolean;
}

export type RedeliveryAction =
  /** Send (again): the next attempt number. */
  | { action: 'send'; nextAttempt: number }
  /** Already finished: publish the stored dispatch event again, send nothing. */
  | { action: 'republish'; event: Buffer }
  /** A submit_sm was in flight when the previous owner died: report it unknown, send nothing. */
  | { action: 'report_unknown'; attempt: number };

export function onDelivery(record: PartRecord | undefined): RedeliveryAction {
  if (!record) return { action: 'send', nextAttempt: 1 };
  switch (record.state) {
    case 'pending':
      return { action: 'send', nextAttempt: record.attempt + 1 };
    case 'sending':
      return { action: 'report_unknown', attempt: record.attempt };
    case 'sent':
    case 'failed':
    case 'unknown':
      if (record.event) return { action: 'republish', event: record.event };
      // A final state always stores its event; without one the safest is not to send again.
      return { action: 'report_unknown', attempt: record.attempt };
  }
}
