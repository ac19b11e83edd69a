// smshub operations commands. Usage: main.ts <setup|migrate|topics|demo>
//   setup    migrations, then topics (what the deployment's one-shot job runs)
//   migrate  apply pending SQL migrations
//   topics   create or grow the Kafka topics of the contracts' registry
//   demo     seed the demo configuration (see demo.ts); flags: --sim-config FILE (write the matching SMSC
//            simulator config), --quiet (no bind instructions)
//   rated    print billing.rated.v1 as JSON lines, from the beginning to the current end; --message ID for one
//   mo       make the SMSC simulator originate an inbound message (mo.ts; --from, --to, --text, ...)
//   reseal-connectors  re-seal connector passwords under CONNECTOR_SECRET_KEY that open only with a key of
//            CONNECTOR_SECRET_KEY_PREVIOUS (comma-separated): the middle step of a key rotation
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { configOrExit, databaseEnv, envInt, envString, kafkaEnv, logEnv } from '@smshub/config';
import { createPool } from '@smshub/db';
import { createKafka, kafkaConnection } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { parseSecretKey, SecretBoxError } from '@smshub/secrets';
import {
  DEMO_SYSTEM_ID,
  DemoError,
  bindInstructions,
  readPrefixes,
  ensureDemoApiKey,
  seedDemo,
  simulatorConfig,
} from './demo.js';
import { originateMo } from './mo.js';
import { printRated } from './rated.js';
import { resealConnectors } from './reseal.js';
import { createTopics, runMigrations } from './setup.js';

const commands = ['setup', 'migrate', 'topics', 'demo', 'rated', 'reseal-connectors', 'mo'] as const;
const command = process.argv[2];
if (!commands.includes(command as (typeof commands)[number])) {
  process.stderr.write(`usage: ops <${commands.join('|')}>\n`);
  process.exit(64);
}

const config = configOrExit(
  z.object({
    ...kafkaEnv,
    ...databaseEnv,
    ...logEnv,
    // Unset: from the cluster's broker count (3+ brokers: 3 copies, min ISR 2; 1 broker: 1).
    KAFKA_REPLICATION_FACTOR: envInt({ min: 1, max: 5 }).optional(),
    KAFKA_MIN_INSYNC_REPLICAS: envInt({ min: 1, max: 5 }).optional(),
    MIGRATIONS_DIR: z.string().optional(),
    // demo only
    CONNECTOR_SECRET_KEY: envString().optional(),
    // reseal-connectors only
    CONNECTOR_SECRET_KEY_PREVIOUS: envString().optional(),
    DEMO_SMPP_PASSWORD: envString().optional(),
    // The local hub's port offset (`HUB_PORT_OFFSET=N npm start`): added to the default ports below.
    HUB_PORT_OFFSET: envInt({ min: 0, max: 15_000, default: 0 }),
    DEMO_SIM_GOOD_PORT: envInt({ min: 1, max: 65535 }).optional(),
    DEMO_SIM_POOR_PORT: envInt({ min: 1, max: 65535 }).optional(),
    DEMO_SIM_HOST: envString().optional(),
    DEMO_PROFILE: z.enum(['demo', 'bench'], { message: 'must be demo or bench' }).default('demo'),
    DEMO_PREFIXES_FILE: envString().optional(),
    DEMO_SMPP_HOST: envString().optional(),
    SMPP_PORT: envInt({ min: 1, max: 65535 }).optional(),
    SMPP_TLS_PORT: envInt({ min: 0, max: 65535 }).optional(),
    // mo only: the SMSC simulator's control endpoint (default 127.0.0.1:2778 + HUB_PORT_OFFSET, as npm start).
    SIM_CONTROL_PORT: envInt({ min: 1, max: 65535 }).optional(),
  }),
  { service: 'ops' },
);
/** The demo's ports: as set, else the local hub's defaults moved up by HUB_PORT_OFFSET (as npm start does). */
const demoPorts = {
  simGood: config.DEMO_SIM_GOOD_PORT ?? 2776 + config.HUB_PORT_OFFSET,
  simPoor: config.DEMO_SIM_POOR_PORT ?? 2777 + config.HUB_PORT_OFFSET,
  smpp: config.SMPP_PORT ?? 2775 + config.HUB_PORT_OFFSET,
  smppTls: config.SMPP_TLS_PORT ?? 3550 + config.HUB_PORT_OFFSET,
};
const logger = createLogger({ service: 'ops', level: config.LOG_LEVEL });

async function main(): Promise<void> {
  if (command === 'demo') return demo();
  if (command === 'rated') return rated();
  if (command === 'reseal-connectors') return reseal();
  if (command === 'mo') {
    const port = config.SIM_CONTROL_PORT ?? 2778 + config.HUB_PORT_OFFSET;
    process.stdout.write(await originateMo(process.argv.slice(3), `http://127.0.0.1:${port}`));
    return;
  }
  if (command === 'setup' || command === 'migrate') {
    const pool = createPool({ connectionString: config.DATABASE_URL, applicationName: 'smshub-ops', logger });
    try {
      await runMigrations(pool, logger, config.MIGRATIONS_DIR);
    } finally {
      await pool.end();
    }
  }
  if (command === 'setup' || command === 'topics') {
    const kafka = createKafka(kafkaConnection(config, 'smshub-ops'), logger);
    await createTopics(
      kafka,
      logger,
      {
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
      },
      config.KAFKA_NAMESPACE,
    );
  }
}

async function reseal(): Promise<void> {
  if (!config.CONNECTOR_SECRET_KEY || !config.CONNECTOR_SECRET_KEY_PREVIOUS)
    throw new DemoError(
      'reseal-connectors needs CONNECTOR_SECRET_KEY (the new key) and CONNECTOR_SECRET_KEY_PREVIOUS (the old one, or several, comma-separated)',
    );
  let current: Buffer;
  let previous: Buffer[];
  try {
    current = parseSecretKey(config.CONNECTOR_SECRET_KEY);
    previous = config.CONNECTOR_SECRET_KEY_PREVIOUS.split(',')
      .filter((k) => k.trim() !== '')
      .map(parseSecretKey);
  } catch (err) {
    throw new DemoError(err instanceof SecretBoxError ? err.message : String(err));
  }
  const pool = createPool({ connectionString: config.DATABASE_URL, applicationName: 'smshub-ops', logger });
  try {
    const r = await resealConnectors(pool, current, previous);
    process.stdout.write(
      `re-sealed ${r.resealed.length} connector password(s) under the new key${r.resealed.length ? ` (${r.resealed.join(', ')})` : ''}; ${r.alreadyCurrent} already under it\n`,
    );
    if (r.unopenable.length) {
      throw new DemoError(
        `${r.unopenable.length} connector password(s) open with none of the keys and were left as they are: ${r.unopenable.join(', ')} (give them their password again: hubctl connectors update <id> --bind ... --password-stdin)`,
      );
    }
  } finally {
    await pool.end();
  }
}

async function rated(): Promise<void> {
  let flags;
  try {
    flags = parseArgs({ args: process.argv.slice(3), options: { message: { type: 'string' } } }).values;
  } catch (err) {
    throw new DemoError(`${(err as Error).message} (usage: ops rated [--message ID])`);
  }
  const kafka = createKafka(kafkaConnection(config, 'smshub-ops'), logger);
  const n = await printRated(kafka, {
    namespace: config.KAFKA_NAMESPACE,
    messageId: flags.message,
    write: (line) => process.stdout.write(`${line}\n`),
  });
  if (n === 0)
    process.stderr.write(
      flags.message
        ? `no rated record for ${flags.message} yet (rating publishes it once the message is final)\n`
        : 'billing.rated.v1 is empty\n',
    );
}

async function demo(): Promise<void> {
  let flags;
  try {
    flags = parseArgs({
      args: process.argv.slice(3),
      options: {
        'sim-config': { type: 'string' },
        'api-key-file': { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    throw new DemoError(
      `${(err as Error).message} (usage: ops demo [--sim-config FILE] [--api-key-file FILE] [--quiet])`,
    );
  }
  if (!config.DEMO_SMPP_PASSWORD) throw new DemoError('set DEMO_SMPP_PASSWORD (the demo account password)');
  if (!config.CONNECTOR_SECRET_KEY)
    throw new DemoError('set CONNECTOR_SECRET_KEY (the key egress opens connector passwords with)');
  if (demoPorts.simGood === demoPorts.simPoor)
    throw new DemoError('DEMO_SIM_GOOD_PORT and DEMO_SIM_POOR_PORT must differ');
  let secretKey: Buffer;
  try {
    secretKey = parseSecretKey(config.CONNECTOR_SECRET_KEY);
  } catch (err) {
    throw new DemoError((err as SecretBoxError).message);
  }
  const pool = createPool({ connectionString: config.DATABASE_URL, applicationName: 'smshub-ops', logger });
  let result;
  try {
    result = await seedDemo(pool, {
      smppPassword: config.DEMO_SMPP_PASSWORD,
      secretKey,
      goodPort: demoPorts.simGood,
      poorPort: demoPorts.simPoor,
      ...(config.DEMO_SIM_HOST ? { simHost: config.DEMO_SIM_HOST } : {}),
      prefixes: readPrefixes(config.DEMO_PREFIXES_FILE),
    });
    // The demo account's HTTP API key, kept in a file (made once; remade when it no longer works).
    const keyFile = flags['api-key-file'];
    if (keyFile) {
      const current = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
      const made = await ensureDemoApiKey(pool, result.accountId, current);
      if (made !== undefined) {
        mkdirSync(path.dirname(path.resolve(keyFile)), { recursive: true });
        writeFileSync(keyFile, `${made}\n`, { mode: 0o600 });
        logger.info({ file: keyFile }, 'demo API key written');
      }
    }
  } finally {
    await pool.end();
  }
  const added = Object.entries(result.inserted).filter(([, n]) => n > 0);
  logger.info(
    { accountId: result.accountId, inserted: result.inserted, toppedUp: result.toppedUp },
    added.length ? 'demo configuration seeded' : 'demo configuration already present, nothing changed',
  );
  if (!result.passwordMatches)
    logger.warn(
      `account ${DEMO_SYSTEM_ID} exists with another password (changed through the admin API?): DEMO_SMPP_PASSWORD will not bind`,
    );
  for (const c of result.connectors) {
    const wanted = c.id === 'sim-good' ? demoPorts.simGood : demoPorts.simPoor;
    if (c.port !== wanted)
      logger.warn(
        { connector: c.id, stored: c.port, requested: wanted },
        'connector exists with another port; the stored port is kept and the simulator config uses it',
      );
  }
  const simConfig = flags['sim-config'];
  if (simConfig) {
    mkdirSync(path.dirname(path.resolve(simConfig)), { recursive: true });
    // Holds the connector passwords: readable by this user only.
    writeFileSync(
      simConfig,
      `${JSON.stringify(simulatorConfig(result.connectors, config.DEMO_PROFILE), null, 2)}\n`,
      { mode: 0o600 },
    );
    logger.info({ file: simConfig, profile: config.DEMO_PROFILE }, 'simulator config written');
  }
  if (!flags.quiet)
    process.stdout.write(
      `${bindInstructions({
        host: config.DEMO_SMPP_HOST ?? '127.0.0.1',
        port: demoPorts.smpp,
        tlsPort: demoPorts.smppTls || undefined,
        portOffset: config.HUB_PORT_OFFSET,
        systemId: DEMO_SYSTEM_ID,
        password: config.DEMO_SMPP_PASSWORD,
      })}\n`,
    );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (!(err instanceof DemoError)) logger.error({ err }, `${command} failed`);
    process.stderr.write(`ops ${command} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
