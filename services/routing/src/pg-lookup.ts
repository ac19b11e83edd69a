// Portability lookups against routing_ported_numbers. Wrapped in the domain's CachedNumberLookup (TTL,
// bounded LRU), so Postgres is asked only on a cache miss. A Postgres error rejects the promise: the
// engine then uses the prefix table for that message and the failure is not cached.

import type { Pool } from '@smshub/db';
import type { NumberInfo, NumberLookup } from './domain/number-lookup.js';

export class PgNumberLookup implements NumberLookup {
  constructor(private readonly pool: Pool) {}

  async lookup(e164: string): Promise<NumberInfo | null> {
    const digits = e164.startsWith('+') ? e164.slice(1) : e164;
    const r = await this.pool.query<{ mcc: string; mnc: string }>(
      'SELECT mcc, mnc FROM routing_ported_numbers WHERE e164 = $1',
      [digits],
    );
    const row = r.rows[0];
    return row ? { mccMnc: `${row.mcc}-${row.mnc}`, ported: true } : null;
  }
}
