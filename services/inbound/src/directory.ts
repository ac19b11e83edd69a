// Reads hub_numbers (admin's table, 0620) and accounts.mo_reassemble, with a short per-key cache so an MO
// burst to one number costs one query per INBOUND_NUMBER_CACHE_MS. A number assigned or removed through
// admin applies within that time.
import type { Pool } from '@smshub/db';
import type { Assignment } from './domain/assignment.js';

interface Cached<T> {
  value: T;
  until: number;
}

/** At most this many numbers/accounts are cached; the oldest entry is dropped beyond it. */
const MAX_ENTRIES = 50_000;

function remember<T>(map: Map<string, Cached<T>>, key: string, value: T, ttlMs: number): T {
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, { value, until: Date.now() + ttlMs });
  return value;
}

export interface AccountSettings {
  /** accounts.mo_reassemble; undefined when the account no longer exists. */
  moReassemble: boolean;
}

export class Directory {
  private readonly numbers = new Map<string, Cached<Assignment[]>>();
  private readonly accounts = new Map<string, Cached<AccountSettings | undefined>>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs: number,
  ) {}

  /** Every assignment of `number` (any validity; the caller picks by time). */
  async assignments(number: string): Promise<Assignment[]> {
    const hit = this.numbers.get(number);
    if (hit && hit.until > Date.now()) return hit.value;
    const { rows } = await this.pool.query<{
      id: string;
      account_id: string;
      keywords: string[];
      valid_from: Date;
      valid_to: Date | null;
    }>(
      `SELECT id, account_id::text AS account_id, keywords, valid_from, valid_to
         FROM hub_numbers WHERE number = $1`,
      [number],
    );
    const value = rows.map((r) => ({
      id: r.id,
      accountId: r.account_id,
      keywords: r.keywords.map((k) => k.toUpperCase()),
      validFrom: r.valid_from,
      validTo: r.valid_to,
    }));
    return remember(this.numbers, number, value, this.ttlMs);
  }

  async account(accountId: string): Promise<AccountSettings | undefined> {
    const hit = this.accounts.get(accountId);
    if (hit && hit.until > Date.now()) return hit.value;
    const { rows } = await this.pool.query<{ mo_reassemble: boolean }>(
      'SELECT mo_reassemble FROM accounts WHERE id = $1',
      [accountId],
    );
    const row = rows[0];
    return remember(
      this.accounts,
      accountId,
      row ? { moReassemble: row.mo_reassemble } : undefined,
      this.ttlMs,
    );
  }
}
