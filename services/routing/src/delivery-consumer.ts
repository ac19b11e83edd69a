// The sms.delivery.v1 handler of routing: every final status teaches the adaptive strategy (in memory) and
// the grey-route monitor (a latency sample; a probe's receipt is written to PostgreSQL).
//
// A batch handler rather than a record handler: routing reads one delivery record per message (more with
// intermediate statuses), and libs/kafka's record path costs per record a retry wrapper, a span scope, a
// heartbeat call and a promise around a handler that is a few map updates. Here a batch is decided with
// one loop, on the slim view of each record (delivery-view.ts), and only a probe's receipt (a database
// write) is awaited. A batch that fails (a probe's update) is retried whole, then one record at a time:
// the records are the same objects then, so each is learnt from once (`learnt`) and each monitor step that
// completed is not repeated (`observed`): the same counts as the record handler's. The two sets are filled
// only for a batch that failed, so a batch that succeeds at once costs no bookkeeping per record.
import type { BatchHandler, ConsumedRecord } from '@smshub/kafka';
import type { AdaptiveStore } from './adaptive-store.js';
import type { DeliveryView } from './delivery-view.js';
import type { GreyRouteMonitor } from './grey-routes.js';

export function deliveryBatchHandler(
  adaptive: Pick<AdaptiveStore, 'apply'>,
  greyRoutes: Pick<GreyRouteMonitor, 'onDelivery'> | undefined,
  onLearnt: () => void,
): BatchHandler<DeliveryView> {
  const learnt = new WeakSet<ConsumedRecord<DeliveryView>>();
  const observed = new WeakSet<ConsumedRecord<DeliveryView>>();
  let failedBefore = false;
  return async (records) => {
    // A retry of a failed batch (whole or a record of it): every record of a failed batch is in `learnt`.
    const retry = failedBefore && records.length > 0 && learnt.has(records[0]!);
    let any = false;
    if (!retry) for (const r of records) if (adaptive.apply(r.value)) any = true;
    if (any) onLearnt();
    if (!greyRoutes) return;
    // In partition order (a probe's corrected receipt after its first); a non-probe record resolves at once.
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const r = records[i]!;
        if (retry && observed.has(r)) continue;
        const written = greyRoutes.onDelivery(r.value);
        if (written) await written;
        if (retry) observed.add(r);
      }
    } catch (err) {
      failedBefore = true;
      for (const r of records) learnt.add(r);
      for (let j = 0; j < i; j++) observed.add(records[j]!);
      throw err;
    }
  };
}
