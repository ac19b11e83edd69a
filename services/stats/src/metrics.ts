import { counter, histogram } from '@smshub/telemetry';

export const recordsCounted = counter(
  'smshub_stats_records_total',
  'Records read by the stats roll-up, by topic and outcome (counted, replayed, duplicate, uncorrectable, invalid)',
  ['topic', 'outcome'],
);
export const queryDuration = histogram(
  'smshub_stats_query_duration_seconds',
  'StatsService call duration, by RPC',
  ['rpc'],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5],
);
export const purgedRows = counter('smshub_stats_purged_rows_total', 'Roll-up rows deleted by retention', [
  'table',
]);
