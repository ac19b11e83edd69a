import { counter, gauge, histogram } from '@smshub/telemetry';

export const attemptsTotal = counter(
  'smshub_webhooks_attempts_total',
  'Webhook HTTP attempts, by outcome (delivered, http_error, no_answer)',
  ['outcome'],
);
export const deliveriesStored = counter(
  'smshub_webhooks_deliveries_stored_total',
  'Webhook deliveries stored from sms.delivery.v1 (to be POSTed)',
);
export const deliveriesFailed = counter(
  'smshub_webhooks_deliveries_failed_total',
  'Webhook deliveries given up after the retry period',
);
export const attemptDuration = histogram(
  'smshub_webhooks_attempt_duration_seconds',
  'Duration of a webhook HTTP attempt (answer or timeout)',
  [],
  [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);
export const inFlight = gauge('smshub_webhooks_in_flight', 'Webhook HTTP attempts in flight in this replica');
