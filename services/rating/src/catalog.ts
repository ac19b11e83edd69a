// The rating configuration in memory: rate index, exchange rates, account and connector billing settings.
// Loaded from Postgres at start and reloaded (whole, then swapped atomically) when config.changes.v1
// announces a change of an account, connector or rate, and every `reloadIntervalMs` as a safety net.
// Pricing a message never queries Postgres.

import type { Pool } from 'pg';
import type { Logger } from '@smshub/logging';
import { FxTable, type ExchangeRate } from './domain/fx.js';
import { RateIndex } from './domain/rates.js';
import type { AccountPolicy, RateRecord, SupplierPolicy } from './domain/types.js';
import type { BalanceMode } from './domain/balance.js';

export interface AccountBilling {
  policy: AccountPolicy;
  mode: BalanceMode;
  creditLimitMinor: bigint;
}

export interface ConnectorBilling {
  policy: SupplierPolicy;
  supplierId: string;
}

export interface Catalog {
  /** MT rates: sell (account, plan) and buy (connector). Never inbound rates. */
  readonly rates: RateIndex;
  /** Inbound (MO) sell rates of accounts and plans, matched on the subscriber's number. */
  readonly inboundRates: RateIndex;
  readonly fx: FxTable;
  readonly accounts: ReadonlyMap<string, AccountBilling>;
  readonly connectors: ReadonlyMap<string, ConnectorBilling>;
  readonly loadedAt: number;
}

interface RateRow {
  id: string;
  owner_kind: 'account' | 'plan' | 'connector';
  owner_id: string;
  prefix: string | null;
  mcc_mnc: string | null;
  country: string | null;
  price_amount: string;
  price_scale: number;
  currency: string;
  effective_from: Date;
  effective_to: Date | null;
  inbound: boolean;
}

function rateFromRow(r: RateRow): RateRecord {
  const rate: RateRecord = {
    rateId: r.id,
    owner: { kind: r.owner_kind, id: r.owner_id },
    match:
      r.prefix !== null
        ? { kind: 'prefix', prefix: r.prefix }
        : r.mcc_mnc !== null
          ? { kind: 'mccmnc', mccMnc: r.mcc_mnc }
          : { kind: 'country', country: r.country ?? '' },
    price: { amount: BigInt(r.price_amount), scale: r.price_scale, currency: r.currency },
    effectiveFrom: r.effective_from.getTime(),
  };
  if (r.effective_to !== null) rate.effectiveTo = r.effective_to.getTime();
  return rate;
}

/** Reads the whole configuration in one REPEATABLE READ snapshot (rates and accounts agree). */
export async function loadCatalog(pool: Pool): Promise<Catalog> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const rates = await client.query<RateRow>(
      `SELECT id, owner_kind, owner_id, prefix, mcc_mnc, country, price_amount::text AS price_amount,
              price_scale, currency, effective_from, effective_to, inbound FROM rating_rates`,
    );
    const fx = await client.query<{
      id: string;
      from_currency: string;
      to_currency: string;
      rate: string;
      effective_from: Date;
      effective_to: Date | null;
    }>(
      `SELECT id, from_currency, to_currency, rate::text AS rate, effective_from, effective_to
         FROM rating_exchange_rates`,
    );
    const accounts = await client.query<{
      id: string;
      currency: string;
      charge_on: 'submit' | 'delivery';
      billing_mode: BalanceMode;
      credit_limit_minor: string;
      price_plan_id: string | null;
    }>(
      `SELECT id::text AS id, currency, charge_on, billing_mode, credit_limit_minor::text AS credit_limit_minor,
              price_plan_id FROM accounts`,
    );
    const connectors = await client.query<{
      connector_id: string;
      supplier_id: string;
      buy_charge_on: 'submit' | 'delivery';
    }>('SELECT connector_id, supplier_id, buy_charge_on FROM rating_connectors');
    await client.query('COMMIT');

    const index = new RateIndex(rates.rows.filter((r) => !r.inbound).map(rateFromRow));
    const inboundIndex = new RateIndex(rates.rows.filter((r) => r.inbound).map(rateFromRow));
    const fxTable = new FxTable(
      fx.rows.map((r): ExchangeRate => {
        const e: ExchangeRate = {
          id: r.id,
          from: r.from_currency,
          to: r.to_currency,
          rate: r.rate,
          effectiveFrom: r.effective_from.getTime(),
        };
        if (r.effective_to !== null) e.effectiveTo = r.effective_to.getTime();
        return e;
      }),
    );
    const accountMap = new Map<string, AccountBilling>();
    for (const a of accounts.rows) {
      const policy: AccountPolicy = { accountId: a.id, currency: a.currency, chargeOn: a.charge_on };
      if (a.price_plan_id !== null) policy.planId = a.price_plan_id;
      accountMap.set(a.id, { policy, mode: a.billing_mode, creditLimitMinor: BigInt(a.credit_limit_minor) });
    }
    const connectorMap = new Map<string, ConnectorBilling>();
    for (const c of connectors.rows) {
      connectorMap.set(c.connector_id, {
        policy: { connectorId: c.connector_id, buyChargeOn: c.buy_charge_on },
        supplierId: c.supplier_id,
      });
    }
    return Object.freeze({
      rates: index,
      inboundRates: inboundIndex,
      fx: fxTable,
      accounts: accountMap,
      connectors: connectorMap,
      loadedAt: Date.now(),
    });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Holds the current catalog and reloads it on request. Requests that arrive while a reload runs are
 * coalesced into one more reload after it, so a burst of config changes costs at most two loads.
 */
export class CatalogHolder {
  private current: Catalog | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly onLoaded: (c: Catalog, ms: number) => void = () => undefined,
  ) {}

  get catalog(): Catalog {
    if (this.current === undefined) throw new Error('rating catalog not loaded yet');
    return this.current;
  }

  /** Reloads now (or right after the reload in progress); resolves when the new catalog is in place. */
  reload(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const t0 = performance.now();
          const next = await loadCatalog(this.pool);
          this.current = next;
          const ms = performance.now() - t0;
          this.onLoaded(next, ms);
          this.log.info(
            {
              rates: next.rates.size,
              inboundRates: next.inboundRates.size,
              accounts: next.accounts.size,
              connectors: next.connectors.size,
              ms: Math.round(ms),
            },
            'rating configuration loaded',
          );
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
