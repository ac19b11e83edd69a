import { counter, gauge, histogram } from '@smshub/telemetry';

// Labels name accounts by their id (a UUID, stable and not a credential), never by system_id: the SMPP
// system_id is half of a customer's login and /metrics is read by more people than the accounts are.

export const binds = gauge('smshub_ingress_binds', 'SMPP sessions bound on this replica', ['account']);
export const bindFailures = counter('smshub_ingress_bind_failures_total', 'Refused binds, by status', [
  'status',
]);
export const bindRefusals = counter(
  'smshub_ingress_bind_refusals_total',
  'Binds refused before any password check (guard locks, bounds, check rate), by reason',
  ['reason'],
);
export const submits = counter('smshub_ingress_submits_total', 'submit_sm/data_sm answered, by status', [
  'account',
  'status',
]);
export const submitLatency = histogram(
  'smshub_ingress_submit_latency_seconds',
  'From submit_sm received to submit_sm_resp (accepted messages: includes the Kafka acks=all round trip)',
  [],
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
);
export const throttled = counter(
  'smshub_ingress_throttled_total',
  'Submits refused by the account TPS limit or window',
  ['account'],
);
export const receiptsPending = gauge(
  'smshub_ingress_receipts_pending',
  'Receipts stored and waiting for a receiver bind (whole hub, as seen from this replica)',
);
export const receiptsSent = counter(
  'smshub_ingress_receipts_sent_total',
  'Receipts acknowledged by the customer (deliver_sm_resp OK)',
);
export const moSent = counter(
  'smshub_ingress_mo_sent_total',
  'Inbound messages (MO, sms.inbound.v1) acknowledged by the customer (deliver_sm_resp OK)',
);
export const moStored = counter(
  'smshub_ingress_mo_stored_total',
  'Inbound messages (MO, sms.inbound.v1 records) written to the store for the customer (a re-read record counts again)',
);
export const moNoAccount = counter(
  'smshub_ingress_mo_unknown_account_total',
  'sms.inbound.v1 records for an account ingress does not know (deleted since): not delivered',
);
export const receiptsFailed = counter(
  'smshub_ingress_receipts_failed_total',
  'Receipt deliver_sm attempts that failed or timed out (retried later)',
);
export const receiptsExpired = counter(
  'smshub_ingress_receipts_expired_total',
  'Receipts dropped because the message validity ended before a receiver bound',
);
export const unrated = counter(
  'smshub_ingress_unrated_refused_total',
  'Submits refused with ESME_RINVDSTADR because no sell rate applies (accounts with refuse_unrated)',
  ['account'],
);
