// Prometheus metrics of the admin API (served on /metrics by libs/lifecycle).
import { counter, histogram } from '@smshub/telemetry';

export const adminMetrics = {
  requests: counter('smshub_admin_requests_total', 'Admin API calls by method and gRPC status code', [
    'method',
    'code',
  ]),
  duration: histogram('smshub_admin_request_duration_seconds', 'Admin API call duration by method', [
    'method',
  ]),
  changes: counter(
    'smshub_admin_config_changes_published_total',
    'ConfigChange records published on config.changes.v1 by kind and action',
    ['kind', 'action'],
  ),
  publishFailures: counter(
    'smshub_admin_publish_failures_total',
    'Committed changes whose announcement on Kafka failed (picked up at the next reload)',
    ['topic'],
  ),
  authFailures: counter('smshub_admin_auth_failures_total', 'Calls refused with UNAUTHENTICATED'),
  auditFailures: counter(
    'smshub_admin_audit_failures_total',
    'Audit events that could not be stored (database) or published on audit.v1 (kafka)',
    ['sink'],
  ),
};
