// peekAccountId against SmsDelivery.decode on one realistic encoded event: CPU-us per call, median of 5.
//   npx tsx --conditions=@smshub/source services/webhooks/bench/peek-micro.ts
import { SmsDelivery } from '@smshub/contracts';
import { peekAccountId } from '../src/domain/delivery-view.js';
import { benchDelivery } from './sample-delivery.js';

const bytes = SmsDelivery.encode(
  benchDelivery('0193a7c2-5b1e-7c3d-9e4f-0a1b2c3d4e5f', 'bench-account-7'),
).finish();

function time(label: string, f: () => unknown, n = 200_000): void {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) f();
    const c = process.cpuUsage(c0);
    runs.push((c.user + c.system) / n);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label}: ${runs[2]!.toFixed(3)} CPU-us per call (median of 5 x ${n})`);
}
time('SmsDelivery.decode', () => SmsDelivery.decode(bytes));
time('peekAccountId', () => peekAccountId(bytes));
