// Rate selection, indexed for fast lookups (a digit trie per owner for prefixes, hash maps for
// MCC-MNC and country). No scan over the rate table.
//
// Precedence for one owner, most specific first:
//   1. MCC-MNC: the network the number is actually on (after portability), when the message carries one;
//   2. the longest matching E.164 prefix;
//   3. the destination country.
// A level is used only if it has a rate effective at the event time; otherwise the next level is tried.
// Sell side: the account's own rates are searched first (all three levels); only if none applies, the
// account's price plan. Buy side: the connector's rates.
// Ties (same owner, same match key, several rates effective at t): the latest effectiveFrom wins, then
// the smallest rateId (string order). Deterministic for any insertion order.

import { MoneyError, assertCurrency } from './money.js';
import type { Destination, RateOwner, RateRecord } from './types.js';

interface TrieNode {
  children: (TrieNode | undefined)[];
  rates?: RateRecord[];
}

interface OwnerIndex {
  trie: TrieNode;
  mccMnc: Map<string, RateRecord[]>;
  country: Map<string, RateRecord[]>;
}

export interface RateSelection {
  rate: RateRecord;
  level: 'mccmnc' | 'prefix' | 'country';
  owner: RateOwner;
}

function newNode(): TrieNode {
  return { children: [] };
}

function compareRates(a: RateRecord, b: RateRecord): number {
  if (a.effectiveFrom !== b.effectiveFrom) return b.effectiveFrom - a.effectiveFrom;
  return a.rateId < b.rateId ? -1 : a.rateId > b.rateId ? 1 : 0;
}

function insertSorted(list: RateRecord[], r: RateRecord): void {
  let i = list.length;
  while (i > 0 && compareRates(list[i - 1] as RateRecord, r) > 0) i--;
  list.splice(i, 0, r);
}

function effectiveAt(list: readonly RateRecord[] | undefined, at: number): RateRecord | undefined {
  if (list === undefined) return undefined;
  for (const r of list) {
    if (r.effectiveFrom <= at && (r.effectiveTo === undefined || at < r.effectiveTo)) return r;
  }
  return undefined;
}

export class RateIndex {
  // Per owner kind, by owner id: a lookup hashes the id the event already carries (its hash is kept with the
  // string) instead of building and hashing a new "kind:id" string per selection (three per message).
  private readonly owners: Record<RateOwner['kind'], Map<string, OwnerIndex>> = {
    account: new Map(),
    plan: new Map(),
    connector: new Map(),
  };
  private count = 0;

  constructor(rates: Iterable<RateRecord> = []) {
    for (const r of rates) this.add(r);
  }

  get size(): number {
    return this.count;
  }

  add(rate: RateRecord): void {
    assertCurrency(rate.price.currency);
    if (rate.price.scale < 0 || rate.price.scale > 18) throw new MoneyError(`rate ${rate.rateId}: bad scale`);
    if (rate.price.amount < 0n) throw new MoneyError(`rate ${rate.rateId}: negative price`);
    if (rate.effectiveTo !== undefined && rate.effectiveTo <= rate.effectiveFrom) {
      throw new MoneyError(`rate ${rate.rateId}: empty effective period`);
    }
    const byId = this.owners[rate.owner.kind];
    let idx = byId.get(rate.owner.id);
    if (idx === undefined) {
      idx = { trie: newNode(), mccMnc: new Map(), country: new Map() };
      byId.set(rate.owner.id, idx);
    }
    const m = rate.match;
    switch (m.kind) {
      case 'prefix': {
        if (!/^\d{1,15}$/.test(m.prefix))
          throw new MoneyError(`rate ${rate.rateId}: prefix must be 1-15 digits`);
        let node = idx.trie;
        for (let i = 0; i < m.prefix.length; i++) {
          const d = m.prefix.charCodeAt(i) - 48;
          node = node.children[d] ??= newNode();
        }
        insertSorted((node.rates ??= []), rate);
        break;
      }
      case 'mccmnc': {
        if (!/^\d{5,6}$/.test(m.mccMnc))
          throw new MoneyError(`rate ${rate.rateId}: MCC-MNC must be 5-6 digits`);
        const list = idx.mccMnc.get(m.mccMnc) ?? [];
        insertSorted(list, rate);
        idx.mccMnc.set(m.mccMnc, list);
        break;
      }
      case 'country': {
        const c = m.country.toUpperCase();
        const list = idx.country.get(c) ?? [];
        insertSorted(list, rate);
        idx.country.set(c, list);
        break;
      }
    }
    this.count++;
  }

  /** Best rate of one owner for the destination at time `at`, by the precedence above. */
  selectFor(owner: RateOwner, dest: Destination, at: number): RateSelection | undefined {
    const idx = this.owners[owner.kind].get(owner.id);
    if (idx === undefined) return undefined;
    if (dest.mccMnc !== undefined) {
      const r = effectiveAt(idx.mccMnc.get(dest.mccMnc), at);
      if (r) return { rate: r, level: 'mccmnc', owner };
    }
    let best: RateRecord | undefined;
    let node: TrieNode | undefined = idx.trie;
    const digits = dest.msisdn;
    for (let i = 0; i < digits.length && node !== undefined; i++) {
      const d = digits.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      node = node.children[d];
      if (node?.rates !== undefined) best = effectiveAt(node.rates, at) ?? best;
    }
    if (best) return { rate: best, level: 'prefix', owner };
    if (dest.country !== undefined) {
      const r = effectiveAt(idx.country.get(dest.country.toUpperCase()), at);
      if (r) return { rate: r, level: 'country', owner };
    }
    return undefined;
  }

  /** Sell rate: account overrides first, then the price plan. */
  selectSell(
    accountId: string,
    planId: string | undefined,
    dest: Destination,
    at: number,
  ): RateSelection | undefined {
    return (
      this.selectFor({ kind: 'account', id: accountId }, dest, at) ??
      (planId === undefined ? undefined : this.selectFor({ kind: 'plan', id: planId }, dest, at))
    );
  }

  selectBuy(connectorId: string, dest: Destination, at: number): RateSelection | undefined {
    return this.selectFor({ kind: 'connector', id: connectorId }, dest, at);
  }
}
