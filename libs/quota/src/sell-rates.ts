// Whether a sell rate can apply to a submit, decided at ingress before the message is accepted, so that an
// account with refuse_unrated set never sends a message nobody is billed for (rating would rate it
// RATED_STATUS_MISSING_RATE: sell 0, buy > 0).
//
// Rating (services/rating/src/domain/rates.ts) prices a message with the first rate valid at its submit
// time, searching the account's own rates and then its price plan's, each by MCC-MNC, longest E.164 prefix
// of the destination digits, then country. Ingress runs before routing, so it knows the digits but not yet
// the country or the network routing will resolve. It therefore refuses only what certainly has no rate;
// when in doubt it accepts:
//   - prefix rates: matched on the same digits rating uses (the address without "+" or "00");
//   - country rates: taken to match every number that starts with the country's calling code (so +1 counts
//     for US and CA alike), and, for a number that may be national (TON other than 1, no "+" or "00"),
//     the account's default country, which routing reads national numbers in;
//   - MCC-MNC rates: the network is known only after routing (and number portability), so an owner with a
//     network rate valid now counts as priced for every destination;
//   - a country rate whose calling code is unknown counts likewise.
// Validity: a rate counts when effectiveFrom <= now < effectiveTo, as rating checks it at the submit time.
//
// The price at accept time (services/http-api's 202): quote() picks the sell rate rating will use when the
// network has no rate of its own, by rating's precedence after MCC-MNC (services/rating/src/domain/rates.ts):
// the account's longest E.164 prefix, then the account's rate for the number's country, then the same in
// the price plan; ties go to the latest effective_from, then the smallest rate id. An MCC-MNC rate needs the
// network routing resolves later, so it is not quoted (when one applies, the rated price differs). No rate:
// undefined (the API answers price null).

import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js';
/** The pool's query method: all the cache needs (libs never open connections of their own). */
interface Queryable {
  query<R extends object>(sql: string): Promise<{ rows: R[] }>;
}

/** One MT sell rate as ingress needs it (rating_rates, owner_kind account or plan, not inbound: MO rates never price a submit). */
export interface SellRateRow {
  owner_kind: string;
  owner_id: string;
  prefix: string | null;
  mcc_mnc: string | null;
  country: string | null;
  effective_from: Date;
  effective_to: Date | null;
  /** The rate's id and price per segment (price_amount / 10^price_scale currency); absent: not quoted. */
  id?: string;
  price_amount?: string | bigint;
  price_scale?: number;
  currency?: string;
}

/** A sell price per segment: amount / 10^scale units of currency. */
export interface SellPrice {
  amount: bigint;
  scale: number;
  currency: string;
  rateId: string;
}

interface QuotedRate extends SellPrice {
  from: number;
  to: number;
}

/** What a quote needs: the account, its price plan, the E.164 digits and the number's country. */
export interface QuoteQuery {
  accountId: string;
  pricePlanId: string | undefined;
  digits: string;
  country: string | undefined;
}

/** Rating's tie-break: the latest effective_from first, then the smallest rate id. */
function byPrecedence(a: QuotedRate, b: QuotedRate): number {
  if (a.from !== b.from) return b.from - a.from;
  return a.rateId < b.rateId ? -1 : a.rateId > b.rateId ? 1 : 0;
}

function firstValid(list: readonly QuotedRate[] | undefined, at: number): QuotedRate | undefined {
  if (!list) return undefined;
  for (const r of list) if (r.from <= at && at < r.to) return r;
  return undefined;
}

interface Period {
  from: number;
  to: number;
}

interface OwnerRates {
  /** Rate prefixes and the calling codes of country rates, each with the validity periods behind it. */
  prefixes: Map<string, Period[]>;
  countries: Map<string, Period[]>;
  /** Rates that may match any destination (MCC-MNC, or a country with no known calling code). */
  anywhere: Period[];
  /** Priced prefix and country rates (exact prefix / country code), in rating's precedence. */
  quotePrefixes: Map<string, QuotedRate[]>;
  quoteCountries: Map<string, QuotedRate[]>;
}

/** What the check needs to know about a submit. */
export interface PricedQuery {
  accountId: string;
  pricePlanId: string | undefined;
  defaultCountry: string | undefined;
  /** destination_addr and dest_addr_ton as submitted. */
  address: string;
  ton: number;
}

const MAX_DIGITS = 15;

function validAt(periods: readonly Period[] | undefined, at: number): boolean {
  if (!periods) return false;
  for (const p of periods) if (p.from <= at && at < p.to) return true;
  return false;
}

function callingCode(country: string): string | undefined {
  try {
    return getCountryCallingCode(country as CountryCode);
  } catch {
    return undefined;
  }
}

/** The sell rates of every account and price plan, indexed by owner; immutable once built. */
export class SellRateIndex {
  private readonly owners = new Map<string, OwnerRates>();
  readonly size: number;

  constructor(rows: Iterable<SellRateRow>) {
    let n = 0;
    for (const r of rows) {
      if (r.owner_kind !== 'account' && r.owner_kind !== 'plan') continue;
      const key = `${r.owner_kind}:${r.owner_id}`;
      let o = this.owners.get(key);
      if (!o)
        this.owners.set(
          key,
          (o = {
            prefixes: new Map(),
            countries: new Map(),
            anywhere: [],
            quotePrefixes: new Map(),
            quoteCountries: new Map(),
          }),
        );
      const period = { from: r.effective_from.getTime(), to: r.effective_to?.getTime() ?? Infinity };
      if (r.id !== undefined && r.price_amount !== undefined && r.currency !== undefined) {
        const quoted: QuotedRate = {
          ...period,
          amount: BigInt(r.price_amount),
          scale: r.price_scale ?? 6,
          currency: r.currency,
          rateId: r.id,
        };
        const at =
          r.prefix !== null
            ? { map: o.quotePrefixes, key: r.prefix }
            : r.country !== null
              ? { map: o.quoteCountries, key: r.country.toUpperCase() }
              : undefined;
        if (at) {
          const list = at.map.get(at.key) ?? [];
          list.push(quoted);
          list.sort(byPrecedence);
          at.map.set(at.key, list);
        }
      }
      const add = (m: Map<string, Period[]>, k: string): void => {
        const list = m.get(k);
        if (list) list.push(period);
        else m.set(k, [period]);
      };
      if (r.prefix !== null) add(o.prefixes, r.prefix);
      else if (r.country !== null) {
        const country = r.country.toUpperCase();
        add(o.countries, country);
        const cc = callingCode(country);
        if (cc) add(o.prefixes, cc);
        else o.anywhere.push(period);
      } else o.anywhere.push(period);
      n++;
    }
    this.size = n;
  }

  /** True when a sell rate of the account, or else of its price plan, may apply to the destination at `at`. */
  priced(q: PricedQuery, at: number): boolean {
    const raw = q.address.trim();
    const international = q.ton === 1 || raw.startsWith('+') || raw.startsWith('00');
    // The digits rating matches prefixes on.
    const digits = raw.replace(/^\+/, '').replace(/^00/, '');
    const nationalCountry = international ? undefined : q.defaultCountry?.toUpperCase();
    return (
      this.ownerPriced(`account:${q.accountId}`, digits, nationalCountry, at) ||
      (q.pricePlanId !== undefined && this.ownerPriced(`plan:${q.pricePlanId}`, digits, nationalCountry, at))
    );
  }

  /** The sell price per segment rating will charge unless a network (MCC-MNC) rate applies; see the header. */
  quote(q: QuoteQuery, at: number): SellPrice | undefined {
    return (
      this.ownerQuote(`account:${q.accountId}`, q, at) ??
      (q.pricePlanId !== undefined ? this.ownerQuote(`plan:${q.pricePlanId}`, q, at) : undefined)
    );
  }

  private ownerQuote(key: string, q: QuoteQuery, at: number): SellPrice | undefined {
    const o = this.owners.get(key);
    if (!o) return undefined;
    for (let i = Math.min(q.digits.length, MAX_DIGITS); i >= 1; i--) {
      const r = firstValid(o.quotePrefixes.get(q.digits.slice(0, i)), at);
      if (r) return { amount: r.amount, scale: r.scale, currency: r.currency, rateId: r.rateId };
    }
    if (q.country === undefined) return undefined;
    const r = firstValid(o.quoteCountries.get(q.country.toUpperCase()), at);
    return r && { amount: r.amount, scale: r.scale, currency: r.currency, rateId: r.rateId };
  }

  private ownerPriced(key: string, digits: string, nationalCountry: string | undefined, at: number): boolean {
    const o = this.owners.get(key);
    if (!o) return false;
    if (validAt(o.anywhere, at)) return true;
    if (nationalCountry !== undefined && validAt(o.countries.get(nationalCountry), at)) return true;
    const n = Math.min(digits.length, MAX_DIGITS);
    for (let i = n; i >= 1; i--) if (validAt(o.prefixes.get(digits.slice(0, i)), at)) return true;
    return false;
  }
}

const SELECT = `SELECT owner_kind, owner_id, prefix, mcc_mnc, country, effective_from, effective_to,
       id, price_amount::text AS price_amount, price_scale, currency
  FROM rating_rates
 WHERE owner_kind IN ('account', 'plan') AND NOT inbound AND (effective_to IS NULL OR effective_to > now())`;

/**
 * In-memory copy of the sell rates (rating_rates, read-only here: rating owns the table and the admin API
 * writes it). Loaded whole at start and reloaded whole on a RESOURCE_KIND_RATE change in config.changes.v1
 * and with the periodic account reload; a submit never waits for Postgres.
 */
export class SellRateCache {
  private index = new SellRateIndex([]);
  private loading: Promise<void> | null = null;
  private again = false;

  constructor(private readonly pool: Queryable) {}

  get size(): number {
    return this.index.size;
  }

  priced(q: PricedQuery, at: number): boolean {
    return this.index.priced(q, at);
  }

  quote(q: QuoteQuery, at: number): SellPrice | undefined {
    return this.index.quote(q, at);
  }

  /** Reloads everything; concurrent calls coalesce (one more load runs after the current one). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const { rows } = await this.pool.query<SellRateRow>(SELECT);
          this.index = new SellRateIndex(rows);
        } while (this.again);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
