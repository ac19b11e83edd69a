import net from 'node:net';
import type { Pool } from 'pg';
import { TrafficType } from '@smshub/contracts';
import type { BindType } from '@smshub/smpp';
import { messageIdFormatOf, type MessageIdFormat } from './customer-id.js';

/** One row of the `accounts` table (libs/db/migrations/0001_init.sql), as ingress uses it. */
export interface Account {
  id: string;
  systemId: string;
  /** argon2id PHC string; never logged. */
  passwordHash: string;
  enabled: boolean;
  /** Source networks allowed to bind; empty = any. */
  allowedCidrs: string[];
  allowedBindTypes: ReadonlySet<BindType>;
  maxBinds: number;
  tpsLimit: number;
  maxWindow: number;
  defaultValiditySeconds: number;
  /** Traffic type of a message whose service_type declares none (accounts.default_traffic_type, 0600). */
  defaultTrafficType: TrafficType;
  /** Price plan whose sell rates apply where the account has none of its own (0500); undefined = none. */
  pricePlanId: string | undefined;
  /** Country national destination numbers are read in (accounts.default_country, 0300); undefined = none. */
  defaultCountry: string | undefined;
  /** Refuse submits for which no sell rate applies (0601). */
  refuseUnrated: boolean;
  /** Form of the message ids the customer sees (accounts.message_id_format, 0600; customer-id.ts). */
  messageIdFormat: MessageIdFormat;
  /** Built from allowedCidrs; undefined when any source is allowed. */
  allowList: net.BlockList | undefined;
}

export interface AccountRow {
  id: string;
  system_id: string;
  password_hash: string;
  enabled: boolean;
  allowed_cidrs: string[];
  allowed_bind_types: string[];
  max_binds: number;
  tps_limit: number;
  max_window: number;
  default_validity_seconds: number;
  default_traffic_type: string;
  price_plan_id: string | null;
  default_country: string | null;
  refuse_unrated: boolean;
  /** '', 'uuid', 'hex' or 'decimal'; absent in rows built by older tests = the hub id. */
  message_id_format?: string | null;
}

const TRAFFIC: Record<string, TrafficType> = {
  OTP: TrafficType.TRAFFIC_TYPE_OTP,
  TRANSACTIONAL: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  MARKETING: TrafficType.TRAFFIC_TYPE_MARKETING,
};

/** IPv4-mapped IPv6 ("::ffff:10.0.0.7") is compared as IPv4. */
export function normaliseIp(ip: string | undefined): string {
  if (!ip) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? (m[1] as string) : ip;
}

function buildAllowList(cidrs: string[]): net.BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [addr, bits] = cidr.split('/');
    const type = net.isIPv6(addr ?? '') ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits);
    list.addSubnet(addr as string, prefix, type);
  }
  return list;
}

export function accountFromRow(r: AccountRow): Account {
  return {
    id: r.id,
    systemId: r.system_id,
    passwordHash: r.password_hash,
    enabled: r.enabled,
    allowedCidrs: r.allowed_cidrs,
    allowedBindTypes: new Set(r.allowed_bind_types as BindType[]),
    maxBinds: r.max_binds,
    tpsLimit: r.tps_limit,
    maxWindow: r.max_window,
    defaultValiditySeconds: r.default_validity_seconds,
    defaultTrafficType: TRAFFIC[r.default_traffic_type] ?? TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
    pricePlanId: r.price_plan_id ?? undefined,
    defaultCountry: r.default_country ?? undefined,
    refuseUnrated: r.refuse_unrated,
    messageIdFormat: messageIdFormatOf(r.message_id_format),
    allowList: buildAllowList(r.allowed_cidrs),
  };
}

/** True when `ip` may bind for `account` (no list = any source). */
export function ipAllowed(account: Account, ip: string): boolean {
  if (!account.allowList) return true;
  const addr = normaliseIp(ip);
  if (!addr) return false;
  return account.allowList.check(addr, net.isIPv6(addr) ? 'ipv6' : 'ipv4');
}

const SELECT = `SELECT id::text, system_id, password_hash, enabled, allowed_cidrs::text[] AS allowed_cidrs,
  allowed_bind_types, max_binds, tps_limit, max_window, default_validity_seconds, default_traffic_type,
  price_plan_id, default_country, refuse_unrated, message_id_format FROM accounts`;

/**
 * In-memory copy of the accounts table, by system_id. Loaded whole at start and reloaded whole whenever
 * config.changes.v1 says an account changed (the table is the source of truth; accounts are few, a full
 * reload is simpler and cannot miss a change the way a partial update could).
 */
export class AccountStore {
  private bySystemId = new Map<string, Account>();
  /** By account id, rebuilt lazily after a reload (idIndexOf: the map it was built from). */
  private idIndex = new Map<string, Account>();
  private idIndexOf: Map<string, Account> | undefined;
  private loading: Promise<void> | null = null;
  private again = false;

  constructor(private readonly pool: Pool) {}

  get(systemId: string): Account | undefined {
    return this.bySystemId.get(systemId);
  }

  /** The account with this id (inbound messages name the account, not the system_id). */
  byId(id: string): Account | undefined {
    if (this.idIndexOf !== this.bySystemId) {
      this.idIndex = new Map([...this.bySystemId.values()].map((a) => [a.id, a]));
      this.idIndexOf = this.bySystemId;
    }
    return this.idIndex.get(id);
  }

  get size(): number {
    return this.bySystemId.size;
  }

  all(): IterableIterator<Account> {
    return this.bySystemId.values();
  }

  /** Reloads everything; concurrent calls coalesce (one more load runs after the current one). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const { rows } = await this.pool.query<AccountRow>(SELECT);
          this.bySystemId = new Map(rows.map((r) => [r.system_id, accountFromRow(r)]));
        } while (this.again);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
