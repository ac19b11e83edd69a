// The sms.delivery.v1 handler of routing: every final status teaches the adaptive strategy (in memory) and
// the grey-route monitor (a latency sample; a probe's receipt is written to PostgreSQL).
//
// A batch handler rather than a record handler: routing reads one delivery record per message (more with
// intermediate statuses), and libs/kafka's record path costs per record a retry wrapper, a span scope, a
// heartbeat call and a promise around a handler that is a few map updates. Here a batch is decided with
// one loop. A batch that fails (a probe's update) is retried whole, then one record at a time: the records
// are the same objects then, so each is learnt from once (`learnt`) and each monitor step that completed is
// not repeated (`observed`): the same counts as the record handler's.
import type { SmsDelivery } from '@smshub/contracts';
import type { BatchHandler, ConsumedRecord } from '@smshub/kafka';
import type { AdaptiveStore } from './adaptive-store.js';
import type { GreyRouteMonitor } from './grey-routes.js';

export function deliveryBatchHandler(
  adaptive: AdaptiveStore,
  greyRoutes: Pick<GreyRouteMonitor, 'onDelivery'> | undefined,
  onLearnt: () => void,
): BatchHandler<SmsDelivery> {
  const learnt = new WeakSet<ConsumedRecord<SmsDelivery>>();
  const observed = new WeakSet<ConsumedRecord<SmsDelivery>>();
  return async (records) => {
    let any = false;
    for (const r of records) {
      if (learnt.has(r)) continue;
      learnt.add(r);
      if (adaptive.apply(r.value)) any = true;
    }
    if (any) onLearnt();
    if (!greyRoutes) return;
    // In partition order (a probe's corrected receipt after its first); a non-probe record resolves at once.
    for (const r of records) {
      if (observed.has(r)) continue;
      await greyRoutes.onDelivery(r.value);
      observed.add(r);
    }
  };
}
