import type { ProducerOptions } from '@smshub/kafka';

/**
 * How the API produces sms.submitted.v1: as ingress (services/ingress/src/durable-accept.ts), with
 * definite outcomes. A 202 comes once Kafka has the message (acks=all); a 503 only when it certainly was
 * not written (withdrawn after `ackTimeoutMs` queued behind a stalled request), so the client's retry is
 * never a second message; at shutdown, a request Kafka has not answered within `closeTimeoutMs` gets no
 * answer at all (the connection closes): its retry with the same Idempotency-Key is the safe way on.
 */
export const HTTP_API_PRODUCER_OPTIONS: Readonly<ProducerOptions> = Object.freeze({
  definiteOutcome: true,
  ackTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
});
