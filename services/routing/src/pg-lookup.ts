// Portability lookups against routing_ported_numbers. Wrapped in the domain's CachedNumberLookup (TTL,
// bounded LRU), so Postgres is asked only on a cache miss. A Postgres error rejects the promise: the
// engine then uses the prefix table for that message and the failure is not cached. `lookupMany` answers a
// whole consumed batch's new numbers in one query (the cache's prefetch).

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

  async lookupMany(e164s: readonly string[]): Promise<ReadonlyMap<string, NumberInfo | null>> {
    const r = await this.pool.query<{ e164: string; mcc: string; mnc: string }>(
      'SELECT e164, mcc, mnc FROM routing_ported_numbers WHERE e164 = ANY($1::text[])',
      [e164s.map((n) => (n.startsWith('+') ? n.slice(1) : n))],
    );
    const found = new Map<string, NumberInfo | null>();
    for (const row of r.rows) found.set(`+${row.e164}`, { mccMnc: `${row.mcc}-${row.mnc}`, ported: true });
    return found;
  }
}
