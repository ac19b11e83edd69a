import { counter, gauge } from '@smshub/telemetry';

/** Egress metrics (README "Metrics"); the connector id is the only high-level label. */
export const metrics = {
  bindsBound: gauge('smshub_egress_binds_bound', 'SMPP sessions currently bound, per connector', [
    'connector',
  ]),
  windowInUse: gauge('smshub_egress_window_in_use', 'submit_sm awaiting submit_sm_resp, per connector', [
    'connector',
  ]),
  submits: counter('smshub_egress_submits_total', 'submit_sm attempts by outcome status', [
    'connector',
    'status',
  ]),
  throttled: counter('smshub_egress_throttled_total', 'submit_sm answered ESME_RTHROTTLED or ESME_RMSGQFUL', [
    'connector',
  ]),
  tps: gauge('smshub_egress_tps', 'submit_sm written in the last second, per connector (this replica)', [
    'connector',
  ]),
  tpsShare: gauge(
    'smshub_egress_tps_share',
    "this replica's pace for a connector: its share of max_submit_rate, after the headroom",
    ['connector'],
  ),
  liveReplicas: gauge('smshub_egress_live_replicas', 'egress replicas alive as this one last read them', []),
  receipts: counter('smshub_egress_receipts_total', 'deliver_sm receipts by parse result', [
    'connector',
    'result',
  ]),
  mo: counter('smshub_egress_mo_total', 'mobile-originated deliver_sm received', ['connector']),
  redeliveries: counter(
    'smshub_egress_redelivered_parts_total',
    'parts found already recorded on redelivery, by action',
    ['action'],
  ),
};
