// End-to-end throughput of the routing service core over real Kafka and Postgres.
// Run (needs KAFKA_BROKERS and DATABASE_URL, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/routing/bench/service-bench.ts [messages=10000] [numbers=2000] [rate]
// Creates its own topics and database and removes them at the end. Produces `messages` SmsSubmitted to
// `numbers` distinct GB/DE/FR mobiles (so the ported-number cache misses once per number and then hits),
// then starts the core in a child process and measures until every message is routed or rejected: the
// child's CPU time (user + system, from the moment its consumers joined) per message and its peak RSS are
// the routing process's own, without the producing done here. The parent watches the output topics' end
// offsets rather than consuming them. Prints figures; not a test.
// ROUTING_BENCH_NODE_ARGS passes node flags to the routing process only, e.g. a CPU profile
// ("--cpu-prof --cpu-prof-dir=/tmp/prof") or heap limits ("--max-old-space-size=192").
// ROUTING_BENCH_BUNDLED=1 runs the routing process from an esbuild bundle of this file made like the
// services' (tools/dev/bundle.mjs), so its memory and CPU are those of a deployed bundle rather than of
// TypeScript compiled on the fly by tsx. ROUTING_BENCH_CORE_SCRIPT runs it from another build (e.g. of an
// older commit, to compare).
// With a rate (messages per second), the messages are produced at that pace while the core runs (a flow as in
// the running hub: small fetches, small batches) instead of as a backlog before it starts; the CPU figure is
// then the routing process's per message at that rate. ROUTING_BENCH_VELOCITY=0 leaves out the velocity rule
// (and so the firewall windows' statement per batch), as in the demo configuration `npm run bench` uses.
// ROUTING_BENCH_PARTITIONS (2; the hub's topics have 6), ROUTING_BENCH_FETCH_WAIT_MS and
// ROUTING_BENCH_FETCH_MIN_BYTES and ROUTING_BENCH_CONCURRENCY (partitions handled at once) (main.ts's defaults
// otherwise) to compare; ROUTING_BENCH_PROFILE=FILE writes a
// V8 CPU profile of the measured window only (with ROUTING_BENCH_BUNDLED=1 the bundle has a source map).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { SmsSubmitted, TrafficType, topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { metricsRegistry } from '@smshub/telemetry';
import { createRoutingCore } from '../src/core.js';
import { importPrefixCsv } from '../src/prefix-import.js';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const logger = createLogger({ service: 'routing-bench', level: 'warn' });
// ROUTING_BENCH_PARTITIONS: partitions of the message topics (2; the hub's have 6).
const partitions = Number(process.env['ROUTING_BENCH_PARTITIONS'] ?? 2);
const topicsOf = (suffix: string) => ({
  submitted: { ...registry.submitted, name: `bench_submitted_${suffix}`, partitions },
  routed: { ...registry.routed, name: `bench_routed_${suffix}`, partitions },
  rejected: { ...registry.rejected, name: `bench_rejected_${suffix}`, partitions },
  configChanges: { ...registry.configChanges, name: `bench_config_${suffix}`, partitions: 1 },
  deliveryStats: { ...registry.deliveryStats, name: `bench_stats_${suffix}`, partitions: 1 },
});

/** What the child (the routing core) reports when told to stop. */
interface CoreReport {
  cpuUs: number;
  /** The system part of cpuUs. */
  systemUs: number;
  maxRssMb: number;
  /** Highest heapTotal / heapUsed / external (array buffers included) sampled every 50 ms while consuming. */
  peak: { heapTotalMb: number; heapUsedMb: number; externalMb: number };
  /** RSS right after start, before the first message. */
  startRssMb: number;
  hits: number;
  misses: number;
  rejectedByCategory: string;
  meanDecisionUs: number;
  decisions: number;
}

const child = process.env['ROUTING_BENCH_CHILD'];
if (child) await runCore(JSON.parse(child) as { suffix: string; url: string });
else await runParent();

/** The routing process: starts the core, then measures its own CPU from the moment it is consuming. */
async function runCore({ suffix, url }: { suffix: string; url: string }): Promise<void> {
  const topics = topicsOf(suffix);
  const kafka = createKafka({ brokers, clientId: `routing-bench-core-${suffix}`, ssl: false }, logger);
  const producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 30_000 });
  await producer.connect();
  const pool = createPool({ connectionString: url, max: 5 });
  const core = createRoutingCore({
    config: {
      replicaId: 'bench',
      groupId: `bench_routing_${suffix}`,
      configGroupPrefix: `bench_routing_config_${suffix}`,
      statsGroupPrefix: `bench_routing_stats_${suffix}`,
      portedCache: { ttlMs: 3600_000, negativeTtlMs: 600_000, maxEntries: 100_000 },
      // As main.ts with the default ROUTING_FETCH_MIN_BYTES / ROUTING_FETCH_WAIT_MS (only a paced flow feels them).
      // (ROUTING_BENCH_FETCH_WAIT_MS / ROUTING_BENCH_FETCH_MIN_BYTES / ROUTING_BENCH_CONCURRENCY to compare others.)
      consumer: {
        partitionsConsumedConcurrently: Number(process.env['ROUTING_BENCH_CONCURRENCY'] ?? 6),
        minBytes: Number(process.env['ROUTING_BENCH_FETCH_MIN_BYTES'] ?? 32 * 1024),
        maxWaitMs: Number(process.env['ROUTING_BENCH_FETCH_WAIT_MS'] ?? 50),
      },
      // ROUTING_BENCH_FIREWALL_WINDOWS=memory: the per-process windows instead of PostgreSQL's (to compare).
      firewallWindows: process.env['ROUTING_BENCH_FIREWALL_WINDOWS'] === 'memory' ? 'memory' : 'postgres',
    },
    logger,
    producer,
    consumer: (o) => new TypedConsumer(kafka, logger, { ...o, producer }),
    pool,
    topics,
  });
  await core.start();
  const mb = (b: number) => b / 1024 / 1024;
  const startRssMb = mb(process.memoryUsage().rss);
  const peak = { heapTotalMb: 0, heapUsedMb: 0, externalMb: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapTotalMb = Math.max(peak.heapTotalMb, mb(m.heapTotal));
    peak.heapUsedMb = Math.max(peak.heapUsedMb, mb(m.heapUsed));
    peak.externalMb = Math.max(peak.externalMb, mb(m.external));
  }, 50);
  // ROUTING_BENCH_PROFILE=FILE: a V8 CPU profile of the measured window only (no start-up), in this process.
  const profFile = process.env['ROUTING_BENCH_PROFILE'];
  const prof = profFile ? new Session() : undefined;
  if (prof) {
    prof.connect();
    await prof.post('Profiler.enable');
    await prof.post('Profiler.setSamplingInterval', { interval: 250 });
    await prof.post('Profiler.start');
  }
  const cpu = process.cpuUsage();
  process.send!({ started: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const used = process.cpuUsage(cpu);
  if (prof) {
    const { profile } = await prof.post('Profiler.stop');
    await writeFile(profFile!, JSON.stringify(profile));
  }
  clearInterval(sampler);
  const byCategory =
    (await metricsRegistry.getSingleMetric('smshub_routing_rejected_total')?.get())?.values ?? [];
  const hist =
    (await metricsRegistry.getSingleMetric('smshub_routing_decision_seconds')?.get())?.values ?? [];
  const count = hist.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value ?? 0;
  const sum = hist.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
  const report: CoreReport = {
    cpuUs: used.user + used.system,
    systemUs: used.system,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    peak,
    startRssMb,
    hits: core.numbers.hits,
    misses: core.numbers.misses,
    rejectedByCategory: byCategory
      .map((v) => `${v.labels['category']}/${v.labels['rule']}=${v.value}`)
      .join(', '),
    meanDecisionUs: (sum / Math.max(1, count)) * 1e6,
    decisions: count,
  };
  await core.stop();
  await producer.close();
  await pool.end();
  process.send!(report, () => process.disconnect());
}

async function runParent(): Promise<void> {
  const total = Number(process.argv[2] ?? 10_000);
  const distinct = Number(process.argv[3] ?? 2_000);
  const rate = Number(process.argv[4] ?? 0);
  const adminUrl = process.env['DATABASE_URL'];
  if (!adminUrl) throw new Error('DATABASE_URL is required');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const topics = topicsOf(suffix);
  const kafka = createKafka({ brokers, clientId: `routing-bench-${suffix}`, ssl: false }, logger);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      replicationFactor: 1,
    })),
  });

  const dbName = `routing_bench_${suffix}`;
  const adminDb = new pg.Client({ connectionString: adminUrl });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const pool = createPool({ connectionString: url.toString(), max: 5 });
  const migrationsDir = await mkdtemp(path.join(tmpdir(), 'routing-bench-'));
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^(0001|02\d\d|03\d\d|05\d\d)_.*\.sql$/.test(f))
      await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrationsDir, f));
  await migrate(pool, { dir: migrationsDir });
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  for (const id of ['con_a', 'con_b', 'con_c'])
    await pool.query(
      `INSERT INTO egress_connectors (id, name, host, port, system_id, password_secret_ref, max_submit_rate)
     VALUES ($1, $1, '127.0.0.1', 2776, 'hub', 'file:/x', 100)`,
      [id],
    );
  let rateNo = 0;
  for (const [con, country, micro] of [
    ['con_a', 'GB', 5000],
    ['con_b', 'GB', 4000],
    ['con_c', 'GB', 4500],
    ['con_a', 'DE', 7000],
    ['con_b', 'DE', 7100],
    ['con_c', 'FR', 6000],
  ] as const)
    await pool.query(
      `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, currency, effective_from)
     VALUES ($1, 'connector', $2, $3, $4, 'EUR', now() - interval '1 day')`,
      [`br${rateNo++}`, con, country, micro],
    );
  await pool.query(
    `INSERT INTO routing_rules (id, countries, strategy, strategy_currency) VALUES ('r_lc', '{GB,DE,FR}', 'least_cost', 'EUR')`,
  );
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id) VALUES ('r_lc', 0, 'con_a'), ('r_lc', 1, 'con_b'), ('r_lc', 2, 'con_c')`,
  );
  await pool.query(`INSERT INTO routing_firewall_rules (id, kind, params) VALUES
  ('fw_kw', 'keyword', '{"keywords": ["casino", "lottery"]}'),
  ('fw_url', 'url_shortener', '{}')`);
  if (process.env['ROUTING_BENCH_VELOCITY'] !== '0')
    await pool.query(`INSERT INTO routing_firewall_rules (id, kind, params) VALUES
    ('fw_vel', 'velocity_account', '{"limit": 1000000, "windowSeconds": 60}')`);

  // Valid mobiles (libphonenumber): GB 7712 / 7912, DE 15112 / 17612, FR 606 / 612, six random digits.
  const bases = ['447712', '447912', '4915112', '4917612', '33606', '33612'];
  const numbers = Array.from({ length: distinct }, (_, i) => {
    const base = bases[i % bases.length]!;
    const tail = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
    return `${base}${tail}`;
  });
  await pool.query(
    `INSERT INTO routing_ported_numbers (e164, mcc, mnc) SELECT unnest($1::text[]), '234', '10' ON CONFLICT DO NOTHING`,
    [numbers.filter((_, i) => i % 20 === 0 && numbers[i]!.startsWith('44'))],
  );

  const producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 30_000 });
  await producer.connect();
  const texts = [
    'Your code is 123456',
    'Your parcel arrives today',
    'Win at the casino tonight',
    'see bit.ly/x',
  ];
  const message = (i: number) =>
    SmsSubmitted.fromPartial({
      messageId: uuidv7(),
      accountId: `acc_${i % 50}`,
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: numbers[i % numbers.length]! },
      dataCoding: 0,
      shortMessage: Buffer.from(`${texts[i % texts.length]!} ${i}`, 'ascii'),
      receivedAt: new Date(),
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    });
  let t = performance.now();
  if (rate === 0) {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < total; i++) sends.push(producer.produce(topics.submitted, message(i)));
    await Promise.all(sends);
    console.log(`produced ${total} submitted in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  const endOffsets = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  // Transactions of the bench's database (every statement routing runs outside BEGIN is one), from here on.
  const xacts = async (): Promise<number> =>
    Number(
      (
        await adminDb.query<{ n: string }>(
          'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
          [dbName],
        )
      ).rows[0]?.n ?? 0,
    );
  const xacts0 = await xacts();
  t = performance.now();
  const nodeArgs = (process.env['ROUTING_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a.length > 0);
  const coreScript =
    process.env['ROUTING_BENCH_CORE_SCRIPT'] ??
    (process.env['ROUTING_BENCH_BUNDLED'] === '1' ? await bundleSelf() : undefined);
  const core = fork(coreScript ?? fileURLToPath(import.meta.url), [], {
    execArgv: coreScript ? nodeArgs : [...process.execArgv, ...nodeArgs],
    env: { ...process.env, ROUTING_BENCH_CHILD: JSON.stringify({ suffix, url: url.toString() }) },
  });
  const report = new Promise<CoreReport>((resolve, reject) => {
    core.on('message', (m) => {
      if ((m as { started?: boolean }).started) return;
      resolve(m as CoreReport);
    });
    core.once('exit', (code) => reject(new Error(`the routing core exited with code ${code}`)));
  });
  await new Promise<void>((resolve, reject) => {
    core.once('message', () => resolve());
    core.once('exit', (code) =>
      reject(new Error(`the routing core exited with code ${code} before starting`)),
    );
  });
  const started = performance.now();
  console.log(`core started (tables loaded, consumers joined) in ${((started - t) / 1000).toFixed(1)} s`);
  const deadline = Date.now() + 300_000;
  // Paced: every 10 ms, the messages due by then (acks awaited at the end).
  const paced =
    rate > 0
      ? (async () => {
          const sends: Promise<void>[] = [];
          const t0 = performance.now();
          for (let i = 0; i < total;) {
            const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
            for (; i < due; i++) sends.push(producer.produce(topics.submitted, message(i)));
            await new Promise((r) => setTimeout(r, 10));
          }
          await Promise.all(sends);
          console.log(
            `produced ${total} submitted at ${rate}/s in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
        })()
      : Promise.resolve();
  let routed = 0;
  let rejected = 0;
  while (routed + rejected < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    [routed, rejected] = await Promise.all([
      endOffsets(topics.routed.name),
      endOffsets(topics.rejected.name),
    ]);
  }
  await paced;
  const seconds = (performance.now() - started) / 1000;
  core.send('stop');
  const r = await report;
  const loadAfter = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  // pg_stat_database lags by up to its report interval: wait for it, then read.
  await new Promise((r) => setTimeout(r, 1000));
  const tx = (await xacts()) - xacts0;
  console.log(
    `decided ${routed + rejected}/${total} (routed ${routed}, rejected ${rejected}) in ${seconds.toFixed(1)} s: ` +
      `${Math.round((routed + rejected) / seconds)} msg/s end to end (consume, decide, publish with acks=all, commit); ` +
      `ported cache ${r.hits} hits / ${r.misses} misses`,
  );
  console.log(`rejected by category: ${r.rejectedByCategory}`);
  console.log(
    `decision time: mean ${r.meanDecisionUs.toFixed(0)} µs per message over ${r.decisions} batches; ` +
      `PostgreSQL ${(tx / total).toFixed(3)} transactions per message (the core's start included)`,
  );
  console.log(
    `routing process: ${(r.cpuUs / Math.max(1, routed + rejected)).toFixed(1)} CPU-µs per message ` +
      `(${(r.cpuUs / 1e6).toFixed(2)} CPU-s, user + system, from consumers joined to the last message; system ` +
      `${(r.systemUs / Math.max(1, routed + rejected)).toFixed(1)} µs per message), ` +
      `peak RSS ${r.maxRssMb.toFixed(0)} MB (${r.startRssMb.toFixed(0)} MB once started; peak heap total ` +
      `${r.peak.heapTotalMb.toFixed(0)} MB, heap used ${r.peak.heapUsedMb.toFixed(0)} MB, external ` +
      `${r.peak.externalMb.toFixed(0)} MB); load average ${loadBefore} before, ${loadAfter} after`,
  );

  await producer.close();
  await pool.end();
  await adminDb.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await adminDb.end();
  await rm(migrationsDir, { recursive: true, force: true });
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((n) => n.includes(suffix)) });
  await admin.disconnect();
}

/**
 * Bundles this file like tools/dev/bundle.mjs bundles a service (workspace packages inlined from their
 * sources, other dependencies external) into dist/service-bench.mjs; returns its path.
 */
async function bundleSelf(): Promise<string> {
  const { build } = await import('esbuild');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const external = new Set<string>();
  for (const top of ['.', 'libs', 'services', 'tools']) {
    const dirs = top === '.' ? ['.'] : (await readdir(path.join(root, top))).map((d) => path.join(top, d));
    for (const dir of dirs) {
      const file = path.join(root, dir, 'package.json');
      const pkg = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as {
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
      };
      for (const deps of [pkg.dependencies, pkg.optionalDependencies])
        for (const name of Object.keys(deps ?? {})) if (!name.startsWith('@smshub/')) external.add(name);
    }
  }
  const outfile = path.join(root, 'services/routing/dist/service-bench.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@smshub/source'],
    external: [...external],
    banner: {
      js: "import { createRequire as __smshubCreateRequire } from 'node:module'; const require = __smshubCreateRequire(import.meta.url);",
    },
    // (linked: a CPU profile of the bundle maps back to the sources)
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}
