// smshub operations commands. Usage: main.ts <setup|migrate|topics>
//   setup    migrations, then topics (what the deployment's one-shot job runs)
//   migrate  apply pending SQL migrations
//   topics   create or grow the Kafka topics of the contracts' registry
import { z } from 'zod';
import { configOrExit, databaseEnv, kafkaEnv, logEnv } from '@smshub/config';
import { createPool } from '@smshub/db';
import { createKafka, kafkaConnection } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createTopics, runMigrations } from './setup.js';

const commands = ['setup', 'migrate', 'topics', 'demo'] as const;
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
    KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(5).default(1),
    MIGRATIONS_DIR: z.string().optional(),
  }),
  { service: 'ops' },
);
const logger = createLogger({ service: 'ops', level: config.LOG_LEVEL });

async function main(): Promise<void> {
  if (command === 'demo') {
    logger.info('no demo configuration yet');
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
    await createTopics(kafka, logger, config.KAFKA_REPLICATION_FACTOR, config.KAFKA_NAMESPACE);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    logger.error({ err }, `${command} failed`);
    process.stderr.write(`ops ${command} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
