// Hands tests a real Kafka broker and a real PostgreSQL, in this order of preference:
//   1. addresses given in the environment (KAFKA_BROKERS, DATABASE_URL), each on its own;
//   2. testcontainers, when a Docker engine answers;
//   3. the local scripts in deploy/local/ (official Kafka jars from Maven Central, Debian's PostgreSQL).
// SMSHUB_TEST_INFRA=none provides nothing (for suites that need neither).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Infra {
  /** Comma-free list of host:port. Empty when SMSHUB_TEST_INFRA=none. */
  readonly kafkaBrokers: string[];
  /** A database URL whose role may CREATE DATABASE. Empty when SMSHUB_TEST_INFRA=none. */
  readonly databaseUrl: string;
  /** Where it came from, for the log line. */
  readonly source: string;
}

export interface ProvisionedInfra extends Infra {
  /** Stops only what this call started. */
  release(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** True when a container engine answers within a few seconds. */
export async function dockerAvailable(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('docker probe timed out')), 8000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function localScript(name: string, ...args: string[]): Promise<string> {
  const script = path.join(repoRoot, 'deploy/local', name);
  const { stdout } = await run('bash', [script, ...args], { maxBuffer: 1 << 20 });
  return stdout.trim().split('\n').pop() ?? '';
}

async function localRunning(name: string): Promise<boolean> {
  try {
    await run('bash', [path.join(repoRoot, 'deploy/local', name), 'status']);
    return true;
  } catch {
    return false;
  }
}

export async function provisionInfra(env: Env = process.env): Promise<ProvisionedInfra> {
  if (env.SMSHUB_TEST_INFRA === 'none') {
    return { kafkaBrokers: [], databaseUrl: '', source: 'none', release: async () => {} };
  }
  const releases: Array<() => Promise<void>> = [];
  const sources: string[] = [];
  let kafkaBrokers =
    env.KAFKA_BROKERS?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  let databaseUrl = env.DATABASE_URL ?? '';
  if (kafkaBrokers.length) sources.push('kafka: KAFKA_BROKERS');
  if (databaseUrl) sources.push('postgres: DATABASE_URL');

  const useDocker =
    (!kafkaBrokers.length || !databaseUrl) && env.SMSHUB_TEST_INFRA !== 'local' && (await dockerAvailable());
  if (useDocker) {
    if (!kafkaBrokers.length) {
      const { KafkaContainer } = await import('@testcontainers/kafka');
      const kafka = await new KafkaContainer(env.SMSHUB_TEST_KAFKA_IMAGE ?? 'confluentinc/cp-kafka:7.9.0')
        .withKraft()
        .withEnvironment({ KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false' })
        .start();
      kafkaBrokers = [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`];
      releases.push(async () => void (await kafka.stop()));
      sources.push('kafka: testcontainers');
    }
    if (!databaseUrl) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const pg = await new PostgreSqlContainer(
        env.SMSHUB_TEST_POSTGRES_IMAGE ?? 'postgres:15-bookworm',
      ).start();
      databaseUrl = pg.getConnectionUri();
      releases.push(async () => void (await pg.stop()));
      sources.push('postgres: testcontainers');
    }
  }
  if (!kafkaBrokers.length) {
    const wasRunning = await localRunning('kafka.sh');
    kafkaBrokers = [await localScript('kafka.sh', 'start')];
    if (!wasRunning) releases.push(async () => void (await localScript('kafka.sh', 'stop')));
    sources.push(`kafka: deploy/local${wasRunning ? ' (already running)' : ''}`);
  }
  if (!databaseUrl) {
    const wasRunning = await localRunning('postgres.sh');
    databaseUrl = await localScript('postgres.sh', 'start');
    if (!wasRunning) releases.push(async () => void (await localScript('postgres.sh', 'stop')));
    sources.push(`postgres: deploy/local${wasRunning ? ' (already running)' : ''}`);
  }
  return {
    kafkaBrokers,
    databaseUrl,
    source: sources.join(', '),
    release: async () => {
      for (const release of releases.reverse()) await release();
    },
  };
}
