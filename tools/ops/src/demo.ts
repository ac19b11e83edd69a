// `ops demo`: the demo configuration of a local hub, seeded in one transaction, insert-if-absent.
//
// What it makes (ids are fixed so a second run finds them): the SMPP account `demo` (EUR, prepaid, credit
// from rating_top_up), two connectors to the SMSC simulator (`sim-good`: dearer, ~99 % delivered;
// `sim-poor`: cheaper, some UNDELIV/EXPIRED receipts and some submit errors), the sample prefixes, sell
// rates for the account and buy rates per connector by country, a least-cost routing rule over both
// connectors (the cheap one first, the good one as failover), and a keyword firewall rule. A row that
// exists is never touched, so changes made through the admin API survive a re-run.
//
// The simulator config (`--sim-config FILE`) is built from the connector rows as stored, so its ports and
// credentials always agree with what egress binds with, even when the rows were made by an earlier run.

import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret, hashSecret } from '@smshub/auth';
import type { Pool, PoolClient } from '@smshub/db';
import { withTransaction } from '@smshub/db';
import { hashPassword, openSecret, sealSecret, verifyPassword } from '@smshub/secrets';

export const DEMO_SYSTEM_ID = 'demo';
export const DEMO_CURRENCY = 'EUR';
/** Prepaid credit given once (idempotency key below): EUR 100.00. */
export const DEMO_CREDIT_MINOR = 10_000n;
export const DEMO_TOPUP_KEY = 'ops-demo-initial-credit';
export const DEMO_ROUTING_RULE = 'demo-least-cost';
export const DEMO_FIREWALL_RULE = 'demo-keyword-casino';
export const DEMO_BLOCKED_KEYWORD = 'casino';
/** Rates are valid from this fixed instant, so every run writes the same rows. */
const RATES_FROM = '2020-01-01T00:00:00Z';

export type DemoProfile = 'demo' | 'bench';

export interface PrefixRow {
  prefix: string;
  country: string;
  mcc: string;
  mnc: string;
  operator: string;
}

interface ConnectorPlan {
  id: 'sim-good' | 'sim-poor';
  name: string;
  supplierId: string;
  systemId: string;
  /** Buy price per segment in micro-EUR, by country. */
  buy: Record<string, number>;
}

/** Sell price per segment in micro-EUR (scale 6), by destination country. */
// GG, JE and IM share +44 with GB (e.g. +44 7911 is Guernsey): priced like GB so any UK-style number rates.
export const DEMO_SELL_RATES: Readonly<Record<string, number>> = Object.freeze({
  GB: 40_000,
  GG: 40_000,
  JE: 40_000,
  IM: 40_000,
  DE: 75_000,
  FR: 60_000,
  NG: 90_000,
  IN: 8_000,
  US: 12_000,
});

export const DEMO_CONNECTORS: readonly ConnectorPlan[] = Object.freeze([
  {
    id: 'sim-good',
    name: 'Simulated network, good quality (dearer)',
    supplierId: 'demo-good-telecom',
    systemId: 'hub-good',
    buy: {
      GB: 30_000,
      GG: 30_000,
      JE: 30_000,
      IM: 30_000,
      DE: 55_000,
      FR: 45_000,
      NG: 70_000,
      IN: 5_000,
      US: 9_000,
    },
  },
  {
    id: 'sim-poor',
    name: 'Simulated network, poor quality (cheaper)',
    supplierId: 'demo-poor-telecom',
    systemId: 'hub-poor',
    buy: {
      GB: 20_000,
      GG: 20_000,
      JE: 20_000,
      IM: 20_000,
      DE: 40_000,
      FR: 32_000,
      NG: 50_000,
      IN: 3_500,
      US: 6_000,
    },
  },
]);

export interface DemoOptions {
  /** Password of the SMPP account `demo` (hashed with argon2id; only used when the account is made). */
  smppPassword: string;
  /** CONNECTOR_SECRET_KEY (32 bytes): connector passwords are sealed under it, as egress opens them. */
  secretKey: Buffer;
  /** Simulator ports of sim-good and sim-poor (used when the connectors are made). */
  goodPort: number;
  poorPort: number;
  /** Host egress connects to for the simulators. Default 127.0.0.1. */
  simHost?: string;
  prefixes: readonly PrefixRow[];
}

export interface DemoConnector {
  id: string;
  host: string;
  port: number;
  systemId: string;
  password: string;
}

export interface DemoResult {
  accountId: string;
  /** Rows inserted by this run, by table (all zero on a re-run). */
  inserted: Record<string, number>;
  /** Whether the credit top-up was applied by this run. */
  toppedUp: boolean;
  /** False when the account existed with another password (then DEMO_SMPP_PASSWORD does not bind). */
  passwordMatches: boolean;
  /** The connectors as stored (password opened), for the simulator config. */
  connectors: DemoConnector[];
}

/** An error the user can fix (bad input, changed key); printed as one sentence. */
export class DemoError extends Error {
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoError';
  }
}

/** `prefix,country,mcc,mnc,operator` CSV (the format of services/routing/data/sample-prefixes.csv). */
export function parsePrefixes(text: string, file = 'prefixes'): PrefixRow[] {
  const rows: PrefixRow[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || /^prefix\s*,/i.test(line)) return;
    const [prefix = '', country = '', mcc = '', mnc = '', ...op] = line.split(',').map((s) => s.trim());
    if (!/^[1-9][0-9]{0,14}$/.test(prefix) || !/^([A-Z]{2}|001)$/.test(country) || !/^[0-9]{3}$/.test(mcc))
      problems.push(`line ${i + 1}: "${line}"`);
    else if (!/^[0-9]{2,3}$/.test(mnc)) problems.push(`line ${i + 1}: bad MNC "${mnc}"`);
    else rows.push({ prefix, country, mcc, mnc, operator: op.join(',') });
  });
  if (problems.length > 0) throw new DemoError(`${file}: bad prefix lines: ${problems.join('; ')}`);
  return rows;
}

/** services/routing/data/sample-prefixes.csv, found by walking up from this module (sources or bundle). */
export function samplePrefixesFile(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'services/routing/data/sample-prefixes.csv');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new DemoError('services/routing/data/sample-prefixes.csv not found: set DEMO_PREFIXES_FILE');
    dir = parent;
  }
}

export function readPrefixes(file: string = samplePrefixesFile()): PrefixRow[] {
  return parsePrefixes(readFileSync(file, 'utf8'), file);
}

/** SMPP 3.4 passwords are at most 8 characters; letters and digits only, so any client takes them. */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join('');
}

async function insert(client: PoolClient, sql: string, params: unknown[]): Promise<number> {
  const r = await client.query(sql, params);
  return r.rowCount ?? 0;
}

/** Seeds the demo configuration in one transaction; rows that exist are left as they are. */
export async function seedDemo(pool: Pool, opts: DemoOptions): Promise<DemoResult> {
  if (opts.smppPassword.length < 1 || opts.smppPassword.length > 8)
    throw new DemoError('DEMO_SMPP_PASSWORD must be 1 to 8 characters (SMPP 3.4 password field)');
  const host = opts.simHost ?? '127.0.0.1';
  const ports: Record<string, number> = { 'sim-good': opts.goodPort, 'sim-poor': opts.poorPort };
  const existing = await pool.query<{ password_hash: string }>(
    'SELECT password_hash FROM accounts WHERE system_id = $1',
    [DEMO_SYSTEM_ID],
  );
  // Hash outside the transaction (argon2 takes a moment); only when the account is new.
  const hash = existing.rows[0] ? undefined : await hashPassword(opts.smppPassword);

  const result = await withTransaction(pool, async (client) => {
    const inserted: Record<string, number> = {};
    const add = (table: string, n: number): void => {
      inserted[table] = (inserted[table] ?? 0) + n;
    };

    if (hash !== undefined) {
      add(
        'accounts',
        await insert(
          client,
          `INSERT INTO accounts (system_id, name, password_hash, max_binds, tps_limit, max_window, charge_on,
             billing_mode, currency, routing_group, default_country)
           VALUES ($1, 'Demo customer', $2, 8, 1000, 200, 'submit', 'prepaid', $3, 'demo', 'GB')
           ON CONFLICT (system_id) DO NOTHING`,
          [DEMO_SYSTEM_ID, hash, DEMO_CURRENCY],
        ),
      );
    } else add('accounts', 0);
    const account = await client.query<{ id: string; password_hash: string }>(
      'SELECT id::text AS id, password_hash FROM accounts WHERE system_id = $1',
      [DEMO_SYSTEM_ID],
    );
    const accountId = account.rows[0]?.id;
    if (!accountId) throw new DemoError('the demo account could not be created');

    for (const c of DEMO_CONNECTORS) {
      const password = generatePassword();
      add(
        'egress_connectors',
        await insert(
          client,
          `INSERT INTO egress_connectors (id, name, host, port, system_id, password_sealed, sessions, window_size,
             max_submit_rate, response_timeout_ms, message_id_format, currency)
           VALUES ($1, $2, $3, $4, $5, $6, 2, 100, 2000, 10000, 'hex', 'EUR')
           ON CONFLICT (id) DO NOTHING`,
          [c.id, c.name, host, ports[c.id], c.systemId, sealSecret(opts.secretKey, password, c.id)],
        ),
      );
      add(
        'rating_connectors',
        await insert(
          client,
          `INSERT INTO rating_connectors (connector_id, supplier_id, buy_charge_on) VALUES ($1, $2, 'submit')
           ON CONFLICT (connector_id) DO NOTHING`,
          [c.id, c.supplierId],
        ),
      );
    }

    // Prefixes: one statement for the whole list.
    add(
      'routing_number_prefixes',
      await insert(
        client,
        `INSERT INTO routing_number_prefixes (prefix, country, mcc, mnc, operator)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
         ON CONFLICT (prefix) DO NOTHING`,
        [
          opts.prefixes.map((p) => p.prefix),
          opts.prefixes.map((p) => p.country),
          opts.prefixes.map((p) => p.mcc),
          opts.prefixes.map((p) => p.mnc),
          opts.prefixes.map((p) => p.operator),
        ],
      ),
    );

    const rates: Array<[string, 'account' | 'connector', string, string, number]> = [];
    for (const [country, price] of Object.entries(DEMO_SELL_RATES))
      rates.push([`demo-sell-${country.toLowerCase()}`, 'account', accountId, country, price]);
    for (const c of DEMO_CONNECTORS)
      for (const [country, price] of Object.entries(c.buy))
        rates.push([`${c.id}-buy-${country.toLowerCase()}`, 'connector', c.id, country, price]);
    add(
      'rating_rates',
      await insert(
        client,
        `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, price_scale, currency, effective_from)
         SELECT id, kind, owner, country, price, 6, $6, $7::timestamptz
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS r(id, kind, owner, country, price)
         ON CONFLICT (id) DO NOTHING`,
        [
          rates.map((r) => r[0]),
          rates.map((r) => r[1]),
          rates.map((r) => r[2]),
          rates.map((r) => r[3]),
          rates.map((r) => r[4]),
          DEMO_CURRENCY,
          RATES_FROM,
        ],
      ),
    );

    const rule = await insert(
      client,
      `INSERT INTO routing_rules (id, name, account_ids, strategy, strategy_currency)
       VALUES ($1, 'Demo: cheapest connector first, the other as failover', $2, 'least_cost', $3)
       ON CONFLICT (id) DO NOTHING`,
      [DEMO_ROUTING_RULE, [accountId], DEMO_CURRENCY],
    );
    add('routing_rules', rule);
    // Candidates only with a new rule: an admin's later edit of the list is theirs.
    add(
      'routing_rule_candidates',
      rule
        ? await insert(
            client,
            `INSERT INTO routing_rule_candidates (rule_id, position, connector_id)
             SELECT $1, p - 1, c FROM unnest($2::text[]) WITH ORDINALITY AS t(c, p)
             ON CONFLICT DO NOTHING`,
            [DEMO_ROUTING_RULE, DEMO_CONNECTORS.map((c) => c.id)],
          )
        : 0,
    );
    add(
      'routing_firewall_rules',
      await insert(
        client,
        `INSERT INTO routing_firewall_rules (id, name, kind, reason, params)
         VALUES ($1, 'Demo: no gambling content', 'keyword', $2, $3)
         ON CONFLICT (id) DO NOTHING`,
        [
          DEMO_FIREWALL_RULE,
          `demo keyword rule: "${DEMO_BLOCKED_KEYWORD}"`,
          JSON.stringify({ keywords: [DEMO_BLOCKED_KEYWORD] }),
        ],
      ),
    );

    const topUp = await client.query<{ applied: boolean }>(
      `SELECT applied FROM rating_top_up(gen_random_uuid(), $1, $2, $3, $4, 'demo credit', 'ops demo')`,
      [accountId, DEMO_CREDIT_MINOR.toString(), DEMO_CURRENCY, DEMO_TOPUP_KEY],
    );
    const toppedUp = topUp.rows[0]?.applied === true;
    add('rating_topups', toppedUp ? 1 : 0);

    const connectors = await readConnectors(client, opts.secretKey, host);
    return {
      accountId,
      inserted,
      toppedUp,
      storedHash: account.rows[0]?.password_hash ?? '',
      connectors,
    };
  });
  const { storedHash, ...rest } = result;
  const passwordMatches = await verifyPassword(storedHash, opts.smppPassword);
  return { ...rest, passwordMatches };
}

/** The demo connectors as stored, with their passwords opened (what the simulators must accept). */
async function readConnectors(
  client: PoolClient,
  key: Buffer,
  fallbackHost: string,
): Promise<DemoConnector[]> {
  const { rows } = await client.query<{
    id: string;
    host: string;
    port: number;
    system_id: string;
    password_sealed: Buffer | null;
  }>(
    `SELECT id, host, port, system_id, password_sealed FROM egress_connectors WHERE id = ANY($1) ORDER BY id`,
    [DEMO_CONNECTORS.map((c) => c.id)],
  );
  return rows.map((r) => {
    if (!r.password_sealed)
      throw new DemoError(
        `connector ${r.id} takes its password from a secret file; the simulator config cannot be written`,
      );
    let password: string;
    try {
      password = openSecret(key, r.password_sealed, r.id);
    } catch (err) {
      throw new DemoError(
        `connector ${r.id}: its password does not open with this CONNECTOR_SECRET_KEY (the key changed since the demo was seeded)`,
        { cause: err },
      );
    }
    return { id: r.id, host: r.host || fallbackHost, port: r.port, systemId: r.system_id, password };
  });
}

/** One entry of tools/smsc-simulator's SIM_CONFIG_FILE. */
export interface SimulatorEntry {
  name: string;
  port: number;
  host: string;
  systemId: string;
  password: string;
  acceptLatencyMs?: number | { min: number; max: number };
  errorRates?: Record<string, number>;
  receipts: {
    mix: Record<string, number>;
    delayMs: number | { min: number; max: number };
  };
}

/**
 * The SMSC simulator config for the demo connectors. `demo`: sim-good answers quickly and delivers 99 %;
 * sim-poor is slower, refuses some submits (ESME_RSYSERR: egress fails over to sim-good; ESME_RMSGQFUL:
 * retried) and reports some UNDELIV/EXPIRED. `bench`: both answer at once and deliver everything.
 */
export function simulatorConfig(
  connectors: readonly DemoConnector[],
  profile: DemoProfile,
  listenHost = '127.0.0.1',
): { simulators: SimulatorEntry[] } {
  return {
    simulators: connectors.map((c): SimulatorEntry => {
      const base = { name: c.id, port: c.port, host: listenHost, systemId: c.systemId, password: c.password };
      if (profile === 'bench') return { ...base, receipts: { mix: { DELIVRD: 100 }, delayMs: 0 } };
      if (c.id === 'sim-good')
        return {
          ...base,
          acceptLatencyMs: { min: 5, max: 30 },
          receipts: { mix: { DELIVRD: 99, UNDELIV: 1 }, delayMs: { min: 300, max: 1500 } },
        };
      return {
        ...base,
        acceptLatencyMs: { min: 20, max: 150 },
        errorRates: { ESME_RSYSERR: 0.05, ESME_RMSGQFUL: 0.03 },
        receipts: { mix: { DELIVRD: 80, UNDELIV: 12, EXPIRED: 8 }, delayMs: { min: 1000, max: 4000 } },
      };
    }),
  };
}

export interface BindInfo {
  host: string;
  port: number;
  tlsPort?: number | undefined;
  systemId: string;
  password: string;
  /** HUB_PORT_OFFSET of the local hub (0 or absent: none); the send command carries it. */
  portOffset?: number | undefined;
}

/** The lines telling a user how to bind and send a first message. */
export function bindInstructions(b: BindInfo): string {
  const npm = b.portOffset ? `HUB_PORT_OFFSET=${b.portOffset} npm` : 'npm';
  return [
    `Bind with any SMPP 3.4 client (transceiver, or transmitter + receiver):`,
    `  host       ${b.host}`,
    `  port       ${b.port} (plain)${b.tlsPort ? `, ${b.tlsPort} (TLS, self-signed certificate)` : ''}`,
    `  system_id  ${b.systemId}`,
    `  password   ${b.password}`,
    `Send a first message (waits for its delivery receipt):`,
    `  ${npm} run send -- --to +447400123456 --text "hello from smshub"`,
    `A text with the word "${DEMO_BLOCKED_KEYWORD}" is stopped by the demo firewall (receipt REJECTD).`,
  ].join('\n');
}

/**
 * The demo account's API key for the HTTP API (a customer token of the account, as `hubctl api-keys
 * create` makes through admin; written straight to auth_tokens here like the rest of the demo seed).
 * `current` is the key already in .local/secrets/demo-api-key, if any: kept while it still works
 * (known, not revoked, not expired), else a new key replaces it. Returns the key to store, or undefined
 * when `current` still works.
 */
export async function ensureDemoApiKey(
  pool: Pool,
  accountId: string,
  current: string | undefined,
): Promise<string | undefined> {
  if (current) {
    const r = await pool.query(
      `SELECT 1 FROM auth_tokens WHERE token_hash = $1 AND account_id = $2 AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > now())`,
      [hashSecret(current), accountId],
    );
    if ((r.rowCount ?? 0) > 0) return undefined;
  }
  const secret = generateSecret();
  await pool.query(
    `INSERT INTO auth_tokens (id, token_hash, name, role, account_id, created_by)
     VALUES ($1, $2, 'demo-api-key', 'customer', $3, 'ops demo')`,
    [randomUUID(), hashSecret(secret), accountId],
  );
  return secret;
}
