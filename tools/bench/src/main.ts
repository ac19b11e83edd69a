#!/usr/bin/env node
// `npm run bench`: the end-to-end benchmark. Brings up the whole hub (libs/testing startHub, the SMSC
// simulators answering at once and delivering every message) on the local Kafka and PostgreSQL, runs
// tools/loadgen against ingress at full speed and then at half that rate, and reports throughput, latencies,
// CPU per message over every hub process plus Kafka and PostgreSQL, peak RSS, consumer lag over time and a
// raw Kafka baseline. Writes bench/results/<time>.json and .md. Never a test: nothing passes or fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  entryArgs,
  createTestDatabase,
  freePort,
  HubProcess,
  repoRoot,
  startHub,
  uniqueName,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { kafkaBaseline, kafkaClient, LagMonitor, sampleRecordSize } from './kafka.js';
import { splitByClient } from './pg-clients.js';
import { childCpu, cpuSeconds, loadAverage, peakRssMb, type Watched } from './procfs.js';
import { summariseProfile, type CpuProfile, type ProfileSummary } from './profile.js';
import {
  evaluateTargets,
  formatReport,
  type BenchResult,
  type LoadgenResult,
  type PhaseResult,
  type ProcessFigures,
} from './report.js';
import { gitCommit, kafkaFlushSettings, type StorageInfo } from './run-info.js';
import { liftDemoLimits, seedDemo } from './seed.js';
import { parseProgressLine, rateBetween, thin, type Point } from './series.js';
import { sourceMapResolver } from './sourcemap.js';

const USAGE = `usage: npm run bench [-- options]
  --binds N            loadgen transceiver binds (default 4)
  --window W           submit_sm in flight per bind (default 100)
  --rate R             target msg/s of the full-speed phase, 0 = as fast as possible (default 0)
  --duration S         seconds of the full-speed phase, warm-up included (default 75)
  --count M            messages of the full-speed phase instead of --duration
  --warmup S           seconds left out of the sustained-rate window (default 15)
  --half-duration S    seconds of the half-rate phase, 0 = skip it (default 20)
  --receipt-wait S     after the last submit, loadgen waits this long for receipts (default 60; quick 30)
  --drain S            then wait at most this long for the last rated records (default 30; quick 20)
  --mix SPEC           gsm7=80,ucs2=10,long=10 (default)
  --partitions N       partitions of the message-flow topics, >= 6 (default 6)
  --replicas SPEC      processes per service, e.g. routing=2,dlr=2 (not ingress; default one each)
  --log-level L        LOG_LEVEL of the hub (default info)
  --node-options OPTS  NODE_OPTIONS of every hub process (default: the heap caps compose and Helm give,
                       "--max-old-space-size=192", ingress and http-api 288; "" = none: Node sizes the
                       heap from the host's memory)
  --batch-nice N       run every hub process but ingress at nice N (0-19; default 0): the batch services
                       yield the cores to ingress's submit path, as compose's cpu_shares or Helm's CPU
                       requests would on a shared host
  --profile            V8 CPU profile of every hub process over the load (.cpuprofile); top self time in the report
  --sources            run the TypeScript sources (tsx) instead of the esbuild bundles
  --no-baseline        skip the raw Kafka baseline
  --durable            PostgreSQL as production runs it: a cluster of the bench's own (.local/bench-durable),
                       started with fsync, synchronous_commit and full_page_writes on, stopped at the end
                       (default: the shared local cluster, all three off); Kafka runs its defaults either way
  --quick              a smoke run of about 30 s of load (duration 12, warm-up 4, half 8)
  --label TEXT         a note for the report
  --out-dir DIR        (default bench/results)`;

const MESSAGE_FLOW_PARTITIONS = 6;
const SERVICE_REPLICA_ID: Record<string, string> = {
  routing: 'ROUTING_REPLICA_ID',
  egress: 'EGRESS_REPLICA_ID',
  dlr: 'DLR_REPLICA_ID',
  rating: 'RATING_REPLICA_ID',
  ingress: 'INGRESS_REPLICA_ID',
};

function fail(msg: string): never {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(64);
}

function intFlag(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name}: "${v}" is not an integer >= ${min}`);
  return n;
}

function parseReplicas(spec: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+)$/.exec(item);
    if (!m?.[1] || !m[2]) throw new Error(`bad replicas item "${item}" (expected service=N)`);
    if (m[1] === 'ingress' || m[1] === 'admin')
      throw new Error(`${m[1]} replicas are not supported (loadgen binds one ingress port)`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The heap caps the deployments give a service (docker-compose.yml, helm/smshub/values.yaml, npm start). */
const deploymentNodeOptions = (service: string): string =>
  `--max-old-space-size=${service === 'ingress' || service === 'http-api' ? 288 : 192}`;

const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        binds: { type: 'string' },
        window: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        count: { type: 'string' },
        warmup: { type: 'string' },
        'half-duration': { type: 'string' },
        'receipt-wait': { type: 'string' },
        drain: { type: 'string' },
        mix: { type: 'string', default: 'gsm7=80,ucs2=10,long=10' },
        partitions: { type: 'string' },
        replicas: { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        'node-options': { type: 'string' },
        'batch-nice': { type: 'string' },
        profile: { type: 'boolean', default: false },
        sources: { type: 'boolean', default: false },
        'no-baseline': { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        durable: { type: 'boolean', default: false },
        label: { type: 'string' },
        'out-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quick = values.quick;
  const binds = intFlag('binds', values.binds, 4, 1);
  const window = intFlag('window', values.window, 100, 1);
  const rate = intFlag('rate', values.rate, 0);
  const batchNice = intFlag('batch-nice', values['batch-nice'], 0);
  if (batchNice > 19) fail(`--batch-nice must be 0-19 (got ${batchNice})`);
  const count = values.count === undefined ? undefined : intFlag('count', values.count, 0, 1);
  const durationS =
    count === undefined ? intFlag('duration', values.duration, quick ? 12 : 75, 1) : undefined;
  const warmupS = intFlag('warmup', values.warmup, quick ? 4 : 15);
  const halfS = intFlag('half-duration', values['half-duration'], quick ? 8 : 20);
  const receiptWaitS = intFlag('receipt-wait', values['receipt-wait'], quick ? 30 : 60);
  const drainS = intFlag('drain', values.drain, quick ? 20 : 30);
  const partitions = intFlag('partitions', values.partitions, MESSAGE_FLOW_PARTITIONS, 1);
  if (partitions < MESSAGE_FLOW_PARTITIONS)
    fail(`--partitions must be at least ${MESSAGE_FLOW_PARTITIONS} (topics are created with that many)`);
  let replicas: Record<string, number>;
  try {
    replicas = parseReplicas(values.replicas);
  } catch (e) {
    fail((e as Error).message);
  }
  if (!/^(gsm7|ucs2|long)=\d+(,(gsm7|ucs2|long)=\d+)*$/.test(values.mix.replace(/\s/g, '')))
    fail(`--mix: "${values.mix}" (expected e.g. gsm7=80,ucs2=10,long=10)`);
  const brokers = process.env.KAFKA_BROKERS;
  const sharedUrl = process.env.DATABASE_URL;
  if (!brokers || !sharedUrl) fail('KAFKA_BROKERS and DATABASE_URL must be set (npm run bench sets them)');

  const root = repoRoot();
  const commit = gitCommit(root);
  const mode = values.durable ? 'durable' : 'fast';
  log(
    `storage: ${mode}, commit ${commit}, load average ${loadAverage()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  // --durable: a PostgreSQL cluster of the bench's own, started by deploy/local/postgres.sh in its durable
  // mode under its own state directory (the shared cluster keeps its fast settings for the tests).
  const durableDir = path.join(root, '.local/bench-durable');
  const pgScript = path.join(root, 'deploy/local/postgres.sh');
  const durableEnv = {
    ...process.env,
    SMSHUB_LOCAL_DIR: durableDir,
    SMSHUB_PG_DURABLE: '1',
    DATABASE_URL: '',
  };
  const bundles = !values.sources;
  const startedAt = new Date().toISOString();
  const stamp = startedAt.replace(/[:.]/g, '-');
  const outDir = path.resolve(root, values['out-dir'] ?? 'bench/results');
  const workDir = path.join(os.tmpdir(), `smshub-bench-${stamp}`);
  const profileDir = path.join(workDir, 'profiles');
  mkdirSync(workDir, { recursive: true });
  const loadBefore = loadAverage();
  const notes: string[] = [];

  if (bundles) {
    const missing = ['services/ingress', 'tools/loadgen', 'tools/ops', 'tools/smsc-simulator'].filter(
      (d) => !existsSync(path.join(root, d, 'dist/main.js')),
    );
    if (missing.length)
      fail(`no bundle in ${missing.join(', ')}: run npm run build first, or pass --sources`);
  }
  let adminUrl = sharedUrl;
  if (values.durable) {
    const started = spawnSync('bash', [pgScript, 'start'], {
      env: durableEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = started.stdout?.trim().split('\n').pop();
    if (started.status !== 0 || !url)
      fail('--durable: deploy/local/postgres.sh could not start its own cluster');
    adminUrl = url;
  }
  const entry = (dir: string): string[] => entryArgs(root, dir, bundles);

  // Kafka's and PostgreSQL's processes (deploy/local keeps their pids).
  const infra: Watched[] = [];
  const kafkaPid = readPid(path.join(root, '.local/kafka/kafka.pid'));
  const pgPidFile = path.join(
    values.durable ? durableDir : root,
    values.durable ? 'postgres' : '.local/postgres',
    'postgres.pid',
  );
  const pgPid = readPid(pgPidFile);
  if (kafkaPid) infra.push({ name: 'kafka', pid: kafkaPid });
  else notes.push('Kafka broker pid not found (.local/kafka/kafka.pid): its CPU is not counted');
  // Its backends come and go with other users' connections: only this run's database counts (set below).
  if (pgPid) infra.push({ name: 'postgres', pid: pgPid, withChildren: true });
  else notes.push(`PostgreSQL pid not found (${path.relative(root, pgPidFile)}): its CPU is not counted`);

  const namespace = uniqueName('bench');
  const secretKey = randomBytes(32).toString('base64');
  const smppPassword = randomBytes(6).toString('base64url');
  const kafka = kafkaClient(brokers, 'smshub-bench');
  const admin = kafka.admin();
  await admin.connect();
  let db: TestDatabase | undefined;
  let hub: Hub | undefined;
  const extra: HubProcess[] = [];
  let monitor: LagMonitor | undefined;
  let loadgenChild: ChildProcess | undefined;
  let cleaned: Promise<void> | undefined;
  // Stops everything this run started and removes its topics and database (the logs stay in the work dir).
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      monitor?.stop();
      loadgenChild?.kill('SIGKILL');
      if (hub) await hub.stop().catch(() => undefined);
      await Promise.all(extra.map((p) => p.stop().catch(() => undefined)));
      const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) =>
        t.startsWith(`${namespace}.`),
      );
      if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      if (db) await db.drop().catch(() => undefined);
      if (values.durable) spawnSync('bash', [pgScript, 'stop'], { env: durableEnv, stdio: 'ignore' });
      if (!values.profile) rmSync(path.join(workDir, 'loadgen-max.json'), { force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: stopping the hub and removing the run's topics and database`);
      void cleanup().finally(() => process.exit(130));
    });
  try {
    db = await createTestDatabase(adminUrl);
    const storage = await storageInfo(mode, db.url, root);
    if (values.durable && storage.postgres.fsync !== 'on')
      throw new Error(`--durable, but the cluster reports fsync=${storage.postgres.fsync}`);
    for (const w of infra) if (w.name === 'postgres') w.onlyDatabase = db.name;
    log(`database ${db.name}, namespace ${namespace}, work dir ${workDir}`);

    // Seed first (ops setup + demo are insert-if-absent, startHub's own run keeps these rows), then lift the
    // demo account's and connectors' limits so that only the hub's own speed limits the benchmark.
    const simGood = await freePort();
    const simPoor = await freePort();
    seedDemo({
      root,
      brokers,
      databaseUrl: db.url,
      namespace,
      secretKey,
      smppPassword,
      simGoodPort: simGood,
      simPoorPort: simPoor,
      profile: 'bench',
      entry,
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await liftDemoLimits(client, { window });
    } finally {
      await client.end();
    }
    if (partitions > MESSAGE_FLOW_PARTITIONS) {
      const meta = await admin.fetchTopicMetadata({
        topics: (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`)),
      });
      const grow = meta.topics
        .filter((t) => t.partitions.length === MESSAGE_FLOW_PARTITIONS)
        .map((t) => ({ topic: t.name, count: partitions }));
      if (grow.length) await admin.createPartitions({ topicPartitions: grow });
    }

    // The hub.
    const commonEnv = {
      LOG_LEVEL: values['log-level'],
      DEMO_SMPP_PASSWORD: smppPassword,
      CONNECTOR_SECRET_KEY: secretKey,
    };
    const envFor: Record<string, Record<string, string>> = {};
    const services = readdirSync(path.join(root, 'services')).filter((s) =>
      existsSync(path.join(root, 'services', s, 'src/main.ts')),
    );
    if (values.profile) mkdirSync(profileDir, { recursive: true });
    const profilerPreload = path.join(root, 'tools/bench/src/cpu-profile.mjs');
    for (const s of services) {
      const env: Record<string, string> = {};
      const nodeOptions = [
        values['node-options'] ?? deploymentNodeOptions(s),
        values.profile && `--import=${profilerPreload}`,
      ].filter((o): o is string => typeof o === 'string' && o !== '');
      if (nodeOptions.length) env.NODE_OPTIONS = nodeOptions.join(' ');
      if (values.profile) env.BENCH_CPU_PROF_DIR = path.join(profileDir, s);
      envFor[s] = env;
    }
    // webhooks (not known to startHub): its own sealing key and a free gRPC port (its default may be taken).
    if (envFor.webhooks) {
      envFor.webhooks.WEBHOOK_SECRET_KEY = randomBytes(32).toString('base64');
      envFor.webhooks.GRPC_PORT = String(await freePort());
    }
    log(
      `starting the hub (${bundles ? 'bundles' : 'sources'}: ${services.join(', ')} and the SMSC simulator)`,
    );
    hub = await startHub({
      kafkaBrokers: brokers,
      databaseUrl: db.url,
      namespace,
      demoProfile: 'bench',
      bundles,
      workDir: path.join(workDir, 'hub'),
      env: commonEnv,
      envFor,
    });
    // Extra replicas: the same program and environment, their own HTTP/gRPC ports and replica id.
    for (const [service, n] of Object.entries(replicas)) {
      if (!services.includes(service)) throw new Error(`--replicas: no service named ${service}`);
      for (let i = 2; i <= n; i++) {
        const name = `${service}#${i}`;
        const http = await freePort();
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          KAFKA_BROKERS: brokers,
          DATABASE_URL: db.url,
          KAFKA_NAMESPACE: namespace,
          ADMIN_TOKEN: hub.secrets.adminToken,
          ...commonEnv,
          ...envFor[service],
          ...(values.profile && {
            BENCH_CPU_PROF_DIR: path.join(profileDir, name.replace('#', '-')),
          }),
          HTTP_PORT: String(http),
          GRPC_PORT: String(await freePort()),
          ...(SERVICE_REPLICA_ID[service] && { [SERVICE_REPLICA_ID[service]]: `${service}-${i}` }),
        };
        delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
        const p = new HubProcess(
          name,
          entry(`services/${service}`),
          env,
          http,
          path.join(workDir, 'hub', `${name}.log`),
        );
        p.start();
        extra.push(p);
      }
    }
    await Promise.all(extra.map((p) => p.waitReady()));
    const hubProcs = (): Array<{ name: string; pid: number; role: ProcessFigures['role'] }> =>
      [...hub!.processes.values(), ...extra]
        .filter((p) => p.pid !== undefined)
        .map((p) => ({
          name: p.name,
          pid: p.pid as number,
          role: p.name === 'smsc-simulator' ? ('outside' as const) : ('hub' as const),
        }));
    log(`hub ready: ingress on ${hub.ports.smpp}, ${hubProcs().length} processes`);
    if (batchNice > 0) {
      // Raising a child's nice value needs no privilege; Kafka, PostgreSQL and the simulator keep theirs.
      for (const p of hubProcs())
        if (p.role === 'hub' && !p.name.startsWith('ingress')) os.setPriority(p.pid, batchNice);
      log(`every hub process but ingress at nice ${batchNice}`);
    }

    const ratedTopic = `${namespace}.billing.rated.v1`;
    monitor = new LagMonitor(admin, namespace, ratedTopic);

    // One loadgen run as its own process; progress lines give the counters' time series.
    const runLoadgen = async (
      phase: PhaseResult['name'],
      opts: { rate: number; durationS?: number; count?: number },
    ): Promise<{ result: LoadgenResult; accepted: Point[]; receipts: Point[]; t0: number; cpuS: number }> => {
      const out = path.join(workDir, `loadgen-${phase}.json`);
      const args = [
        ...entry('tools/loadgen'),
        '--port',
        String(hub!.ports.smpp),
        '--system-id',
        hub!.secrets.demoSystemId,
        '--binds',
        String(binds),
        '--window',
        String(window),
        '--rate',
        String(opts.rate),
        '--mix',
        values.mix,
        '--registered-delivery',
        '1',
        '--receipt-wait',
        String(receiptWaitS),
        '--out',
        out,
        ...(opts.count !== undefined
          ? ['--count', String(opts.count)]
          : ['--duration', String(opts.durationS)]),
      ];
      const t0 = performance.now();
      const child = (loadgenChild = spawn(process.execPath, args, {
        cwd: root,
        env: { ...process.env, LOADGEN_PASSWORD: smppPassword },
        stdio: ['ignore', 'pipe', 'pipe'],
      }));
      const accepted: Point[] = [{ t: 0, v: 0 }];
      const receipts: Point[] = [{ t: 0, v: 0 }];
      let stdout = '';
      let pending = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        const t = (performance.now() - t0) / 1000;
        pending += d.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const p = parseProgressLine(line);
          if (p) {
            accepted.push({ t, v: p.accepted });
            receipts.push({ t, v: p.receipts });
          } else if (line.trim()) log(`loadgen: ${line}`);
        }
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (!existsSync(out)) throw new Error(`loadgen exited ${code} without a result:\n${stdout}`);
      const result = JSON.parse(readFileSync(out, 'utf8')) as LoadgenResult;
      process.stderr.write(stdout);
      return { result, accepted, receipts, t0, cpuS: result.cpuMs / 1000 };
    };

    const phases: PhaseResult[] = [];

    // Phase 1: full speed (or --rate), measured for CPU.
    const watched = (): Watched[] => [...hubProcs().map((p) => ({ name: p.name, pid: p.pid })), ...infra];
    // Profiles cover the load, not the start-up: the preload restarts its profiler on SIGUSR2.
    if (values.profile) for (const p of hubProcs()) if (p.role === 'hub') process.kill(p.pid, 'SIGUSR2');
    const cpu0 = new Map(watched().map((w) => [w.name, cpuSeconds(w) ?? 0]));
    const pgTree = infra.find((w) => w.name === 'postgres');
    const pgNames = new Map<number, string>();
    const pg0 = pgTree ? childCpu(pgTree) : [];
    await backendNames(db.url, pgNames);
    const tLoad = performance.now();
    monitor.start(tLoad, quick ? 1000 : 2000);
    log(
      `phase max: ${binds} binds × window ${window}, ${rate > 0 ? `${rate} msg/s` : 'as fast as possible'}, ${count !== undefined ? `${count} messages` : `${durationS} s`}`,
    );
    const maxRun = await runLoadgen('max', { rate, ...(count !== undefined ? { count } : { durationS }) });
    // Wait until every accepted message is rated (or the hub stalls for 60 s).
    const expectRated = maxRun.result.accepted;
    let rated = await monitor.rated();
    let lastChange = performance.now();
    // At most --drain seconds after loadgen ends (it already waited up to --receipt-wait for receipts).
    const drainUntil = performance.now() + drainS * 1000;
    while (rated < expectRated && performance.now() - lastChange < 30_000 && performance.now() < drainUntil) {
      await sleep(500);
      const now = await monitor.rated();
      if (now > rated) lastChange = performance.now();
      rated = now;
    }
    const ratedDoneS = (performance.now() - tLoad) / 1000;
    if (rated < expectRated)
      notes.push(
        `full-speed phase: only ${rated} of ${expectRated} messages rated ${Math.round(ratedDoneS)} s after the start (drain limit reached); CPU per message is over the messages accepted, so it is understated by the unfinished work`,
      );
    const cpuWindowS = ratedDoneS;
    const cpu1 = new Map(watched().map((w) => [w.name, cpuSeconds(w) ?? 0]));
    const pg1 = pgTree ? childCpu(pgTree) : [];
    await backendNames(db.url, pgNames);
    await monitor.sample();
    const ratedSeries: Point[] = [{ t: 0, v: 0 }, ...monitor.samples.map((s) => ({ t: s.t, v: s.rated }))];
    const submitS = maxRun.result.submitPhaseMs / 1000;
    const winFrom = Math.min(warmupS, submitS / 3);
    const winTo = Math.max(winFrom + 1, submitS);
    phases.push({
      name: 'max',
      targetRate: rate,
      durationS: Math.round(submitS * 10) / 10,
      load: maxRun.result,
      rated,
      ratedDoneS: Math.round(ratedDoneS * 10) / 10,
      window: {
        fromS: Math.round(winFrom),
        toS: Math.round(winTo),
        accepted: Math.round(rateBetween(maxRun.accepted, winFrom, winTo)),
        receipts: Math.round(rateBetween(maxRun.receipts, winFrom, winTo)),
        rated: Math.round(rateBetween(ratedSeries, winFrom, winTo)),
      },
    });
    const messages = Math.max(1, maxRun.result.accepted);
    const per = (s: number): number => Math.round((s * 1e6) / messages);
    const processes: ProcessFigures[] = [];
    for (const w of watched()) {
      const s = (cpu1.get(w.name) ?? 0) - (cpu0.get(w.name) ?? 0);
      const role = infra.includes(w) ? 'infra' : (hubProcs().find((p) => p.name === w.name)?.role ?? 'hub');
      const rss = peakRssMb(w);
      processes.push({
        name: w.name,
        role,
        cpuSeconds: Math.round(s * 100) / 100,
        cpuMicrosPerMessage: per(s),
        ...(rss !== undefined && { peakRssMb: rss }),
      });
    }
    processes.push({
      name: 'loadgen',
      role: 'outside',
      cpuSeconds: Math.round(maxRun.cpuS * 100) / 100,
      cpuMicrosPerMessage: per(maxRun.cpuS),
    });
    const sum = (roles: Array<ProcessFigures['role']>): number =>
      processes.filter((p) => roles.includes(p.role)).reduce((a, p) => a + p.cpuSeconds, 0);
    const cpuFigures: BenchResult['cpu'] = {
      windowS: Math.round(cpuWindowS * 10) / 10,
      messages: maxRun.result.accepted,
      processes,
      hubMicrosPerMessage: per(sum(['hub'])),
      allMicrosPerMessage: per(sum(['hub', 'infra'])),
      ...(pgTree && {
        postgresByClient: splitByClient(
          pg0,
          pg1,
          pgNames,
          (cpu1.get(pgTree.name) ?? 0) - (cpu0.get(pgTree.name) ?? 0),
        ).map((c) => ({ ...c, cpuMicrosPerMessage: per(c.cpuSeconds) })),
      }),
    };
    log(
      `phase max: ${maxRun.result.acceptedPerSecond} accepted/s, ${maxRun.result.receiptsPerSecond} receipts/s, ${rated}/${expectRated} rated, ` +
        `${cpuFigures.allMicrosPerMessage} CPU-µs/msg (hub ${cpuFigures.hubMicrosPerMessage})`,
    );

    // Phase 2: half the rate reached, for latency.
    if (halfS > 0 && maxRun.result.acceptedPerSecond > 1) {
      // acceptedPerSecond counts submit_sm; loadgen's --rate counts messages (a long one sends several).
      const perMessage = maxRun.result.submitted / Math.max(1, maxRun.result.messages);
      const halfRate = Math.max(1, Math.round(maxRun.result.acceptedPerSecond / perMessage / 2));
      log(`phase half: ${halfRate} msg/s for ${halfS} s`);
      if (rated < expectRated)
        notes.push(
          `the half-rate phase started with ${expectRated - rated} messages of the full-speed phase not yet rated (the hub had not drained): its latencies are pessimistic`,
        );
      const ratedBefore = rated;
      const halfRun = await runLoadgen('half', { rate: halfRate, durationS: halfS });
      const t0s = (halfRun.t0 - tLoad) / 1000;
      let r2 = await monitor.rated();
      const deadline = performance.now() + drainS * 1000;
      while (r2 < ratedBefore + halfRun.result.accepted && performance.now() < deadline) {
        await sleep(500);
        r2 = await monitor.rated();
      }
      await monitor.sample();
      const series = monitor.samples.map((s) => ({ t: s.t - t0s, v: s.rated - ratedBefore }));
      const hs = halfRun.result.submitPhaseMs / 1000;
      const from = Math.min(2, hs / 4);
      phases.push({
        name: 'half',
        targetRate: halfRate,
        durationS: Math.round(hs * 10) / 10,
        load: halfRun.result,
        rated: r2 - ratedBefore,
        window: {
          fromS: Math.round(from),
          toS: Math.round(hs),
          accepted: Math.round(rateBetween(halfRun.accepted, from, hs)),
          receipts: Math.round(rateBetween(halfRun.receipts, from, hs)),
          rated: Math.round(rateBetween(series, from, hs)),
        },
      });
    }
    monitor.stop();

    // Raw Kafka baseline: as many records as the hub took messages, of the size of sms.submitted.v1's.
    let baseline: BenchResult['kafkaBaseline'];
    if (!values['no-baseline']) {
      const size = await sampleRecordSize(kafka, `${namespace}.sms.submitted.v1`, `${namespace}.bench-sizer`);
      const records = Math.max(1000, Math.min(maxRun.result.accepted, 2_000_000));
      log(`Kafka baseline: ${records} records of ${size} bytes`);
      baseline = await kafkaBaseline({
        root,
        admin,
        brokers,
        topic: `${namespace}.baseline`,
        records,
        recordSize: size,
        partitions,
        ...(infra[0]?.name === 'kafka' && { broker: infra[0] }),
      });
      if (baseline.error) log(`Kafka baseline: ${baseline.error}`);
    }

    // Stop the hub (SIGTERM: profiles are written at exit), then read the profiles.
    const crashes = hub.crashes();
    if (crashes.length)
      notes.push(`processes that exited on their own during the run: ${crashes.join(', ')}`);
    await Promise.all([hub.stop(), ...extra.map((p) => p.stop())]);
    hub = undefined;
    let profiles: Record<string, ProfileSummary> | undefined;
    if (values.profile && existsSync(profileDir)) {
      profiles = {};
      const resolve = sourceMapResolver();
      for (const dir of readdirSync(profileDir).sort()) {
        const files = readdirSync(path.join(profileDir, dir)).filter((f) => f.endsWith('.cpuprofile'));
        for (const f of files) {
          const prof = JSON.parse(readFileSync(path.join(profileDir, dir, f), 'utf8')) as CpuProfile;
          profiles[files.length > 1 ? `${dir} (${f})` : dir] = summariseProfile(prof, 12, resolve);
        }
      }
      notes.push(`CPU profiles (open in Chrome DevTools or speedscope): ${profileDir}`);
    }

    const maxLag: Record<string, number> = {};
    for (const s of monitor.samples)
      for (const [g, v] of Object.entries(s.lag)) maxLag[g] = Math.max(maxLag[g] ?? 0, v);
    const redacted = process.argv.slice(2).join(' ');
    const result: BenchResult = {
      startedAt,
      ...(values.label && { label: values.label }),
      command: `npm run bench${redacted ? ` -- ${redacted}` : ''}`,
      commit,
      storage,
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        kernel: os.release(),
      },
      loadAverage: { before: loadBefore, after: loadAverage() },
      settings: {
        binds,
        window,
        rate,
        ...(durationS !== undefined && { durationS }),
        ...(count !== undefined && { count }),
        warmupS,
        mix: values.mix,
        partitions,
        replicas,
        bundles,
        logLevel: values['log-level'],
        nodeOptions: values['node-options'] ?? '--max-old-space-size=192 (ingress, http-api 288)',
        ...(batchNice > 0 && { batchNice }),
      },
      phases,
      cpu: cpuFigures,
      lag: thin(monitor.samples, 40),
      maxLag,
      ...(baseline && { kafkaBaseline: baseline }),
      ...(profiles && { profiles }),
      targets: [],
      notes,
    };
    result.targets = evaluateTargets(result);
    notes.push(`hub logs: ${path.join(workDir, 'hub')}`);
    mkdirSync(outDir, { recursive: true });
    const md = formatReport(result);
    writeFileSync(path.join(outDir, `${stamp}.json`), JSON.stringify(result, null, 1));
    writeFileSync(path.join(outDir, `${stamp}.md`), md);
    console.log(md);
    log(`written to ${path.relative(root, path.join(outDir, stamp))}.{json,md}`);
  } finally {
    await cleanup();
  }
}

/**
 * Adds the `application_name` of every backend of the cluster to `names` (pid → name); a failed query leaves the
 * split to the processes' titles.
 */
async function backendNames(url: string, names: Map<number, string>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const r = await client.query<{ pid: number; application_name: string }>(
      "SELECT pid, application_name FROM pg_stat_activity WHERE application_name <> ''",
    );
    for (const row of r.rows) names.set(row.pid, row.application_name);
  } catch {
    // best effort: the figures are a breakdown, not the measurement
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The storage settings the run actually has: asked of its PostgreSQL, read from the broker's config. */
async function storageInfo(mode: StorageInfo['mode'], url: string, root: string): Promise<StorageInfo> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const postgres: Record<string, string> = {};
  try {
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method']) {
      const r = await client.query<Record<string, string>>(`SHOW ${name}`);
      postgres[name] = String(r.rows[0]?.[name] ?? '?');
    }
  } finally {
    await client.end();
  }
  const props = path.join(root, '.local/kafka/server.properties');
  const kafkaFlush = existsSync(props) ? kafkaFlushSettings(readFileSync(props, 'utf8')) : {};
  return { mode, postgres, kafkaFlush };
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
