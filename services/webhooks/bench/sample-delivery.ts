// The record webhooks' benches read: a final DELIVERED status shaped like dlr's (a realistic context:
// addresses, timestamps, a receipt text; one part).
import { DeliveryStatus, SmsDelivery } from '@smshub/contracts';

export function benchDelivery(id: string, accountId: string): SmsDelivery {
  return SmsDelivery.fromPartial({
    context: {
      messageId: id,
      accountId,
      systemId: 'bench',
      customerMessageId: id,
      source: { ton: 5, npi: 0, address: 'BENCH' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery: 1,
      receivedAt: new Date(),
      validityUntil: new Date(Date.now() + 86_400_000),
      receiptText: Buffer.from(`id:${id} sub:001 dlvrd:001 submit date:2612070400 stat:DELIVRD err:000`),
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    parts: [{ partNumber: 1, status: DeliveryStatus.DELIVERY_STATUS_DELIVERED, connectorId: 'sim-good' }],
    doneAt: new Date(),
    connectorId: 'sim-good',
    segments: 1,
    revision: 2,
    updatedAt: new Date(),
  });
}
