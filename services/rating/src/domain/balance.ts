// Balances: prepaid funds and postpaid credit limits, in the account currency's minor units.
//
// - Prepaid: `balanceMinor` is the money left. Spendable = balanceMinor.
// - Postpaid: `balanceMinor` is the net position (payments minus usage, usually <= 0) and the account
//   may spend down to -creditLimitMinor. Spendable = balanceMinor + creditLimitMinor.
//
// `debit` always applies: a rated record describes a message that was already sent, so refusing the
// debit would only lose the revenue. It reports when the account went below zero spendable
// (`overdrawn`) and when it went further than the overdraft allowance (`beyondAllowance`, an alert: the
// consistency assumptions below were broken).
//
// Consistency bound. Ingress decides "out of credit" from a CACHED balance that is refreshed every
// `publishIntervalMs` (plus propagation delay). It refuses a message when the cached spendable minus what
// this ingress instance has itself accepted since the refresh is below the message's estimated price.
// Between two refreshes all instances together accept at most `tps x staleness` messages, each at most
// `maxPriceMinor`, so the true spendable can go negative by at most
//     overdraft <= ceil(tps x stalenessMs / 1000) x maxPriceMinor
// which is what `overdraftBound` computes and what `overdraftMinor` should be set to.
// Caveat: for charge_on=delivery (and deferred) accounts the debit arrives only with the final outcome,
// up to the validity period later; ingress must then also count its in-flight messages at their estimated
// price, or the bound above does not hold.

import { MoneyError } from './money.js';

export type BalanceMode = 'prepaid' | 'postpaid';

export interface Balance {
  accountId: string;
  currency: string;
  mode: BalanceMode;
  balanceMinor: bigint;
  /** Postpaid credit limit (>= 0); ignored for prepaid. */
  creditLimitMinor: bigint;
  /** How far below zero spendable the account may be driven by stale caches (see overdraftBound). */
  overdraftMinor: bigint;
  /** Incremented by every change (optimistic concurrency in storage). */
  version: number;
}

export interface Amount {
  amountMinor: bigint;
  currency: string;
}

export function spendable(b: Balance): bigint {
  return b.mode === 'postpaid' ? b.balanceMinor + b.creditLimitMinor : b.balanceMinor;
}

function checkAmount(b: Balance, a: Amount): void {
  if (a.currency !== b.currency) {
    throw new MoneyError(`amount in ${a.currency} applied to a ${b.currency} balance of ${b.accountId}`);
  }
  if (a.amountMinor < 0n) throw new MoneyError('amount must not be negative');
}

export interface DebitResult {
  balance: Balance;
  /** Spendable is below zero after the debit. */
  overdrawn: boolean;
  /** Spendable is below -overdraftMinor: the consistency bound was exceeded (alert). */
  beyondAllowance: boolean;
}

export function debit(b: Balance, amount: Amount): DebitResult {
  checkAmount(b, amount);
  const balance: Balance = {
    ...b,
    balanceMinor: b.balanceMinor - amount.amountMinor,
    version: b.version + 1,
  };
  const s = spendable(balance);
  return { balance, overdrawn: s < 0n, beyondAllowance: s < -b.overdraftMinor };
}

/** Prepaid top-up or postpaid payment. */
export function topUp(b: Balance, amount: Amount): Balance {
  checkAmount(b, amount);
  if (amount.amountMinor === 0n) throw new MoneyError('top-up of zero');
  return { ...b, balanceMinor: b.balanceMinor + amount.amountMinor, version: b.version + 1 };
}

/**
 * Ingress predicate: refuse when the cached spendable, minus what this instance accepted since the cache
 * was refreshed, does not cover the estimated price of the message.
 */
export function isOutOfCredit(
  cached: Balance,
  spentLocallySinceRefreshMinor: bigint,
  estimatedPriceMinor: bigint,
): boolean {
  return spendable(cached) - spentLocallySinceRefreshMinor < estimatedPriceMinor;
}

/** Worst-case overdraft caused by stale caches: ceil(tps x stalenessMs / 1000) x maxPriceMinor. */
export function overdraftBound(p: { tps: number; stalenessMs: number; maxPriceMinor: bigint }): bigint {
  if (!(p.tps >= 0) || !(p.stalenessMs >= 0)) throw new MoneyError('tps and staleness must be >= 0');
  const messages = BigInt(Math.ceil((p.tps * p.stalenessMs) / 1000));
  return messages * p.maxPriceMinor;
}
