// Seeding a bench's hub: what every whole-hub bench does before it starts the services.
import { spawnSync } from 'node:child_process';
import type pg from 'pg';

export interface DemoSeed {
  root: string;
  brokers: string;
  databaseUrl: string;
  namespace: string;
  /** CONNECTOR_SECRET_KEY (base64) the hub will run with. */
  secretKey: string;
  /** The demo account's SMPP password. */
  smppPassword: string;
  /** The simulators' SMPP ports the demo's two connectors point at. */
  simGoodPort: number;
  simPoorPort: number;
  /** DEMO_PROFILE: 'bench' makes both simulated networks answer at once and deliver everything. */
  profile?: 'bench';
  /** How a tool is started (libs/testing's entryArgs). */
  entry: (dir: string) => string[];
}

/**
 * `ops setup` (migrations, topics) then `ops demo --quiet` (the demo account, connectors, rates and rules):
 * both insert only what is absent, so a hub started afterwards keeps these rows.
 */
export function seedDemo(s: DemoSeed): void {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: s.brokers,
    DATABASE_URL: s.databaseUrl,
    KAFKA_NAMESPACE: s.namespace,
    LOG_LEVEL: 'warn',
    CONNECTOR_SECRET_KEY: s.secretKey,
    DEMO_SMPP_PASSWORD: s.smppPassword,
    DEMO_SIM_GOOD_PORT: String(s.simGoodPort),
    DEMO_SIM_POOR_PORT: String(s.simPoorPort),
    ...(s.profile ? { DEMO_PROFILE: s.profile } : {}),
  };
  for (const args of [['setup'], ['demo', '--quiet']]) {
    const r = spawnSync(process.execPath, [...s.entry('tools/ops'), ...args], {
      cwd: s.root,
      env,
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (r.status !== 0) throw new Error(`ops ${args[0]} failed: ${r.stdout}\n${r.stderr}`);
  }
}

/**
 * Lifts the demo account's limits (throughput, binds, window, credit: postpaid without a practical limit) so
 * that only the hub's own speed limits a bench; `connectors` lifts the egress connectors' rate and window too.
 */
export async function liftDemoLimits(
  client: pg.Client,
  opts: { tps?: number; maxBinds?: number; window?: number; connectors?: boolean } = {},
): Promise<void> {
  await client.query(
    `UPDATE accounts SET tps_limit = $1, max_binds = $2, max_window = GREATEST($3::int, 200),
       billing_mode = 'postpaid', credit_limit_minor = 1000000000000000 WHERE system_id = 'demo'`,
    [opts.tps ?? 1_000_000, opts.maxBinds ?? 64, opts.window ?? 200],
  );
  if (opts.connectors ?? true)
    await client.query(`UPDATE egress_connectors SET max_submit_rate = 1000000, window_size = 200`);
}
