import { counter, gauge, histogram } from '@smshub/telemetry';

export const receiptsTotal = counter(
  'smshub_dlr_receipts_total',
  'Supplier receipts consumed, by normalised status',
  ['connector', 'status'],
);
export const unmatchedTotal = counter(
  'smshub_dlr_unmatched_total',
  'Receipts that matched no dispatch (dead-lettered), by reason',
  ['reason'],
);
export const parkedTotal = counter(
  'smshub_dlr_parked_total',
  'Receipts parked because they arrived before their dispatch',
);
export const heldTotal = counter(
  'smshub_dlr_receipts_held_total',
  'Receipt batches handled up to a receipt held back for the next fetch instead of parked (RECEIPT_HOLD)',
);
export const deliveryRatio = gauge(
  'smshub_dlr_delivery_ratio',
  'Delivered / final parts per connector and destination over the shortest statistics window',
  ['connector', 'prefix'],
);
export const receiptLatency = histogram(
  'smshub_dlr_receipt_latency_seconds',
  'Supplier acceptance to final receipt, per part',
  [],
  [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
);
export const expiredTotal = counter(
  'smshub_dlr_expired_total',
  'Messages the hub declared EXPIRED (no final receipt in time)',
);
export const deliveriesTotal = counter('smshub_dlr_deliveries_total', 'sms.delivery.v1 events produced', [
  'status',
  'final',
]);
export const reroutesTotal = counter(
  'smshub_dlr_reroutes_total',
  'Fast failures withheld from the customer and sent once more through the next candidate, by failed connector and receipt status',
  ['connector', 'reason'],
);
export const ignoredTotal = counter(
  'smshub_dlr_ignored_total',
  'Part updates that changed nothing, by reason',
  ['reason'],
);
