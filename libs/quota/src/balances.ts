import type { AccountBalance } from '@smshub/contracts';

/**
 * Latest credit state per account, from the compacted balances.v1 topic. Submits look at `blocked` only: the
 * producer (rating/admin) decides it from balance + credit limit. A record whose revision is not newer
 * than the one held is ignored (compaction and redelivery may replay older ones).
 */
export class BalanceCache {
  private readonly byAccount = new Map<string, AccountBalance>();

  apply(b: AccountBalance): boolean {
    if (!b.accountId) return false;
    const held = this.byAccount.get(b.accountId);
    if (held && held.revision >= b.revision) return false;
    this.byAccount.set(b.accountId, b);
    return true;
  }

  /** The latest record of an account (GET /v1/balance), if any was seen. */
  latest(accountId: string): AccountBalance | undefined {
    return this.byAccount.get(accountId);
  }

  /** True when the account must not submit. An account without a record is not blocked. */
  blocked(accountId: string): boolean {
    return this.byAccount.get(accountId)?.blocked ?? false;
  }
}
