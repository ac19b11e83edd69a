// Expiry: a message with no final outcome by the end of its validity becomes EXPIRED.
//
// Deadline = validUntil (the customer's validity period) when given, else submittedAt (or, when the
// submit event was not seen, the time the message was first seen) + defaultValidityMs; plus graceMs,
// which leaves room for a supplier's own EXPIRED receipt (it carries the supplier's err) that usually
// arrives shortly after validity ends. A receipt that arrives after the hub expired the message is
// ignored (a final state never changes) and counted as `ignored: after-final`.

import { isFinal } from './status.js';
import type { MessageState, TimelineEvent } from './timeline.js';

export interface ExpiryConfig {
  /** Validity used when the customer gave none (default SMSC validity is often 48 h to 72 h). */
  defaultValidityMs: number;
  /** Extra wait after the validity ends before the hub declares the message EXPIRED. */
  graceMs: number;
  /**
   * A part re-routed after a fast failure (reroute.ts) whose extra attempt was not accepted by a supplier
   * within this time after the order (the order dead-lettered in egress, no usable candidate left, egress
   * away) ends with the withheld failure, not with EXPIRED at the end of validity. Unset: no such limit.
   */
  rerouteTimeoutMs?: number;
}

/** Whether part `index` waits for the extra attempt dlr ordered (re-routed, not accepted since). */
export function awaitsReroute(state: MessageState, index: number): boolean {
  const done = state.reroute?.done;
  const part = state.parts[index];
  return done !== undefined && part !== undefined && !isFinal(part.status) && part.acceptedAt === undefined;
}

export function expiryDeadline(state: MessageState, config: ExpiryConfig): number {
  const start = state.submittedAt ?? state.timeline[0]?.time ?? state.updatedAt;
  const end = state.validUntil ?? start + config.defaultValidityMs;
  const deadline = end + config.graceMs;
  const done = state.reroute?.done;
  if (done === undefined || config.rerouteTimeoutMs === undefined) return deadline;
  if (!state.parts.some((_, i) => awaitsReroute(state, i))) return deadline;
  return Math.min(deadline, done.time + config.rerouteTimeoutMs);
}

export function isExpired(state: MessageState, now: number, config: ExpiryConfig): boolean {
  if (state.finalNotified || state.parts.every((p) => isFinal(p.status))) return false;
  return expiryDeadline(state, config) <= now;
}

/** The `expire` events to apply for every message past its deadline at `now`. Pure. */
export function sweepExpired(
  states: Iterable<MessageState>,
  now: number,
  config: ExpiryConfig,
): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  for (const s of states) {
    if (isExpired(s, now, config)) events.push({ type: 'expire', hubMessageId: s.hubMessageId, time: now });
  }
  return events;
}
