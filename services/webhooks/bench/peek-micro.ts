// peekAccountId against SmsDelivery.decode on one realistic encoded event: CPU-us per call, median of 5.
//   npx tsx --conditions=@smshub/source services/webhooks/bench/peek-micro.ts
import { DeliveryStatus, SmsDelivery } from '@smshub/contracts';
import { peekAccountId } from '../src/domain/delivery-view.js';

const bytes = SmsDelivery.encode(
  SmsDelivery.fromPartial({
    context: {
      messageId: '0193a7c2-5b1e-7c3d-9e4f-0a1b2c3d4e5f',
      accountId: 'bench-account-7',
      systemId: 'bench',
      customerMessageId: '0193a7c2-5b1e-7c3d-9e4f-0a1b2c3d4e5f',
      source: { ton: 5, npi: 0, address: 'BENCH' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery: 1,
      receivedAt: new Date(),
      validityUntil: new Date(),
      receiptText: Buffer.from('id:0193a7c2 sub:001 dlvrd:001 submit date:2612070400 stat:DELIVRD err:000'),
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    parts: [{ partNumber: 1, status: DeliveryStatus.DELIVERY_STATUS_DELIVERED, connectorId: 'sim-good' }],
    doneAt: new Date(),
    connectorId: 'sim-good',
    segments: 1,
    revision: 2,
    updatedAt: new Date(),
  }),
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
