// Opt-outs at submit time: every row of `optouts` (0320) in memory, so POST /v1/messages answers
// `urn:smshub:problem:opted-out` (422) for a recipient who opted out of the account, without a database
// round trip per request. The same lists as routing's (services/routing/src/optouts.ts, which rejects what
// gets past this check with err 017): loaded at start, then kept by config.changes.v1 (RESOURCE_KIND_OPT_OUT:
// one entry added or removed, or a RELOAD of one account or of every one).
import { ChangeAction, type ConfigChange } from '@smshub/contracts';
import type { Pool } from 'pg';

const key = (msisdn: string, scope: string) => (scope === '' ? msisdn : `${msisdn}/${scope}`);

interface Row {
  account_id: string;
  msisdn: string;
  scope_number: string;
}

export class OptOutCache {
  private byAccount = new Map<string, Set<string>>();
  private count = 0;

  constructor(private readonly pool: Pool) {}

  get size(): number {
    return this.count;
  }

  /** True when `destination` (E.164 digits) opted out of `accountId`, account-wide or from `sender`. */
  blocks(accountId: string, destination: string, sender: string): boolean {
    const s = this.byAccount.get(accountId);
    return s !== undefined && (s.has(destination) || s.has(`${destination}/${sender}`));
  }

  /** Reads the lists of every account (or of one) again. */
  async reload(accountId?: string): Promise<void> {
    const loaded = new Map<string, Set<string>>();
    const { rows } = await this.pool.query<Row>(
      `SELECT account_id::text AS account_id, msisdn, scope_number FROM optouts
        WHERE $1::uuid IS NULL OR account_id = $1::uuid`,
      [accountId ?? null],
    );
    for (const r of rows) {
      let s = loaded.get(r.account_id);
      if (!s) loaded.set(r.account_id, (s = new Set()));
      s.add(key(r.msisdn, r.scope_number));
    }
    if (accountId === undefined) this.byAccount = loaded;
    else if (loaded.has(accountId)) this.byAccount.set(accountId, loaded.get(accountId)!);
    else this.byAccount.delete(accountId);
    this.count = [...this.byAccount.values()].reduce((n, s) => n + s.size, 0);
  }

  /** One RESOURCE_KIND_OPT_OUT change. */
  async apply(c: ConfigChange): Promise<void> {
    if (c.action === ChangeAction.CHANGE_ACTION_RELOAD) {
      await this.reload(c.resourceId === '*' ? undefined : c.resourceId);
      return;
    }
    if (c.snapshot?.$case !== 'optOut') return;
    const o = c.snapshot.value;
    let s = this.byAccount.get(o.accountId);
    const k = key(o.msisdn, o.scopeNumber);
    if (c.action === ChangeAction.CHANGE_ACTION_DELETED) {
      if (s?.delete(k)) this.count--;
      return;
    }
    if (!s) this.byAccount.set(o.accountId, (s = new Set()));
    if (!s.has(k)) {
      s.add(k);
      this.count++;
    }
  }
}
