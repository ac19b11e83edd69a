import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, TrafficType } from '@smshub/contracts';
import type { Catalog } from './catalog.js';
import type { Mapped } from './events.js';
import { rerouteCost, rerouteCostId, withRerouteCost } from './reroute-cost.js';

const ID = '01a24e38-4ca5-7442-a06a-c54764640146';
const main: Mapped = {
  input: {
    event: {
      hubMessageId: ID,
      accountId: 'acc',
      connectorId: 'con_b',
      destination: { msisdn: '447400100001', country: 'GB' },
      segments: 1,
      outcome: 'DELIVERED',
      submitTime: 0,
    },
    deliveryStatus: 'DELIVERY_STATUS_DELIVERED',
    trafficType: TrafficType.TRAFFIC_TYPE_OTP,
  },
};
const delivery = SmsDelivery.fromPartial({
  status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
  final: true,
  connectorId: 'con_b',
  reroutedFromConnectorId: 'con_a',
});
const catalog = (chargeOn: 'submit' | 'delivery') =>
  ({
    accounts: new Map([['acc', { policy: { accountId: 'acc', currency: 'EUR', chargeOn } }]]),
    connectors: new Map(),
  }) as unknown as Catalog;

const marked = () => {
  const m = withRerouteCost(delivery, main);
  if (!('input' in m) || m.input.rerouteFrom === undefined) throw new Error('not marked');
  return { ...m.input, rerouteFrom: m.input.rerouteFrom };
};

describe('rerouteCost', () => {
  it('the CDR names the failed connector (billed on submit): the re-sent attempt is recorded apart', () => {
    expect(rerouteCost(marked(), 'con_a', catalog('delivery'))).toMatchObject({
      input: {
        internal: true,
        reroutedMessageId: ID,
        event: { hubMessageId: rerouteCostId(ID, 'con_b'), connectorId: 'con_b', outcome: 'DELIVERED' },
      },
    });
  });

  it('the CDR names the re-sent attempt (billed on the final outcome, or rated out of order): the failed attempt is recorded apart', () => {
    // whatever the billing point says: the CDR decides
    for (const chargeOn of ['submit', 'delivery'] as const) {
      const extra = rerouteCost(marked(), 'con_b', catalog(chargeOn));
      expect(extra).toMatchObject({
        input: { internal: true, event: { connectorId: 'con_a', outcome: 'UNDELIVERABLE', segments: 1 } },
      });
      expect('input' in extra && extra.input.rerouteFrom).toBeUndefined();
    }
  });

  it("the failed attempt's record carries its own outcome: REJECTD as REJECTED_SUPPLIER, UNDELIV (or unsaid) as UNDELIVERABLE", () => {
    const rejected = withRerouteCost(
      SmsDelivery.fromPartial({ ...delivery, reroutedFromStatus: DeliveryStatus.DELIVERY_STATUS_REJECTED }),
      main,
    );
    if (!('input' in rejected) || rejected.input.rerouteFrom === undefined) throw new Error('not marked');
    expect(
      rerouteCost(
        { ...rejected.input, rerouteFrom: rejected.input.rerouteFrom },
        'con_b',
        catalog('delivery'),
      ),
    ).toMatchObject({
      input: {
        internal: true,
        deliveryStatus: 'DELIVERY_STATUS_REJECTED',
        event: { connectorId: 'con_a', outcome: 'REJECTED_SUPPLIER' },
      },
    });
    // A delivery from a dlr that does not say (UNSPECIFIED): UNDELIVERABLE, as before the field.
    expect(rerouteCost(marked(), 'con_b', catalog('delivery'))).toMatchObject({
      input: { deliveryStatus: 'DELIVERY_STATUS_UNDELIVERABLE', event: { outcome: 'UNDELIVERABLE' } },
    });
    // The re-sent attempt's record keeps the message's own status.
    expect(rerouteCost(marked(), 'con_a', catalog('delivery'))).toMatchObject({
      input: { deliveryStatus: 'DELIVERY_STATUS_DELIVERED', event: { outcome: 'DELIVERED' } },
    });
  });

  it('no CDR: the billing point decides', () => {
    expect(rerouteCost(marked(), undefined, catalog('submit'))).toMatchObject({
      input: { event: { connectorId: 'con_b' } },
    });
    expect(rerouteCost(marked(), undefined, catalog('delivery'))).toMatchObject({
      input: { event: { connectorId: 'con_a' } },
    });
  });

  it('marks only a re-routed final delivery, and derives a stable UUID', () => {
    expect(withRerouteCost({ ...delivery, reroutedFromConnectorId: '' }, main)).toEqual(main);
    // the extra attempt never started: the failed connector's own outcome is the final one
    expect(withRerouteCost({ ...delivery, connectorId: 'con_a' }, main)).toEqual(main);
    expect(rerouteCostId(ID, 'con_a')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(rerouteCostId(ID, 'con_a')).toBe(rerouteCostId(ID.toUpperCase(), 'con_a'));
    expect(rerouteCostId(ID, 'con_a')).not.toBe(rerouteCostId(ID, 'con_b'));
  });
});
