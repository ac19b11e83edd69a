import { describe, expect, it } from 'vitest';
import { SmsDelivery } from '@smshub/contracts';
import type { ConsumedRecord } from '@smshub/kafka';
import type { AdaptiveStore } from './adaptive-store.js';
import { deliveryBatchHandler } from './delivery-consumer.js';

const rec = (messageId: string): ConsumedRecord<SmsDelivery> =>
  ({ value: SmsDelivery.fromPartial({ context: { messageId } }) }) as ConsumedRecord<SmsDelivery>;

describe('deliveryBatchHandler', () => {
  it('learns from each record once and repeats only the monitor steps that failed when a batch is retried', async () => {
    const applied: string[] = [];
    const adaptive = {
      apply: (d: SmsDelivery) => applied.push(d.context!.messageId) > 0,
    } as unknown as AdaptiveStore;
    const observed: string[] = [];
    let failNext = true;
    const grey = {
      onDelivery: (d: SmsDelivery) => {
        const id = d.context!.messageId;
        if (id === 'b' && failNext) {
          failNext = false;
          return Promise.reject(new Error('probe update failed'));
        }
        observed.push(id);
        return Promise.resolve();
      },
    };
    let learnt = 0;
    const handle = deliveryBatchHandler(adaptive, grey, () => learnt++);
    const records = [rec('a'), rec('b'), rec('c')];
    await expect(handle(records)).rejects.toThrow('probe update failed');
    // Retried whole (libs/kafka passes the same record objects), then one by one.
    await handle(records);
    await handle([records[2]!]);
    expect(applied).toEqual(['a', 'b', 'c']);
    expect(observed).toEqual(['a', 'b', 'c']);
    expect(learnt).toBe(1);
  });
});
