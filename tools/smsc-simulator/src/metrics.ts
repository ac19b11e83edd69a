import { statusName } from '@smshub/smpp';
import type { Simulator, SimulatorCounters } from '@smshub/smsc-simulator';
import { counter, gauge } from '@smshub/telemetry';

type Plain = Exclude<keyof SimulatorCounters, 'rejectedByStatus'>;

const COUNTERS: Record<Plain, [string, string]> = {
  binds: ['smshub_sim_binds_total', 'Successful binds'],
  submits: ['smshub_sim_submits_total', 'submit_sm received (every outcome)'],
  accepted: ['smshub_sim_accepted_total', 'submit_sm answered ESME_ROK'],
  throttled: ['smshub_sim_throttled_total', 'submit_sm answered ESME_RTHROTTLED by the TPS cap'],
  receiptsSent: [
    'smshub_sim_receipts_sent_total',
    'Delivery receipts (deliver_sm) sent, intermediate ones included',
  ],
  receiptsAcked: ['smshub_sim_receipts_acked_total', 'Delivery receipts answered ESME_ROK'],
  receiptsDropped: ['smshub_sim_receipts_dropped_total', 'Receipts dropped because their queue was full'],
  receiptsNacked: ['smshub_sim_receipts_nacked_total', 'Receipts refused by the ESME and not sent again'],
  duplicates: [
    'smshub_sim_duplicates_total',
    'Accepted submit_sm equal to one accepted within the last 60 s',
  ],
  disconnects: ['smshub_sim_disconnects_total', 'Sessions dropped on purpose (disconnectEvery)'],
  fakeReceipts: [
    'smshub_sim_fake_receipts_total',
    'DELIVRD receipts for messages never delivered (fakeReceipts)',
  ],
  lateDeliveries: ['smshub_sim_late_deliveries_total', 'Messages delivered late behind a quick receipt'],
  handsetDeliveries: ['smshub_sim_handset_deliveries_total', 'Messages that really reached a handset number'],
  handsetConfirmations: [
    'smshub_sim_handset_confirmations_total',
    'Handset confirmations (MO) acked by the hub',
  ],
  handsetConfirmationsFailed: [
    'smshub_sim_handset_confirmations_failed_total',
    'Handset confirmations given up (no receiver bound or refused)',
  ],
};

/**
 * Exposes a simulator's counters as Prometheus metrics labelled `simulator`. The simulator keeps plain
 * numbers (cheap in its hot path); `sync()` adds what changed since the last call (called every second).
 */
export function simulatorMetrics(name: string, sim: Simulator): { sync(): void } {
  const last: Record<string, number> = {};
  const rejected = counter(
    'smshub_sim_rejected_total',
    'submit_sm answered with an error (injected or invalid) by status',
    ['simulator', 'status'],
  );
  const bound = gauge('smshub_sim_bound_sessions', 'Bound SMPP sessions', ['simulator']);
  const pending = gauge('smshub_sim_pending_receipts', 'Receipts scheduled or waiting for a receiver bind', [
    'simulator',
  ]);
  const metrics = Object.fromEntries(
    Object.entries(COUNTERS).map(([key, [metric, help]]) => [key, counter(metric, help, ['simulator'])]),
  );
  // Series exist from the start (at 0), so rate() works from the first scrape.
  for (const m of Object.values(metrics)) m.inc({ simulator: name }, 0);
  return {
    sync() {
      const c = sim.counters;
      for (const key of Object.keys(COUNTERS) as Plain[]) {
        const delta = c[key] - (last[key] ?? 0);
        if (delta > 0) metrics[key]?.inc({ simulator: name }, delta);
        last[key] = c[key];
      }
      for (const [status, n] of Object.entries(c.rejectedByStatus)) {
        const k = `rejected:${status}`;
        const delta = n - (last[k] ?? 0);
        if (delta > 0) rejected.inc({ simulator: name, status: statusName(Number(status)) }, delta);
        last[k] = n;
      }
      bound.set({ simulator: name }, sim.boundSessions);
      pending.set({ simulator: name }, sim.pendingReceipts);
    },
  };
}
