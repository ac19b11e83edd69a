import net from 'node:net';
import type { Pool } from 'pg';
import { TrafficType } from '@smshub/contracts';

/**
 * The accounts the API serves, by id (the API key names the account). Loaded whole from the `accounts`
 * table and reloaded whole when config.changes.v1 says an account changed (and every 30 s as a safety
 * net), as ingress does: accounts are few.
 *
 * IP allow list: the account's `allowed_cidrs`, the same list its SMPP binds are held to. One list per
 * customer for both doors: a customer that restricts where its traffic may come from means all of it.
 */
export interface ApiAccount {
  id: string;
  systemId: string;
  enabled: boolean;
  tpsLimit: number;
  defaultValiditySeconds: number;
  defaultTrafficType: TrafficType;
  currency: string;
  /** The price plan whose sell rates apply when the account has none of its own. */
  pricePlanId: string | undefined;
  allowedCidrs: string[];
  allowList: net.BlockList | undefined;
}

interface Row {
  id: string;
  system_id: string;
  enabled: boolean;
  tps_limit: number;
  default_validity_seconds: number;
  default_traffic_type: string | null;
  currency: string;
  price_plan_id?: string | null;
  allowed_cidrs: string[];
}

const TRAFFIC: Record<string, TrafficType> = {
  OTP: TrafficType.TRAFFIC_TYPE_OTP,
  TRANSACTIONAL: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  MARKETING: TrafficType.TRAFFIC_TYPE_MARKETING,
};

export function allowListOf(cidrs: readonly string[]): net.BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [addr = '', bits] = cidr.split('/');
    const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    list.addSubnet(addr, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
  }
  return list;
}

/** True when `ip` may use the account (no list = anywhere). IPv4-mapped IPv6 is compared as IPv4. */
export function ipAllowed(account: Pick<ApiAccount, 'allowList'>, ip: string): boolean {
  if (!account.allowList) return true;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = m ? m[1]! : ip;
  if (!net.isIP(addr)) return false;
  return account.allowList.check(addr, net.isIPv6(addr) ? 'ipv6' : 'ipv4');
}

export function accountFromRow(r: Row): ApiAccount {
  return {
    id: r.id,
    systemId: r.system_id,
    enabled: r.enabled,
    tpsLimit: r.tps_limit,
    defaultValiditySeconds: r.default_validity_seconds,
    defaultTrafficType: TRAFFIC[r.default_traffic_type ?? ''] ?? TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
    currency: r.currency,
    pricePlanId: r.price_plan_id ?? undefined,
    allowedCidrs: r.allowed_cidrs,
    allowList: allowListOf(r.allowed_cidrs),
  };
}

export class AccountDirectory {
  private byId = new Map<string, ApiAccount>();
  private loading: Promise<void> | null = null;
  private again = false;

  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  get(id: string): ApiAccount | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Reloads everything; calls during a load share one more load after it. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const { rows } = await this.pool.query<Row>(
            `SELECT id::text, system_id, enabled, tps_limit, default_validity_seconds, default_traffic_type,
                    currency, price_plan_id, allowed_cidrs::text[] AS allowed_cidrs FROM accounts`,
          );
          this.byId = new Map(rows.map((r) => [r.id, accountFromRow(r)]));
        } while (this.again);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
