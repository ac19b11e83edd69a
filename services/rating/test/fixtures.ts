// Event builders shared by the integration tests and the benchmark (no test-runner imports).

import { randomUUID } from 'node:crypto';
import {
  DeliveryStatus,
  DispatchOutcome,
  SmsDelivery,
  SmsDispatched,
  TrafficType,
  type MessageContext,
} from '@smshub/contracts';

export function context(
  accountId: string,
  msisdn: string,
  submitAt: Date,
  info: { country?: string; mcc?: string; mnc?: string } = {},
  messageId: string = randomUUID(),
): MessageContext {
  return {
    messageId,
    accountId,
    systemId: 'cust1',
    customerMessageId: messageId,
    source: { ton: 5, npi: 0, address: 'ACME' },
    destination: { ton: 1, npi: 1, address: msisdn },
    registeredDelivery: 1,
    dataCoding: 0,
    trafficType: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
    receivedAt: submitAt,
    receiptText: Buffer.alloc(0),
    channel: 1,
    callbackUrl: '',
    clientReference: '',
    destinationInfo: {
      countryCode: info.country ?? '',
      mcc: info.mcc ?? '',
      mnc: info.mnc ?? '',
      matchedPrefix: '',
      ported: false,
      source: 0,
    },
  };
}

export function accepted(ctx: MessageContext, connectorId = 'con_a'): SmsDispatched {
  return SmsDispatched.fromPartial({
    context: ctx,
    partNumber: 1,
    partTotal: 1,
    connectorId,
    supplierMessageId: `S${ctx.messageId.slice(0, 8)}`,
    supplierMessageIdNormalised: `s${ctx.messageId.slice(0, 8)}`,
    attempt: 1,
    outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
    segments: 1,
    submittedAt: new Date(),
    respondedAt: new Date(),
  });
}

export function finalDelivery(
  ctx: MessageContext,
  status: DeliveryStatus,
  opts: { connectorId?: string; segments?: number; accepted?: boolean } = {},
): SmsDelivery {
  const segments = opts.segments ?? 1;
  const wasAccepted = opts.accepted ?? true;
  return SmsDelivery.fromPartial({
    context: ctx,
    status,
    final: true,
    parts: Array.from({ length: wasAccepted ? segments : 1 }, (_, i) => ({
      partNumber: i + 1,
      status,
      connectorId: opts.connectorId ?? '',
      supplierMessageId: wasAccepted ? `sup-${i}` : '',
    })),
    doneAt: new Date(),
    connectorId: wasAccepted ? (opts.connectorId ?? 'con_a') : (opts.connectorId ?? ''),
    segments: wasAccepted ? segments : 0,
    revision: 2,
    updatedAt: new Date(),
  });
}
