import { CommandStatus } from '@smshub/smpp';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

/** What one submit_sm attempt came to, as the retry policy sees it. */
export type AttemptResult =
  | { kind: 'accepted' }
  /** submit_sm_resp with a non-zero command_status. */
  | { kind: 'rejected'; status: number }
  /** No submit_sm_resp in time: the supplier may or may not have the message. */
  | { kind: 'timeout' }
  /** The session closed while the submit_sm was in flight (same ambiguity as a timeout). */
  | { kind: 'closed' }
  /** Not sent: the connector has no bound session, is disabled/unknown, or cannot carry the message. */
  | { kind: 'not_sent'; reason: 'unavailable' | 'unsupported' | 'expired' };

export interface RetryPolicy {
  /** Retries on the same connector for transient outcomes, before failing over. */
  maxRetriesPerConnector: number;
  backoff: BackoffPolicy;
}

export type Decision =
  | { action: 'done' }
  | { action: 'retry_same'; delayMs: number }
  | { action: 'next_candidate' }
  | { action: 'fail' };

/**
 * Statuses that say "not now" rather than "not this message": retried with backoff on the same
 * connector. ESME_RTHROTTLED and ESME_RMSGQFUL are the supplier's flow control; ESME_RSYSERR and
 * ESME_RX_T_APPN are temporary failures on its side.
 */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([
  CommandStatus.ESME_RTHROTTLED,
  CommandStatus.ESME_RMSGQFUL,
]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

/**
 * The failover rule. Transient outcomes (throttled, queue full, response timeout, session lost) are
 * retried on the same connector up to `maxRetriesPerConnector` times with exponential backoff, then the
 * next candidate is tried; permanent rejections and "cannot carry" go to the next candidate at once; an
 * expired message and the last candidate's failure end the part.
 *
 * @param retriesOnConnector retries already made on this connector for this part (0 after the first attempt)
 * @param hasNextCandidate whether another candidate remains after this one
 */
export function decide(
  result: AttemptResult,
  retriesOnConnector: number,
  hasNextCandidate: boolean,
  policy: RetryPolicy,
  random?: () => number,
): Decision {
  if (result.kind === 'accepted') return { action: 'done' };
  if (result.kind === 'not_sent' && result.reason === 'expired') return { action: 'fail' };
  const transient =
    result.kind === 'timeout' ||
    result.kind === 'closed' ||
    (result.kind === 'rejected' && isTransientStatus(result.status));
  if (transient && retriesOnConnector < policy.maxRetriesPerConnector) {
    return { action: 'retry_same', delayMs: backoffDelay(policy.backoff, retriesOnConnector + 1, random) };
  }
  return hasNextCandidate ? { action: 'next_candidate' } : { action: 'fail' };
}
