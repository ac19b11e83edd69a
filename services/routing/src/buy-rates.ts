// Connector buy rates in memory, for the least-cost and score strategies (BuyRateLookup).
//
// Source: rating's rating_rates rows with owner_kind = 'connector' (one rate table for the hub, owned by
// services/rating). Precedence is rating's, so the expected cost routing publishes is the price rating will
// charge: MCC-MNC first (the network the number is on), then the longest matching prefix, then the
// country. The country is the destination's as routing resolved it from the number (what rating receives
// and prices by), so a number missing from the prefix table still gets its country's rate; only without
// it does the prefix table's country count. A level counts only if it has a rate effective at the message time; ties: the latest
// effective_from, then the smallest id. Prices are converted to micro-units (scale 6).

import { DigitTrie } from './domain/digit-trie.js';
import type { BuyRateLookup } from './domain/strategies.js';
import type { Money } from './domain/types.js';

export interface BuyRateRow {
  id: string;
  connectorId: string;
  prefix: string | null;
  /** "23415" (rating's form, no dash) or "234-15". */
  mccMnc: string | null;
  country: string | null;
  priceAmount: bigint;
  priceScale: number;
  currency: string;
  effectiveFrom: Date;
  effectiveTo: Date | null;
}

interface Rate {
  id: string;
  money: Money;
  from: number;
  to: number;
}

interface ConnectorRates {
  prefixes: DigitTrie<Rate[]>;
  mccMnc: Map<string, Rate[]>;
  country: Map<string, Rate[]>;
}

/** amount / 10^scale major units -> micro-units, rounded half away from zero when scale > 6. */
export function toMicro(amount: bigint, scale: number): bigint {
  if (scale === 6) return amount;
  if (scale < 6) return amount * 10n ** BigInt(6 - scale);
  const d = 10n ** BigInt(scale - 6);
  const neg = amount < 0n;
  const a = neg ? -amount : amount;
  const q = (a * 2n + d) / (d * 2n);
  return neg ? -q : q;
}

/** "23415" -> "234-15"; "234-15" unchanged. */
export function dashMccMnc(v: string): string {
  return v.includes('-') ? v : `${v.slice(0, 3)}-${v.slice(3)}`;
}

function pick(rates: readonly Rate[] | undefined, t: number): Rate | undefined {
  let best: Rate | undefined;
  for (const r of rates ?? []) {
    if (r.from > t || r.to <= t) continue;
    if (!best || r.from > best.from || (r.from === best.from && r.id < best.id)) best = r;
  }
  return best;
}

/**
 * An in-memory BuyRateLookup. `countryOf` gives the destination country of an E.164 number (the prefix
 * table), for country-level rates.
 */
export function buyRateLookup(
  rows: Iterable<BuyRateRow>,
  countryOf: (e164: string) => string | undefined,
): BuyRateLookup & { readonly size: number } {
  const byConnector = new Map<string, ConnectorRates>();
  let size = 0;
  for (const row of rows) {
    let c = byConnector.get(row.connectorId);
    if (!c) {
      c = { prefixes: new DigitTrie<Rate[]>(64), mccMnc: new Map(), country: new Map() };
      byConnector.set(row.connectorId, c);
    }
    const rate: Rate = {
      id: row.id,
      money: { amountMinor: toMicro(row.priceAmount, row.priceScale), currency: row.currency },
      from: row.effectiveFrom.getTime(),
      to: row.effectiveTo ? row.effectiveTo.getTime() : Number.POSITIVE_INFINITY,
    };
    size++;
    if (row.prefix) c.prefixes.set(row.prefix, [rate], (a, b) => [...a, ...b]);
    else if (row.mccMnc) push(c.mccMnc, dashMccMnc(row.mccMnc), rate);
    else if (row.country) push(c.country, row.country, rate);
  }
  const lookup = (
    connectorId: string,
    e164: string,
    mccMnc: string | undefined,
    at: Date,
    destinationCountry?: string,
  ): Money | null => {
    const c = byConnector.get(connectorId);
    if (!c) return null;
    const t = at.getTime();
    if (mccMnc !== undefined) {
      const r = pick(c.mccMnc.get(mccMnc), t);
      if (r) return r.money;
    }
    const digits = e164.startsWith('+') ? e164.slice(1) : e164;
    // Longest prefix with an effective rate: visit every matching prefix, keep the longest that has one.
    let byPrefix: Rate | undefined;
    let length = -1;
    c.prefixes.forEachPrefixOf(digits, (rates, len) => {
      const r = pick(rates, t);
      if (r && len > length) {
        byPrefix = r;
        length = len;
      }
    });
    if (byPrefix) return byPrefix.money;
    const country = destinationCountry ?? countryOf(e164);
    if (country !== undefined) {
      const r = pick(c.country.get(country), t);
      if (r) return r.money;
    }
    return null;
  };
  return Object.assign(lookup, { size });
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
