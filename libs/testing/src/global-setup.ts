// vitest globalSetup for the integration project: provision Kafka and Postgres once per run, hand their
// addresses to the test workers (provide/inject and the environment), release them at the end.
import type { TestProject } from 'vitest/node';
import { provisionInfra } from './infra.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const infra = await provisionInfra();
  if (infra.source !== 'none') {
    process.stderr.write(`[test infra] ${infra.source} ready in ${Date.now() - started} ms\n`);
  }
  project.provide('kafkaBrokers', infra.kafkaBrokers);
  project.provide('databaseUrl', infra.databaseUrl);
  if (infra.kafkaBrokers.length) process.env.KAFKA_BROKERS = infra.kafkaBrokers.join(',');
  if (infra.databaseUrl) process.env.DATABASE_URL = infra.databaseUrl;
  return () => infra.release();
}
