// Benchmark (not a test): CSV import throughput and single-write latency of the admin API over real gRPC,
// Postgres and Kafka. Uses a fresh database and fresh topics, both removed at the end.
//   set -a; . .local/env; set +a
//   node --conditions=@smshub/source --import tsx services/admin/bench/import-bench.ts [rows=100000]
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { AdminServiceClient, topics as registry } from '@smshub/contracts';
import { createPool, migrate } from '@smshub/db';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { startAdmin } from '../src/admin.js';

const rows = Number(process.argv[2] ?? 100_000);
const adminUrl = process.env.DATABASE_URL;
const brokers = process.env.KAFKA_BROKERS?.split(',');
if (!adminUrl || !brokers) throw new Error('set DATABASE_URL and KAFKA_BROKERS (. .local/env)');
const suffix = randomBytes(4).toString('hex');
const dbName = `admin_bench_${suffix}`;
const logger = createLogger({ service: 'admin-bench', level: 'warn' });

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const pool = createPool({ connectionString: url.toString(), max: 5 });
const kafka = createKafka({ clientId: `admin-bench-${suffix}`, brokers }, logger);
const topics = {
  configChanges: { ...registry.configChanges, name: `admin-bench-changes-${suffix}` },
  balances: { ...registry.balances, name: `admin-bench-balances-${suffix}`, partitions: 1 },
  audit: { ...registry.audit, name: `admin-bench-audit-${suffix}` },
};
const kadmin = kafka.admin();
await kadmin.connect();
await kadmin.createTopics({
  waitForLeaders: true,
  topics: Object.values(topics).map((t) => ({ topic: t.name, numPartitions: 1, replicationFactor: 1 })),
});
const producer = new TypedProducer(kafka, logger);
const token = randomBytes(24).toString('base64url');
let server: Awaited<ReturnType<typeof startAdmin>> | undefined;
let client: AdminServiceClient | undefined;
try {
  await migrate(pool);
  await producer.connect();
  server = await startAdmin({
    pool,
    producer,
    topics,
    logger,
    token,
    connectorKey: randomBytes(32),
    server: { port: 0, host: '127.0.0.1' },
  });
  const c = new AdminServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  client = c;
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const call = <R>(method: string, req: unknown): Promise<R> =>
    new Promise((resolve, reject) =>
      (c as unknown as Record<string, (...a: unknown[]) => void>)[method]!.call(
        c,
        req,
        md,
        (err: Error | null, res: R) => (err ? reject(err) : resolve(res)),
      ),
    );

  const prefixes = ['prefix,country_code,mcc,mnc,network_name'];
  for (let i = 0; i < rows; i++) prefixes.push(`${4_470_000_000 + i},GB,234,15,Vodafone UK`);
  const ported = ['msisdn,mcc,mnc,ported_at'];
  for (let i = 0; i < rows; i++)
    ported.push(`44770${String(i).padStart(7, '0')},234,30,2026-01-01T00:00:00Z`);
  type Summary = { summary: { created: number; updated: number; errors: unknown[] } };
  for (const [name, method, csv] of [
    ['number prefixes', 'importNumberPrefixes', prefixes.join('\n')],
    ['ported numbers', 'importPortedNumbers', ported.join('\n')],
  ] as const) {
    const bytes = Buffer.from(csv);
    let t = performance.now();
    const first = await call<Summary>(method, { csv: bytes, replaceAll: false, dryRun: false });
    const created = (performance.now() - t) / 1000;
    t = performance.now();
    const second = await call<Summary>(method, { csv: bytes, replaceAll: false, dryRun: false });
    const updated = (performance.now() - t) / 1000;
    console.log(
      `${name}: ${rows} rows (${(bytes.length / 1e6).toFixed(1)} MB): create ${created.toFixed(2)} s ` +
        `(${Math.round(first.summary.created / created)} rows/s), update ${updated.toFixed(2)} s ` +
        `(${Math.round(second.summary.updated / updated)} rows/s)`,
    );
  }

  const n = 200;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await call('createNumberPrefix', {
      numberPrefix: {
        prefix: `99${i}`,
        countryCode: '001',
        mcc: '901',
        mnc: '01',
        networkName: '',
        revision: 0n,
      },
    });
  }
  console.log(
    `single create (commit + config.changes.v1 acks=all), sequential: ${((performance.now() - t) / n).toFixed(2)} ms per call`,
  );
} finally {
  client?.close();
  await server?.stop(1_000);
  await producer.close().catch(() => undefined);
  await pool.end();
  await kadmin.deleteTopics({ topics: Object.values(topics).map((t) => t.name) }).catch(() => undefined);
  await kadmin.disconnect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
