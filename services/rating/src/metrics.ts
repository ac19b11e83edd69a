import { counter, gauge, histogram } from '@smshub/telemetry';

export const ratingMetrics = {
  rated: counter('smshub_rating_rated_total', 'Rated records written (new CDRs), by RatedStatus', ['status']),
  missingRate: counter(
    'smshub_rating_missing_rate_total',
    'Rated records published with status MISSING_RATE (a charged side had no usable rate): alert on any increase',
  ),
  balance: gauge(
    'smshub_rating_balance_minor',
    'Last published balance, minor units of the account currency',
    ['account'],
  ),
  cdrWrite: histogram(
    'smshub_rating_cdr_write_seconds',
    'Time to write one batch of CDRs and balance debits (one transaction)',
    [],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  ),
  skipped: counter('smshub_rating_skipped_total', 'Consumed events that produced no new record, by reason', [
    'reason',
  ]),
  republished: counter(
    'smshub_rating_republished_total',
    'Stored records published again because their first publication was not acknowledged',
  ),
  conflicts: counter(
    'smshub_rating_conflicts_total',
    'Events that priced a message differently from its stored CDR (the stored one stands): an upstream or configuration problem',
  ),
  configReloads: counter('smshub_rating_config_reloads_total', 'Loads of the rating configuration', [
    'outcome',
  ]),
  rates: gauge('smshub_rating_rates', 'Rates in the in-memory index'),
};
