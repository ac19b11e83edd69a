// Opt-outs at submit time: every row of `optouts` (0320) in memory, so POST /v1/messages answers
// `urn:smshub:problem:opted-out` (422) for a recipient who opted out of the account, without a database
// round trip per request. The same lists as routing's (services/routing/src/optouts.ts, which rejects what
// gets past this check with err 017): loaded at start, then kept by config.changes.v1 (RESOURCE_KIND_OPT_OUT:
// the subscriber's entries read again, or a RELOAD of one account or of every one).
import { ChangeAction, type ConfigChange } from '@smshub/contracts';
import type { Pool } from 'pg';

/** Account ids are UUIDs (accounts.id); a change naming anything else names no list. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Subscriber digits -> the scopes opted out of ("" = account-wide, else a hub number). */
type AccountOptOuts = Map<string, string[]>;

export class OptOutCache {
  private byAccount = new Map<string, AccountOptOuts>();

  constructor(private readonly pool: Pool) {}

  get size(): number {
    let n = 0;
    for (const m of this.byAccount.values()) for (const scopes of m.values()) n += scopes.length;
    return n;
  }

  /** True when `destination` (E.164 digits) opted out of `accountId`, account-wide or from `sender`. */
  blocks(accountId: string, destination: string, sender: string): boolean {
    const scopes = this.byAccount.get(accountId)?.get(destination);
    return scopes !== undefined && (scopes.includes('') || scopes.includes(sender));
  }

  /** Reads the lists of every account (or of one) again. */
  async reload(accountId?: string): Promise<void> {
    const { rows } = await this.pool.query<{ account_id: string; msisdn: string; scope_number: string }>(
      `SELECT account_id::text AS account_id, msisdn, scope_number FROM optouts
        WHERE $1::uuid IS NULL OR account_id = $1::uuid`,
      [accountId ?? null],
    );
    const loaded = new Map<string, AccountOptOuts>();
    for (const r of rows) {
      let m = loaded.get(r.account_id);
      if (!m) loaded.set(r.account_id, (m = new Map()));
      const scopes = m.get(r.msisdn);
      if (scopes) scopes.push(r.scope_number);
      else m.set(r.msisdn, [r.scope_number]);
    }
    if (accountId === undefined) this.byAccount = loaded;
    else if (loaded.has(accountId)) this.byAccount.set(accountId, loaded.get(accountId)!);
    else this.byAccount.delete(accountId);
  }

  /** One RESOURCE_KIND_OPT_OUT change. */
  async apply(c: ConfigChange): Promise<void> {
    if (c.action === ChangeAction.CHANGE_ACTION_RELOAD) {
      if (c.resourceId !== '*' && !UUID.test(c.resourceId)) return;
      await this.reload(c.resourceId === '*' ? undefined : c.resourceId);
      return;
    }
    if (c.snapshot?.$case !== 'optOut') return;
    const o = c.snapshot.value;
    if (!UUID.test(o.accountId)) return;
    // The subscriber's entries as the table has them now (the change is a signal: two writers may
    // announce in another order than they committed). One indexed query per change, none per request.
    const { rows } = await this.pool.query<{ scope_number: string }>(
      `SELECT scope_number FROM optouts WHERE account_id = $1::uuid AND msisdn = $2`,
      [o.accountId, o.msisdn],
    );
    let m = this.byAccount.get(o.accountId);
    if (rows.length === 0) {
      m?.delete(o.msisdn);
      if (m?.size === 0) this.byAccount.delete(o.accountId);
      return;
    }
    if (!m) this.byAccount.set(o.accountId, (m = new Map()));
    m.set(
      o.msisdn,
      rows.map((r) => r.scope_number),
    );
  }
}
