// Opt-outs in memory: every row of `optouts` (0320) as one Set per account, so that checking a message is
// two Set lookups and never a database round trip.
//
// Keys: the subscriber's E.164 digits ("447700900123") for an account-wide opt-out, and
// "<digits>/<hub number>" for an opt-out of one hub number. An MT is blocked when the account has the
// destination account-wide, or for the sender the MT comes from (its source address digits).
//
// Changes arrive on config.changes.v1 (RESOURCE_KIND_OPT_OUT, the entry in the snapshot, added or removed
// one by one; a RELOAD names an account whose list was replaced, e.g. by an import). The full load runs
// after the change consumer joined; changes consumed while it runs are kept and applied after it in
// order, so a change committed around the load is never lost to it.
//
// Known limit: two writers (admin and inbound) publish in their own order; a STOP and an operator's remove
// of the same entry within milliseconds can be applied in the other order than their commits. A restart
// (or any RELOAD of the account) reads the table again.
import {
  ChangeAction,
  OptOut,
  ResourceKind,
  SubmitChannel,
  type ConfigChange,
  type SmsSubmitted,
} from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';

/** The digits of an address: "+44 7700-900123" -> "447700900123"; an alphanumeric sender stays as is. */
export function addressDigits(address: string): string {
  const d = address.replace(/[\s+\-().]/g, '');
  return /^[0-9]+$/.test(d) ? d.replace(/^00/, '') : address;
}

export function optOutKey(msisdn: string, scopeNumber: string): string {
  return scopeNumber === '' ? msisdn : `${msisdn}/${scopeNumber}`;
}

/** The opt-out lists of every account. Pure: no I/O. */
export class OptOutList {
  private readonly byAccount = new Map<string, Set<string>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(accountId: string, msisdn: string, scopeNumber: string): void {
    let s = this.byAccount.get(accountId);
    if (!s) this.byAccount.set(accountId, (s = new Set()));
    const before = s.size;
    s.add(optOutKey(msisdn, scopeNumber));
    this.count += s.size - before;
  }

  remove(accountId: string, msisdn: string, scopeNumber: string): void {
    const s = this.byAccount.get(accountId);
    if (!s) return;
    if (s.delete(optOutKey(msisdn, scopeNumber))) this.count--;
    if (s.size === 0) this.byAccount.delete(accountId);
  }

  /** Replaces one account's list. */
  replaceAccount(accountId: string, keys: Set<string>): void {
    this.count -= this.byAccount.get(accountId)?.size ?? 0;
    if (keys.size === 0) this.byAccount.delete(accountId);
    else this.byAccount.set(accountId, keys);
    this.count += keys.size;
  }

  /** Replaces every list. */
  replaceAll(lists: Map<string, Set<string>>): void {
    this.byAccount.clear();
    this.count = 0;
    for (const [account, keys] of lists) this.replaceAccount(account, keys);
  }

  /** True when `destination` (E.164 digits) opted out of `accountId`, account-wide or for `sender`. */
  blocks(accountId: string, destination: string, sender: string): boolean {
    const s = this.byAccount.get(accountId);
    if (!s) return false;
    return s.has(destination) || s.has(`${destination}/${sender}`);
  }
}

/**
 * Whether message `m` (its destination normalised to E.164 by the engine, `e164` with "+") is blocked by
 * an opt-out. The hub's own replies to a keyword (channel KEYWORD_REPLY) never are.
 */
export function optedOut(list: OptOutList, m: SmsSubmitted, e164: string): boolean {
  if (m.channel === SubmitChannel.SUBMIT_CHANNEL_KEYWORD_REPLY) return false;
  const destination = e164.startsWith('+') ? e164.slice(1) : e164;
  return list.blocks(m.accountId, destination, addressDigits(m.source?.address ?? ''));
}

interface Row {
  account_id: string;
  msisdn: string;
  scope_number: string;
}

const PAGE = 50_000;

/** Every row of `optouts` (of one account when given), read in pages of 50,000. */
async function* readRows(pool: Pool, accountId?: string): AsyncGenerator<Row[]> {
  let after: [string, string, string] | undefined;
  for (;;) {
    const { rows } = await pool.query<Row>(
      `SELECT account_id::text AS account_id, msisdn, scope_number FROM optouts
        WHERE ($1::uuid IS NULL OR account_id = $1::uuid)
          AND ($2::uuid IS NULL OR (account_id, msisdn, scope_number) > ($2::uuid, $3, $4))
        ORDER BY account_id, msisdn, scope_number LIMIT ${PAGE}`,
      [accountId ?? null, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null],
    );
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = [last.account_id, last.msisdn, last.scope_number];
  }
}

/** The list plus its loading from Postgres and its updates from config.changes.v1. */
export class OptOutStore {
  readonly list = new OptOutList();
  private pending: ConfigChange[] | undefined = [];

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  static handles(c: ConfigChange): boolean {
    return c.kind === ResourceKind.RESOURCE_KIND_OPT_OUT;
  }

  /** Loads every list; changes consumed meanwhile are applied after it. */
  async load(): Promise<void> {
    this.pending ??= [];
    const loaded = new Map<string, Set<string>>();
    for await (const rows of readRows(this.pool)) {
      for (const r of rows) {
        let s = loaded.get(r.account_id);
        if (!s) loaded.set(r.account_id, (s = new Set()));
        s.add(optOutKey(r.msisdn, r.scope_number));
      }
    }
    for (const [account, keys] of loaded) this.list.replaceAccount(account, keys);
    const queued = this.pending;
    this.pending = undefined;
    for (const c of queued) await this.apply(c);
    this.log.info({ optOuts: this.list.size, accounts: loaded.size }, 'opt-out lists loaded');
  }

  /** One change of kind RESOURCE_KIND_OPT_OUT. */
  async onChange(c: ConfigChange): Promise<void> {
    if (this.pending) {
      this.pending.push(c);
      return;
    }
    await this.apply(c);
  }

  private async apply(c: ConfigChange): Promise<void> {
    if (c.action === ChangeAction.CHANGE_ACTION_RELOAD && c.resourceId === '*') {
      const all = new Map<string, Set<string>>();
      for await (const rows of readRows(this.pool))
        for (const r of rows) {
          let s = all.get(r.account_id);
          if (!s) all.set(r.account_id, (s = new Set()));
          s.add(optOutKey(r.msisdn, r.scope_number));
        }
      this.list.replaceAll(all);
      this.log.info({ optOuts: this.list.size }, 'opt-out lists reloaded');
      return;
    }
    if (c.action === ChangeAction.CHANGE_ACTION_RELOAD) {
      const keys = new Set<string>();
      for await (const rows of readRows(this.pool, c.resourceId))
        for (const r of rows) keys.add(optOutKey(r.msisdn, r.scope_number));
      this.list.replaceAccount(c.resourceId, keys);
      this.log.info({ accountId: c.resourceId, optOuts: keys.size }, 'opt-out list reloaded');
      return;
    }
    const o: OptOut | undefined = c.snapshot?.$case === 'optOut' ? c.snapshot.value : undefined;
    if (!o) return;
    if (c.action === ChangeAction.CHANGE_ACTION_DELETED)
      this.list.remove(o.accountId, o.msisdn, o.scopeNumber);
    else this.list.add(o.accountId, o.msisdn, o.scopeNumber);
  }
}
