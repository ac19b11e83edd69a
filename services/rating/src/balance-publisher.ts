// Publishes account balances on balances.v1 (compacted, key = account id) after they change, coalesced:
// accounts are marked dirty by debits and top-ups, and every `intervalMs` the dirty ones are read from
// Postgres (the committed truth, whichever replica changed them) and published once each. So an account
// is published at most once per interval, however many messages it sent.

import type { Pool } from 'pg';
import type { AccountBalance, TopicSpec } from '@smshub/contracts';
import { BillingMode } from '@smshub/contracts';
import type { TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { spendable, type Balance } from './domain/balance.js';
import type { Catalog } from './catalog.js';
import { money } from './record.js';
import { store } from './pg-errors.js';
import { ratingMetrics } from './metrics.js';

interface BalanceRow {
  account_id: string;
  currency: string;
  balance_minor: string;
  revision: string;
  updated_at: Date;
}

/** AccountBalance for a stored balance and the account's billing settings. */
export function toAccountBalance(
  row: { accountId: string; currency: string; balanceMinor: bigint; revision: bigint; updatedAt: Date },
  billing: { mode: 'prepaid' | 'postpaid'; creditLimitMinor: bigint } | undefined,
): AccountBalance {
  const mode = billing?.mode ?? 'prepaid';
  const b: Balance = {
    accountId: row.accountId,
    currency: row.currency,
    mode,
    balanceMinor: row.balanceMinor,
    creditLimitMinor: mode === 'postpaid' ? (billing?.creditLimitMinor ?? 0n) : 0n,
    overdraftMinor: 0n,
    version: 0,
  };
  const available = spendable(b);
  return {
    accountId: row.accountId,
    billingMode: mode === 'postpaid' ? BillingMode.BILLING_MODE_POSTPAID : BillingMode.BILLING_MODE_PREPAID,
    balance: money(row.balanceMinor, row.currency),
    creditLimit: money(b.creditLimitMinor, row.currency),
    available: money(available, row.currency),
    blocked: available <= 0n,
    revision: row.revision,
    updatedAt: row.updatedAt,
  };
}

export class BalancePublisher {
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      pool: Pool;
      producer: TypedProducer;
      spec: TopicSpec<AccountBalance>;
      catalog: () => Catalog;
      logger: Logger;
      intervalMs: number;
    },
  ) {}

  markDirty(accountIds: Iterable<string>): void {
    for (const id of accountIds) this.dirty.add(id);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and publishes what is still dirty. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Publishes every dirty account now (one flush at a time). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty = new Set();
    try {
      const res = await store('reading balances', () =>
        this.deps.pool.query<BalanceRow>(
          `SELECT account_id, currency, balance_minor::text, revision::text, updated_at
             FROM rating_balances WHERE account_id = ANY($1::text[])`,
          [ids],
        ),
      );
      const catalog = this.deps.catalog();
      await Promise.all(
        res.rows.map(async (r) => {
          const value = toAccountBalance(
            {
              accountId: r.account_id,
              currency: r.currency,
              balanceMinor: BigInt(r.balance_minor),
              revision: BigInt(r.revision),
              updatedAt: r.updated_at,
            },
            catalog.accounts.get(r.account_id),
          );
          await this.deps.producer.produce(this.deps.spec, value);
          ratingMetrics.balance.set({ account: r.account_id }, Number(r.balance_minor));
        }),
      );
    } catch (err) {
      // Published next time: the balance is read again then, so nothing stale is ever sent.
      for (const id of ids) this.dirty.add(id);
      this.deps.logger.warn({ err, accounts: ids.length }, 'publishing balances failed; will retry');
    }
  }
}

export interface TopUpRequest {
  /** Top-up id (UUIDv7). */
  id: string;
  accountId: string;
  /** Minor units of the account currency; negative for a correction. */
  amountMinor: bigint;
  currency: string;
  /** A repeated request with the same key has no further effect. */
  idempotencyKey: string;
  reference?: string;
  actor?: string;
}

export interface TopUpResult {
  /** False when the idempotency key had already been applied. */
  applied: boolean;
  topUpId: string;
  balanceMinor: bigint;
  currency: string;
  revision: bigint;
}

/**
 * Applies a top-up through the SQL function rating_top_up (migration 0500), which the admin API can
 * call directly: ledger entry and balance change in one statement, once per idempotency key.
 */
export async function applyTopUp(pool: Pool, req: TopUpRequest): Promise<TopUpResult> {
  const res = await store('applying a top-up', () =>
    pool.query<{
      applied: boolean;
      topup_id: string;
      balance_minor: string;
      currency: string;
      revision: string;
    }>(
      `SELECT applied, topup_id::text, balance_minor::text, currency, revision::text
         FROM rating_top_up($1::uuid, $2, $3::bigint, $4, $5, $6, $7)`,
      [
        req.id,
        req.accountId,
        req.amountMinor.toString(),
        req.currency,
        req.idempotencyKey,
        req.reference ?? '',
        req.actor ?? '',
      ],
    ),
  );
  const r = res.rows[0];
  if (r === undefined) throw new Error('rating_top_up returned no row');
  return {
    applied: r.applied,
    topUpId: r.topup_id,
    balanceMinor: BigInt(r.balance_minor),
    currency: r.currency,
    revision: BigInt(r.revision),
  };
}
