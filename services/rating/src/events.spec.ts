import { describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  DispatchOutcome,
  MessageContext,
  SmsDelivery,
  SmsDispatched,
} from '@smshub/contracts';
import { InvalidEventError, fromDelivery, fromDispatched, subscriberCountry } from './events.js';

const ctx = MessageContext.fromPartial({
  messageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f',
  accountId: 'acc_1',
  destination: { ton: 1, npi: 1, address: '447700900123' },
  receivedAt: new Date('2026-11-22T07:00:00.123Z'),
  destinationInfo: {
    countryCode: 'GB',
    mcc: '234',
    mnc: '15',
    matchedPrefix: '4477',
    ported: false,
    source: 0,
  },
});

function delivery(status: DeliveryStatus, parts: string[], segments: number): SmsDelivery {
  return SmsDelivery.fromPartial({
    context: ctx,
    status,
    final: true,
    parts: parts.map((id, i) => ({ partNumber: i + 1, status, supplierMessageId: id })),
    connectorId: 'con_a',
    segments,
  });
}

describe('event mapping', () => {
  it('an accepted single-part dispatch is the SUBMITTED outcome, priced at the submit time', () => {
    const m = fromDispatched(
      SmsDispatched.fromPartial({
        context: ctx,
        partNumber: 1,
        partTotal: 1,
        connectorId: 'con_a',
        outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
        segments: 1,
      }),
    );
    expect(m).toMatchObject({
      input: {
        event: {
          outcome: 'SUBMITTED',
          connectorId: 'con_a',
          segments: 1,
          submitTime: ctx.receivedAt!.getTime(),
          destination: { msisdn: '447700900123', country: 'GB', mccMnc: '23415' },
        },
      },
    });
    expect(fromDispatched(SmsDispatched.fromPartial({ context: ctx, partTotal: 2, outcome: 1 }))).toEqual({
      skip: 'multipart-waits-for-final',
    });
    expect(fromDispatched(SmsDispatched.fromPartial({ context: ctx, outcome: 2 }))).toEqual({
      skip: 'not-accepted',
    });
  });

  it('tells hub rejections and failed dispatches from supplier outcomes', () => {
    const out = (d: SmsDelivery) =>
      'input' in fromDelivery(d)
        ? (fromDelivery(d) as { input: { event: { outcome: string } } }).input.event.outcome
        : 'skip';
    expect(out(delivery(DeliveryStatus.DELIVERY_STATUS_REJECTED, [''], 0))).toBe('REJECTED_HUB');
    expect(out(delivery(DeliveryStatus.DELIVERY_STATUS_REJECTED, ['abc'], 1))).toBe('REJECTED_SUPPLIER');
    expect(out(delivery(DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE, [''], 0))).toBe('FAILED_DISPATCH');
    expect(out(delivery(DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE, ['a'], 1))).toBe('UNDELIVERABLE');
    expect(out(delivery(DeliveryStatus.DELIVERY_STATUS_FAILED, [''], 0))).toBe('FAILED_DISPATCH');
    expect(out(delivery(DeliveryStatus.DELIVERY_STATUS_DELIVERED, ['a', 'b', 'c'], 3))).toBe('DELIVERED');
    expect(
      fromDelivery({ ...delivery(DeliveryStatus.DELIVERY_STATUS_ENROUTE, ['a'], 1), final: false }),
    ).toEqual({
      skip: 'intermediate',
    });
  });

  it('refuses events that cannot be rated', () => {
    expect(() =>
      fromDelivery({
        ...delivery(DeliveryStatus.DELIVERY_STATUS_DELIVERED, ['a'], 1),
        context: { ...ctx, messageId: 'x' },
      }),
    ).toThrow(InvalidEventError);
    expect(() =>
      fromDelivery({
        ...delivery(DeliveryStatus.DELIVERY_STATUS_DELIVERED, ['a'], 1),
        context: { ...ctx, receivedAt: undefined },
      }),
    ).toThrow(/received_at/);
  });
});

describe('subscriberCountry (inbound country rates)', () => {
  it('reads international and unknown-TON senders as international numbers, never national or alphanumeric ones', () => {
    expect(subscriberCountry('447400123456', 1)).toBe('GB');
    expect(subscriberCountry('14165550123', 1)).toBe('CA');
    expect(subscriberCountry('33612345678', 0)).toBe('FR');
    expect(subscriberCountry('07700900123', 2)).toBeUndefined();
    expect(subscriberCountry('12345', 1)).toBeUndefined();
    expect(subscriberCountry('', 5)).toBeUndefined();
  });
});
