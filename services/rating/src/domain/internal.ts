// Internal traffic (the hub's own grey-route probes, channel PROBE; docs/routing.md "Grey routes"): never a
// customer's charge. The record keeps the real supplier side (buy, converted buy) so the cost of probing
// shows in settlement; the sell side is zero and not charged (no balance debit, no missing-rate alert for
// the probe account), and the margin is minus the converted buy.
import type { RatedRecord } from './types.js';

export function asInternal(r: RatedRecord): RatedRecord {
  const { margin: _margin, ...rest } = r;
  const out: RatedRecord = { ...rest, sell: { amountMinor: 0n, currency: r.sell.currency, charged: false } };
  if (r.buyInSellMinor !== undefined)
    out.margin = { amountMinor: -r.buyInSellMinor, currency: r.sell.currency };
  return out;
}
