// `ops demo` against a fresh database: what it seeds, that a second run changes nothing, that changes made
// afterwards (as through the admin API) survive a re-run, and that the simulator config it writes lets
// egress's credentials bind to the real simulator process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '@smshub/db';
import { createLogger } from '@smshub/logging';
import { openSecret, verifyPassword } from '@smshub/secrets';
import { CommandStatus, connectSmpp, SmppError } from '@smshub/smpp';
import { createTestDatabase, freePort, waitFor, type TestDatabase } from '@smshub/testing';
import { ensureDemoApiKey, readPrefixes, seedDemo, type DemoOptions } from '../src/demo.js';
import { runMigrations } from '../src/setup.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tsx = ['--conditions=@smshub/source', '--import', 'tsx'];
const logger = createLogger({ service: 'ops-demo-test', level: 'warn' });
const dir = mkdtempSync(path.join(tmpdir(), 'ops-demo-'));

/** Every row the demo touches, as JSON text (timestamps and revisions included): equal means unchanged. */
async function snapshot(pool: Pool): Promise<Record<string, string[]>> {
  const tables: Record<string, string> = {
    accounts: 'system_id',
    egress_connectors: 'id',
    rating_connectors: 'connector_id',
    routing_number_prefixes: 'prefix',
    rating_rates: 'id',
    routing_rules: 'id',
    routing_rule_candidates: 'rule_id, position',
    routing_firewall_rules: 'id',
    rating_topups: 'idempotency_key',
    rating_balances: 'account_id',
    rating_balance_ledger: 'id',
  };
  const out: Record<string, string[]> = {};
  for (const [table, order] of Object.entries(tables)) {
    const { rows } = await pool.query<{ j: string }>(
      `SELECT row_to_json(t)::text AS j FROM ${table} t ORDER BY ${order}`,
    );
    out[table] = rows.map((r) => r.j);
  }
  return out;
}

describe('ops demo', () => {
  let db: TestDatabase;
  let pool: Pool;
  let opts: DemoOptions;
  const keyBase64 = randomBytes(32).toString('base64');
  const key = Buffer.from(keyBase64, 'base64');
  let simulator: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool({ connectionString: db.url, logger });
    await runMigrations(pool, logger);
    opts = {
      smppPassword: 'Demo1234',
      secretKey: key,
      goodPort: await freePort(),
      poorPort: await freePort(),
      prefixes: readPrefixes(),
    };
  });

  afterAll(async () => {
    if (simulator && simulator.exitCode === null) {
      const exited = new Promise((r) => simulator?.once('exit', r));
      simulator.kill('SIGTERM');
      await exited;
    }
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds the account, connectors, prefixes, rates, rules and credit in one run', async () => {
    const r = await seedDemo(pool, opts);
    expect(r.passwordMatches).toBe(true);
    expect(r.toppedUp).toBe(true);

    const acc = await pool.query(
      `SELECT id::text, password_hash, currency, billing_mode, tps_limit, max_window FROM accounts WHERE system_id = 'demo'`,
    );
    expect(acc.rows).toHaveLength(1);
    expect(acc.rows[0].id).toBe(r.accountId);
    expect(acc.rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(acc.rows[0].password_hash, 'Demo1234')).toBe(true);
    expect(acc.rows[0]).toMatchObject({ currency: 'EUR', billing_mode: 'prepaid' });
    expect(acc.rows[0].tps_limit).toBeGreaterThanOrEqual(100);

    // Connector passwords open with the key and the connector id as AAD, exactly as egress opens them.
    const con = await pool.query<{ id: string; port: number; system_id: string; password_sealed: Buffer }>(
      'SELECT id, port, system_id, password_sealed FROM egress_connectors ORDER BY id',
    );
    expect(con.rows.map((c) => [c.id, c.port])).toEqual([
      ['sim-good', opts.goodPort],
      ['sim-poor', opts.poorPort],
    ]);
    for (const c of con.rows) {
      const pw = openSecret(key, c.password_sealed, c.id);
      expect(pw).toMatch(/^[A-Za-z0-9]{8}$/);
      expect(r.connectors.find((x) => x.id === c.id)?.password).toBe(pw);
    }

    // sim-poor is the cheaper supplier; the account pays more than either.
    const rates = await pool.query<{ owner_kind: string; owner_id: string; price_amount: string }>(
      `SELECT owner_kind, owner_id, price_amount::text FROM rating_rates WHERE country = 'GB' ORDER BY owner_id`,
    );
    const gb = Object.fromEntries(rates.rows.map((x) => [x.owner_id, Number(x.price_amount)]));
    expect(gb['sim-poor']).toBeLessThan(gb['sim-good'] as number);
    expect(gb[r.accountId]).toBeGreaterThan(gb['sim-good'] as number);

    const rule = await pool.query(
      `SELECT strategy, strategy_currency, account_ids,
              (SELECT array_agg(connector_id ORDER BY position) FROM routing_rule_candidates WHERE rule_id = r.id) AS c
         FROM routing_rules r WHERE id = 'demo-least-cost'`,
    );
    expect(rule.rows[0]).toMatchObject({
      strategy: 'least_cost',
      strategy_currency: 'EUR',
      account_ids: [r.accountId],
    });
    expect([...rule.rows[0].c].sort()).toEqual(['sim-good', 'sim-poor']);

    const fw = await pool.query(`SELECT kind, params FROM routing_firewall_rules`);
    expect(fw.rows).toEqual([{ kind: 'keyword', params: { keywords: ['casino'] } }]);

    const prefixes = await pool.query(`SELECT count(*)::int AS n FROM routing_number_prefixes`);
    expect(prefixes.rows[0].n).toBe(opts.prefixes.length);

    const bal = await pool.query(
      `SELECT balance_minor::text, currency FROM rating_balances WHERE account_id = $1`,
      [r.accountId],
    );
    expect(bal.rows[0]).toEqual({ balance_minor: '10000', currency: 'EUR' });
  });

  it('a second run changes nothing', async () => {
    const before = await snapshot(pool);
    const r = await seedDemo(pool, opts);
    expect(Object.values(r.inserted).every((n) => n === 0)).toBe(true);
    expect(r.toppedUp).toBe(false);
    expect(await snapshot(pool)).toEqual(before);
  });

  it('keeps what was changed after the first run, and says when the password no longer matches', async () => {
    await pool.query(`UPDATE accounts SET tps_limit = 5 WHERE system_id = 'demo'`);
    await pool.query(
      `UPDATE egress_connectors SET port = port + 1, revision = revision + 1 WHERE id = 'sim-good'`,
    );
    await pool.query(`UPDATE rating_rates SET price_amount = 1 WHERE id = 'demo-sell-gb'`);
    await pool.query(
      `DELETE FROM routing_rule_candidates WHERE rule_id = 'demo-least-cost' AND connector_id = 'sim-good'`,
    );
    const before = await snapshot(pool);

    const r = await seedDemo(pool, { ...opts, smppPassword: 'other' });
    expect(await snapshot(pool)).toEqual(before);
    expect(r.passwordMatches).toBe(false);
    // The simulator config follows the stored row, not the requested port.
    expect(r.connectors.find((c) => c.id === 'sim-good')?.port).toBe(opts.goodPort + 1);
    await pool.query(`UPDATE egress_connectors SET port = $1 WHERE id = 'sim-good'`, [opts.goodPort]);
  });

  function ops(args: string[], env: Record<string, string>) {
    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'KAFKA_BROKERS']) if (process.env[k]) base[k] = process.env[k] as string;
    return spawnSync(process.execPath, [...tsx, path.join(root, 'tools/ops/src/main.ts'), ...args], {
      cwd: root,
      env: { ...base, DATABASE_URL: db.url, LOG_LEVEL: 'warn', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('refuses to run without a password or a valid key, with a sentence', () => {
    const noPassword = ops(['demo'], { CONNECTOR_SECRET_KEY: keyBase64 });
    expect(noPassword.status).not.toBe(0);
    expect(noPassword.stderr).toContain('set DEMO_SMPP_PASSWORD');
    expect(noPassword.stderr).not.toContain('    at ');

    const badKey = ops(['demo'], { CONNECTOR_SECRET_KEY: 'c2hvcnQ=', DEMO_SMPP_PASSWORD: 'Demo1234' });
    expect(badKey.status).not.toBe(0);
    expect(badKey.stderr).toContain('CONNECTOR_SECRET_KEY must be 32 bytes');

    const otherKey = ops(['demo'], {
      CONNECTOR_SECRET_KEY: randomBytes(32).toString('base64'),
      DEMO_SMPP_PASSWORD: 'Demo1234',
    });
    expect(otherKey.status).not.toBe(0);
    expect(otherKey.stderr).toContain('does not open with this CONNECTOR_SECRET_KEY');
  });

  it('writes a simulator config whose ports and credentials are the connectors\u2019, and prints how to bind', async () => {
    const file = path.join(dir, 'sim.json');
    const run = ops(['demo', '--sim-config', file], {
      CONNECTOR_SECRET_KEY: keyBase64,
      DEMO_SMPP_PASSWORD: 'Demo1234',
      DEMO_SIM_GOOD_PORT: String(opts.goodPort),
      DEMO_SIM_POOR_PORT: String(opts.poorPort),
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('system_id  demo');
    expect(run.stdout).toContain('password   Demo1234');
    expect(run.stdout).toContain('npm run send --');

    const cfg = JSON.parse(readFileSync(file, 'utf8')) as {
      simulators: Array<{
        name: string;
        port: number;
        systemId: string;
        password: string;
        errorRates?: object;
      }>;
    };
    const { rows } = await pool.query<{
      id: string;
      port: number;
      system_id: string;
      password_sealed: Buffer;
    }>('SELECT id, port, system_id, password_sealed FROM egress_connectors ORDER BY id');
    expect(
      cfg.simulators.map((s) => ({ id: s.name, port: s.port, systemId: s.systemId, password: s.password })),
    ).toEqual(
      rows.map((c) => ({
        id: c.id,
        port: c.port,
        systemId: c.system_id,
        password: openSecret(key, c.password_sealed, c.id),
      })),
    );
    expect(cfg.simulators.find((s) => s.name === 'sim-poor')?.errorRates).toBeDefined();

    const bench = ops(['demo', '--sim-config', file, '--quiet'], {
      CONNECTOR_SECRET_KEY: keyBase64,
      DEMO_SMPP_PASSWORD: 'Demo1234',
      DEMO_SIM_GOOD_PORT: String(opts.goodPort),
      DEMO_SIM_POOR_PORT: String(opts.poorPort),
      DEMO_PROFILE: 'bench',
    });
    expect(bench.status).toBe(0);
    expect(bench.stdout).toBe('');
    const benchCfg = JSON.parse(readFileSync(file, 'utf8')) as {
      simulators: Array<{ receipts: { mix: object; delayMs: number }; errorRates?: object }>;
    };
    for (const s of benchCfg.simulators) {
      expect(s.receipts).toEqual({ mix: { DELIVRD: 100 }, delayMs: 0 });
      expect(s.errorRates).toBeUndefined();
    }

    // The real simulator process with that file takes egress's credentials and refuses others.
    simulator = spawn(process.execPath, [...tsx, path.join(root, 'tools/smsc-simulator/src/main.ts')], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', SIM_CONFIG_FILE: file, HTTP_PORT: '0', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const good = cfg.simulators.find((s) => s.name === 'sim-good');
    if (!good) throw new Error('sim-good missing from the config');
    const session = await waitFor(
      () =>
        connectSmpp({
          host: '127.0.0.1',
          port: good.port,
          systemId: good.systemId,
          password: good.password,
          bindType: 'transceiver',
          connectTimeoutMs: 1000,
        }).catch(() => undefined),
      { timeoutMs: 30_000, what: 'bind to sim-good with the stored credentials' },
    );
    await session.close();
    const refused = await connectSmpp({
      host: '127.0.0.1',
      port: good.port,
      systemId: good.systemId,
      password: 'wrong',
      bindType: 'transceiver',
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SmppError);
    expect((refused as SmppError).commandStatus).toBe(CommandStatus.ESME_RINVPASWD);
  });

  it('makes the demo API key once, keeps it while it works and replaces it once revoked', async () => {
    const { accountId } = await seedDemo(pool, opts);
    const key = await ensureDemoApiKey(pool, accountId, undefined);
    expect(key).toMatch(/^smshub_/);
    const row = await pool.query(
      `SELECT role, account_id::text FROM auth_tokens WHERE name = 'demo-api-key'`,
    );
    expect(row.rows).toEqual([{ role: 'customer', account_id: accountId }]);
    expect(await ensureDemoApiKey(pool, accountId, key)).toBeUndefined();
    await pool.query(`UPDATE auth_tokens SET revoked_at = now() WHERE name = 'demo-api-key'`);
    const next = await ensureDemoApiKey(pool, accountId, key);
    expect(next).toMatch(/^smshub_/);
    expect(next).not.toBe(key);
  });
});
