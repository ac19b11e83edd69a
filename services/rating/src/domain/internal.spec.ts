import { describe, expect, it } from 'vitest';
import { asInternal } from './internal.js';
import type { RatedRecord } from './types.js';

const record: RatedRecord = {
  hubMessageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f',
  accountId: 'acc_probe',
  connectorId: 'con_a',
  segments: 1,
  status: 'DELIVERED',
  billedOn: 'final',
  sell: { amountMinor: 0n, currency: 'EUR', charged: true, missingRate: true },
  buy: { amountMinor: 3500n, currency: 'EUR', rateId: 'br_1', charged: true },
  buyInSellMinor: 3500n,
  margin: { amountMinor: -3500n, currency: 'EUR' },
  submitTime: 1,
  billedAt: 2,
};

describe('asInternal', () => {
  it('zeroes and uncharges the sell side, keeps the real buy cost, margin = -buy', () => {
    const r = asInternal({
      ...record,
      sell: { amountMinor: 5000n, currency: 'EUR', rateId: 's', charged: true },
    });
    expect(r.sell).toEqual({ amountMinor: 0n, currency: 'EUR', charged: false });
    expect(r.buy).toEqual(record.buy);
    expect(r.margin).toEqual({ amountMinor: -3500n, currency: 'EUR' });
  });
  it('drops a missing sell rate (the probe account needs none) and a margin it cannot compute', () => {
    const { buyInSellMinor: _b, ...noFx } = record;
    const r = asInternal(noFx);
    expect(r.sell.missingRate).toBeUndefined();
    expect(r.margin).toBeUndefined();
  });
});
