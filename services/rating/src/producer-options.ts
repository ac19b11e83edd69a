import type { ProducerOptions } from '@smshub/kafka';

/**
 * How rating produces billing.rated.v1 (and balances.v1, dead letters: one producer per process).
 * A CDR's record is published while rating holds its rating_cdrs_unpublished row, and the row is deleted
 * once Kafka acknowledged it; a publication that fails leaves the row for a later one. So "failed" must
 * mean "not written": with `definiteOutcome` (libs/kafka) a record handed to Kafka is retried by kafkajs
 * with the same producer id and sequence numbers until the broker answers, and the broker writes it once.
 * Without it, a produce that timed out after 10 s (a stalled broker, a leader killed) was published again
 * by the next attempt while the first request was still written: byte-identical extra rated records
 * (chaos runs 3 and 5).
 *  - A record still queued here after `ackTimeoutMs` (behind a stalled request) is withdrawn, never sent:
 *    its CDR stays unpublished and is published by a later event or the start-up sweep.
 *  - The cost: during a broker outage a publication waits for Kafka, holding its CDRs' row locks, one
 *    PostgreSQL connection and its consumer batch (which is what a consumer does anyway while Kafka is
 *    down). At shutdown, `closeTimeoutMs` bounds the wait; a record still unanswered then keeps its row
 *    (its outcome unknown: the start-up sweep publishes it again, the at-least-once case that remains).
 */
export const RATING_PRODUCER_OPTIONS: Readonly<ProducerOptions> = Object.freeze({
  definiteOutcome: true,
  ackTimeoutMs: 10_000,
  closeTimeoutMs: 10_000,
});
