import { counter, histogram } from '@smshub/telemetry';

// Accounts are named by id (a UUID, not a credential), as in ingress.
export const requests = counter('smshub_http_api_requests_total', 'HTTP API answers, by route and status', [
  'route',
  'status',
]);
export const accepted = counter('smshub_http_api_accepted_total', 'Messages accepted (Kafka acks=all)', [
  'account',
]);
export const throttled = counter(
  'smshub_http_api_throttled_total',
  "Messages refused by the account's TPS limit (429)",
  ['account'],
);
export const latency = histogram(
  'smshub_http_api_request_seconds',
  'From request received to answer sent (accepted messages include the Kafka acks=all round trip)',
  ['route'],
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
);
