import type { ProducerOptions } from '@smshub/kafka';

/**
 * How ingress produces sms.submitted.v1. An error command_status in submit_sm_resp must mean the message
 * will never be sent (the customer's retry would otherwise be a second message, sent and billed twice),
 * so the answer waits for a definite outcome (`definiteOutcome`, libs/kafka):
 *  - a record handed to Kafka is answered ESME_ROK once Kafka acknowledges it (acks=all), however long
 *    that takes: the idempotent producer retries the same request, which the broker writes once;
 *  - a record still queued behind a stalled request after `ackTimeoutMs` is withdrawn and answered
 *    ESME_RSYSERR: it was never sent;
 *  - at shutdown, one Kafka has still not answered after `closeTimeoutMs` gets no answer (its session is
 *    closed): the customer sees a lost answer, never an error for a message that may be sent.
 * Latency bound: an answer comes when Kafka answers, so by the end of a broker stall or a leader election
 * (plus up to 1 s of retry backoff); under ~10 s of pile-up, queued submits are refused instead. A Kafka
 * outage longer than the client's response timeout (30-60 s typical) leaves the client without an answer
 * and is the one case where the client's own resend can still make a second message.
 *
 * No linger (`lingerMs` 0): an accepted submit's record goes to Kafka once the event-loop turn that read it
 * ends (with every other record of that turn), not after a 2 ms timer; while a request is in flight the
 * records wait for its answer and then go together at once, so batches still grow with the rate.
 */
export const INGRESS_PRODUCER_OPTIONS: Readonly<ProducerOptions> = Object.freeze({
  lingerMs: 0,
  definiteOutcome: true,
  ackTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
});
