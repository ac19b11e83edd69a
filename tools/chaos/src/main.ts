// npm run chaos: the whole hub on its own Kafka broker (or a 3-broker cluster, --brokers 3), one or two
// processes per service (--replicas 2), steady SMPP load, then faults in turn (kill -9 of each service's
// first replica, of the leader broker of a busy partition, a broker paused past its session timeout, a
// rolling restart of every stage), and a verdict per fault from the client's records, the simulator's
// counters and the topics, with the customer's and the supplier's TPS against their limits.
// See tools/chaos/README.md.
// --scheduled: its own optional phase (src/scheduled.ts): the scheduler killed while held messages fall due.
if (process.argv.includes('--scheduled')) {
  await import('./scheduled.js');
}
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { ChangeAction, ConfigChange, ResourceKind, namespacedTopics, topics } from '@smshub/contracts';
import {
  HubProcess,
  createTestDatabase,
  freePort,
  repoRoot,
  startHub,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { OwnBroker } from './broker.js';
import { ChaosClient } from './client.js';
import { readPublished, simCounters, traceMessage } from './evidence.js';
import { verdictTable, verify, type Phase } from './verify.js';

const ALL_FAULTS = [
  'ingress',
  'routing',
  'egress',
  'dlr',
  'rating',
  'admin',
  'smsc-simulator',
  'kafka',
  'kafka-pause',
  'rolling',
] as const;
/** One broker, one process per stage: as before. */
const SINGLE_FAULTS = ['ingress', 'routing', 'egress', 'dlr', 'rating', 'smsc-simulator', 'kafka'];
/** A cluster or replicas: the leader broker, one replica of each service, a rolling restart, a paused broker. */
const SCALED_FAULTS = [
  'kafka',
  'ingress',
  'routing',
  'egress',
  'dlr',
  'rating',
  'admin',
  'smsc-simulator',
  'rolling',
  'kafka-pause',
];
/** Order of a rolling restart: along the flow. */
const STAGES = ['ingress', 'routing', 'egress', 'dlr', 'rating', 'admin'];
const REPLICA_ID_VAR: Record<string, string> = {
  ingress: 'INGRESS_REPLICA_ID',
  routing: 'ROUTING_REPLICA_ID',
  egress: 'EGRESS_REPLICA_ID',
  dlr: 'DLR_REPLICA_ID',
  rating: 'RATING_REPLICA_ID',
};

const USAGE = `usage: npm run chaos -- [options]
  --rate N        submit_sm per second, steady, over all binds (default 300)
  --binds N       SMPP transceiver binds (default 2)
  --window N      window per bind (default 10)
  --brokers N     Kafka brokers: 1, or a KRaft cluster of 2..9 (3: RF 3, min ISR 2) (default 1)
  --replicas N    processes per service (the simulator stays one) (default 1)
  --services LIST services to run (default ${STAGES.join(',')}: the SMPP flow and admin;
                  e.g. add http-api,webhooks)
  --faults LIST   comma-separated, in order; known: ${ALL_FAULTS.join(',')}
                  (default ${SINGLE_FAULTS.join(',')};
                   with --brokers or --replicas above 1: ${SCALED_FAULTS.join(',')})
                  <service>: kill -9 of its first replica, restart; kafka: kill -9 of the leader broker
                  of ${'<ns>'}.sms.submitted.v1[0], restart; kafka-pause: SIGSTOP of that leader for --stall s,
                  SIGCONT; rolling: SIGTERM one process at a time along the flow, each ready before the next
  --stall S       seconds a broker stays paused in kafka-pause (default 20; the brokers' session timeout is 6)
  --customer-tps N  set the demo account's tps_limit before the load (default: as ops demo made it)
  --supplier-tps N  set every demo connector's max_submit_rate before the load (default: as ops demo made it)
  --rate-window S   window of the peak TPS figures (default 10); a peak above limit + 10 % fails the phase
  --warmup S      seconds of load before the first kill (default 10)
  --pause S       seconds between a kill and the restart (default 3)
  --settle S      seconds of load after a restart is ready, before the next kill (default 10)
  --drain S       at most this long to wait for the last receipts and rated records (default 120)
  --bundles       run the esbuild bundles (npm run build) instead of the TypeScript sources
Needs DATABASE_URL (a Postgres the run may create a database in); without it, deploy/local/postgres.sh
start is used. Kafka is always a broker of its own (deploy/local/kafka.sh under the run's folder).`;

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function num(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}, got "${v}"`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        rate: { type: 'string' },
        binds: { type: 'string' },
        window: { type: 'string' },
        faults: { type: 'string' },
        brokers: { type: 'string' },
        replicas: { type: 'string' },
        services: { type: 'string' },
        stall: { type: 'string' },
        'customer-tps': { type: 'string' },
        'supplier-tps': { type: 'string' },
        'rate-window': { type: 'string' },
        warmup: { type: 'string' },
        pause: { type: 'string' },
        settle: { type: 'string' },
        drain: { type: 'string' },
        bundles: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const brokersN = num(values.brokers, 'brokers', 1, 1);
const replicasN = num(values.replicas, 'replicas', 1, 1);
if (!Number.isInteger(brokersN) || brokersN > 9) fail('--brokers must be a whole number from 1 to 9');
if (!Number.isInteger(replicasN) || replicasN > 4) fail('--replicas must be a whole number from 1 to 4');
const scaled = brokersN > 1 || replicasN > 1;
const optTps = (v: string | undefined, name: string): number | null =>
  v === undefined ? null : Math.round(num(v, name, 0, 1));
const opts = {
  brokers: brokersN,
  replicas: replicasN,
  stallS: num(values.stall, 'stall', 20, 1),
  customerTps: optTps(values['customer-tps'], 'customer-tps'),
  supplierTps: optTps(values['supplier-tps'], 'supplier-tps'),
  rateWindowS: num(values['rate-window'], 'rate-window', 10, 1),
  services: (values.services ?? STAGES.join(','))
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
  rate: num(values.rate, 'rate', 300, 1),
  binds: num(values.binds, 'binds', 2, 1),
  window: num(values.window, 'window', 10, 1),
  warmupS: num(values.warmup, 'warmup', 10, 0),
  pauseS: num(values.pause, 'pause', 3, 0),
  settleS: num(values.settle, 'settle', 10, 0),
  drainS: num(values.drain, 'drain', 120, 1),
  bundles: values.bundles === true,
  faults: (values.faults ?? (scaled ? SCALED_FAULTS : SINGLE_FAULTS).join(','))
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean),
};
for (const f of opts.faults)
  if (!(ALL_FAULTS as readonly string[]).includes(f))
    fail(`unknown fault "${f}" (known: ${ALL_FAULTS.join(', ')})`);

const t0 = Date.now();
const say = (msg: string): void => {
  process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
};
const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, s * 1000));

function adminDatabaseUrl(root: string): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  say('DATABASE_URL not set: deploy/local/postgres.sh start');
  const r = spawnSync('bash', [path.join(root, 'deploy/local/postgres.sh'), 'start'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  const url = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !url)
    throw new Error(`deploy/local/postgres.sh start failed: ${r.stderr.slice(-2000)}`);
  return url;
}

/** Gives the demo account enough prepaid credit for the run (the demo's EUR 100 lasts 2 500 messages). */
async function topUp(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `SELECT applied FROM rating_top_up(gen_random_uuid(), (SELECT id::text FROM accounts WHERE system_id = 'demo'),
         100000000::bigint, 'EUR', 'chaos-credit', 'chaos run credit', 'tools/chaos')`,
    );
  } finally {
    await client.end();
  }
}

/**
 * Sets the demo account's tps_limit and the demo connectors' max_submit_rate when asked, tells the
 * services (a RELOAD on config.changes.v1, as admin would), and returns the limits in force.
 */
async function applyLimits(
  databaseUrl: string,
  brokers: string,
  namespace: string,
): Promise<{ customerTps: number; supplierTps: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    if (opts.customerTps !== null)
      await client.query(
        `UPDATE accounts SET tps_limit = $1, revision = revision + 1 WHERE system_id = 'demo'`,
        [opts.customerTps],
      );
    if (opts.supplierTps !== null)
      // A new revision, as admin writes it: egress applies a connector only when its revision changed.
      await client.query('UPDATE egress_connectors SET max_submit_rate = $1, revision = revision + 1', [
        opts.supplierTps,
      ]);
    if (opts.customerTps !== null || opts.supplierTps !== null) {
      const t = namespacedTopics(topics, namespace);
      const kafka = new Kafka({
        clientId: 'chaos-limits',
        brokers: brokers.split(','),
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      await producer.connect();
      try {
        const change = (kind: ResourceKind): ConfigChange => ({
          changeId: randomUUID(),
          kind,
          resourceId: '*',
          action: ChangeAction.CHANGE_ACTION_RELOAD,
          revision: 0n,
          changedAt: new Date(),
          actor: 'tools/chaos',
          snapshot: undefined,
        });
        const values = [
          change(ResourceKind.RESOURCE_KIND_ACCOUNT),
          change(ResourceKind.RESOURCE_KIND_CONNECTOR),
        ];
        await producer.send({
          topic: t.configChanges.name,
          messages: values.map((v) => ({
            key: t.configChanges.key(v),
            value: Buffer.from(t.configChanges.encode(v)),
          })),
        });
      } finally {
        await producer.disconnect();
      }
    }
    const a = await client.query<{ tps: number }>(
      `SELECT tps_limit AS tps FROM accounts WHERE system_id = 'demo'`,
    );
    const c = await client.query<{ tps: number }>(
      'SELECT max(max_submit_rate) AS tps FROM egress_connectors',
    );
    return { customerTps: Number(a.rows[0]?.tps), supplierTps: Number(c.rows[0]?.tps) };
  } finally {
    await client.end();
  }
}

/** Waits until `file` holds `text` at least `count` times (a log line a reload writes). */
async function waitForLog(file: string, text: string, count: number, timeoutS: number): Promise<boolean> {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    try {
      if (readFileSync(file, 'utf8').split(text).length - 1 >= count) return true;
    } catch {
      // not written yet
    }
    await sleep(0.25);
  }
  return false;
}

async function allReady(procs: readonly HubProcess[], timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const states = await Promise.all(
      procs.map(async (p) => {
        try {
          const res = await fetch(`http://127.0.0.1:${p.httpPort}/readyz`, {
            signal: AbortSignal.timeout(1000),
          });
          return res.status === 200;
        } catch {
          return false;
        }
      }),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) {
      const notReady = procs.filter((_, i) => !states[i]).map((p) => p.name);
      throw new Error(`not ready ${timeoutS} s after the broker fault: ${notReady.join(', ')}`);
    }
    await sleep(0.25);
  }
}

async function main(): Promise<number> {
  const root = repoRoot();
  const loadAtStart = os.loadavg().map((l) => l.toFixed(1));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const workDir = path.join(os.tmpdir(), `smshub-chaos-${stamp}`);
  mkdirSync(workDir, { recursive: true });
  const broker = new OwnBroker(root, path.join(workDir, 'local'), opts.brokers);
  let db: TestDatabase | undefined;
  let hub: Hub | undefined;
  let client: ChaosClient | undefined;
  let supervisor: NodeJS.Timeout | undefined;
  const extra: HubProcess[] = [];
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (supervisor) clearInterval(supervisor);
    await client?.close().catch(() => undefined);
    await Promise.all(extra.map((p) => p.stop().catch(() => undefined)));
    await hub?.stop().catch(() => undefined);
    broker.stop();
    await db?.drop().catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    say(`${sig}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say(`logs and broker data in ${workDir}; load average ${loadAtStart.join(' ')}`);
    const adminUrl = adminDatabaseUrl(root);
    const brokers = broker.start();
    say(`own Kafka ${opts.brokers > 1 ? `cluster of ${opts.brokers} brokers` : 'broker'} at ${brokers}`);
    db = await createTestDatabase(adminUrl);
    say(`database ${db.name}; starting the hub (bench profile: the simulator delivers everything at once)`);
    hub = await startHub({
      kafkaBrokers: brokers,
      databaseUrl: db.url,
      demoProfile: 'bench',
      services: opts.services,
      workDir,
      bundles: opts.bundles,
      readyTimeoutMs: 180_000,
    });
    const h = hub;
    await topUp(db.url);
    // Further replicas of every service: the same program and environment, their own ports and replica id.
    const services = [...h.processes.keys()].filter((n) => n !== 'smsc-simulator');
    const smppPorts = [h.ports.smpp];
    for (const service of services)
      for (let i = 2; i <= opts.replicas; i++) {
        const name = `${service}#${i}`;
        const http = await freePort();
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          KAFKA_BROKERS: brokers,
          DATABASE_URL: db.url,
          KAFKA_NAMESPACE: h.namespace,
          LOG_LEVEL: 'info',
          CONNECTOR_SECRET_KEY: h.secrets.connectorSecretKey,
          ADMIN_TOKEN: h.secrets.adminToken,
          DEMO_SMPP_PASSWORD: h.secrets.demoPassword,
          HTTP_PORT: String(http),
          GRPC_PORT: String(await freePort()),
          ...(REPLICA_ID_VAR[service] ? { [REPLICA_ID_VAR[service]]: `${service}-${i}` } : {}),
        };
        delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
        if (service === 'ingress') {
          const smpp = await freePort();
          env.SMPP_PORT = String(smpp);
          env.SMPP_TLS_PORT = String(await freePort());
          smppPorts.push(smpp);
        }
        const entry = opts.bundles
          ? ['--enable-source-maps', path.join(root, `services/${service}/dist/main.js`)]
          : [
              '--conditions=@smshub/source',
              '--import',
              'tsx',
              path.join(root, `services/${service}/src/main.ts`),
            ];
        const p = new HubProcess(name, entry, env, http, path.join(workDir, `${name.replace('#', '-')}.log`));
        p.start();
        extra.push(p);
      }
    await Promise.all(extra.map((p) => p.waitReady(300_000)));
    const procs = [...h.processes.values(), ...extra];
    const byName = new Map(procs.map((p) => [p.name, p]));
    const replicasOf = (service: string): HubProcess[] =>
      procs.filter((p) => p.name === service || p.name.startsWith(`${service}#`));
    const limits = await applyLimits(db.url, brokers, h.namespace);
    if (opts.customerTps !== null)
      for (const p of replicasOf('ingress'))
        if (!(await waitForLog(p.logFile, 'accounts reloaded', 1, 60)))
          say(`${p.name}: no "accounts reloaded" within 60 s of the limit change`);
    say(
      `hub ready (namespace ${h.namespace}, ${procs.length} processes, SMPP ports ${smppPorts.join(',')}); ` +
        `limits: customer ${limits.customerTps}/s, supplier connector ${limits.supplierTps}/s`,
    );

    // A crashed process is restarted, as an orchestrator would; the crash is reported.
    const down = new Set<string>();
    const restarting = new Set<string>();
    const restartedAfterCrash: string[] = [];
    supervisor = setInterval(() => {
      for (const p of procs) {
        if (p.running || down.has(p.name) || restarting.has(p.name)) continue;
        restarting.add(p.name);
        restartedAfterCrash.push(`${p.name} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        say(`${p.name} exited by itself (${p.unexpectedExits.at(-1) ?? '?'}): restarting it`);
        p.start();
        void p
          .waitReady(180_000)
          .catch((err: Error) => say(err.message))
          .finally(() => restarting.delete(p.name));
      }
    }, 1000);

    const simPort = h.ports.http['smsc-simulator'] as number;
    const runTag = stamp.slice(11, 19);
    client = new ChaosClient({
      host: '127.0.0.1',
      ports: smppPorts,
      systemId: h.secrets.demoSystemId,
      password: h.secrets.demoPassword,
      binds: opts.binds,
      window: opts.window,
      rate: opts.rate,
      destinationPrefix: '44740012',
      runTag,
    });
    const c = client;
    let loadEndAt = 0;
    const phases: Phase[] = [{ fault: 'warm-up', startAt: Date.now(), downtimeMs: null, simDuplicates: 0 }];
    await c.start();
    say(`load: ${opts.rate} submit_sm/s over ${opts.binds} binds, window ${opts.window}`);
    const progress = setInterval(() => {
      const k = c.counters;
      say(
        `submitted ${k.submitted}, accepted ${k.accepted}, refused ${k.refused} ${JSON.stringify(k.errors)}, final receipts ${k.finalReceipts}, rebinds ${k.rebinds}`,
      );
    }, 10_000);

    // The simulator's duplicate counter, per phase (it restarts from 0 when the simulator is killed).
    let simBase = 0;
    // The simulator's accepted submit_sm, sampled every second: the supplier's rate as the wire saw it.
    const simAcceptTimes: number[] = [];
    let simLast = 0;
    const simSampler = setInterval(() => {
      simCounters(simPort).then(
        (k) => {
          const at = Date.now();
          // A restarted simulator counts from 0 again.
          const delta = k.accepted >= simLast ? k.accepted - simLast : k.accepted;
          simLast = k.accepted;
          for (let i = 0; i < delta; i++) simAcceptTimes.push(at);
        },
        () => undefined, // down (its own fault): the next sample counts what it missed
      );
    }, 1000);
    const closeSimWindow = async (phase: Phase, restartsFromZero: boolean): Promise<void> => {
      const now = (await simCounters(simPort)).duplicates;
      phase.simDuplicates += now - simBase;
      simBase = restartsFromZero ? 0 : now;
    };

    try {
      await sleep(opts.warmupS);
      for (const fault of opts.faults) {
        const prev = phases[phases.length - 1] as Phase;
        await closeSimWindow(prev, fault === 'smsc-simulator');
        const phase: Phase = { fault, startAt: Date.now(), downtimeMs: null, simDuplicates: 0 };
        phases.push(phase);
        const busy = `${h.namespace}.${topics.submitted.name}`;
        if (fault === 'kafka') {
          const node = await broker.leaderOf(busy, 0);
          say(`kill -9 kafka broker ${node} (leader of ${busy}[0])`);
          await broker.kill(node);
          await sleep(opts.pauseS);
          broker.restart(node);
          say(`broker ${node} answers again; waiting for every process to be ready`);
          await allReady(procs, 180);
        } else if (fault === 'kafka-pause') {
          const node = await broker.leaderOf(busy, 0);
          say(`SIGSTOP kafka broker ${node} (leader of ${busy}[0]) for ${opts.stallS} s`);
          broker.signal(node, 'SIGSTOP');
          try {
            await sleep(opts.stallS);
          } finally {
            broker.signal(node, 'SIGCONT');
          }
          say(`SIGCONT kafka broker ${node}; waiting for every process to be ready`);
          await allReady(procs, 180);
        } else if (fault === 'rolling') {
          // As Kubernetes does: SIGTERM one process, a new one in its place, ready before the next.
          for (const stage of [...STAGES, ...opts.services.filter((x) => !STAGES.includes(x))])
            for (const p of replicasOf(stage)) {
              down.add(p.name);
              say(`rolling: SIGTERM ${p.name} (pid ${p.pid})`);
              await p.stop('SIGTERM', 30_000);
              p.start();
              down.delete(p.name);
              await p.waitReady(180_000);
            }
        } else {
          const p = byName.get(fault);
          if (!p) throw new Error(`no process ${fault} in this hub`);
          down.add(fault);
          say(`kill -9 ${fault} (pid ${p.pid})`);
          await p.kill();
          await sleep(opts.pauseS);
          p.start();
          down.delete(fault);
          await p.waitReady(180_000);
        }
        phase.downtimeMs = Date.now() - phase.startAt;
        say(`${fault} back after ${(phase.downtimeMs / 1000).toFixed(1)} s`);
        await sleep(opts.settleS);
      }
      say('stopping the load');
      loadEndAt = Date.now();
      await c.stopSubmitting();
      clearInterval(simSampler);
      await closeSimWindow(phases[phases.length - 1] as Phase, false);
    } finally {
      clearInterval(progress);
    }

    const drainUntil = Date.now() + opts.drainS * 1000;
    while (c.awaitingReceipts() > 0 && Date.now() < drainUntil) await sleep(1);
    say(`${c.awaitingReceipts()} accepted messages still without a final receipt`);

    // Rated records trail the receipts a little: read until every accepted message is rated, or time runs out.
    const accepted = c.records.filter((r) => r.status === 0 && r.hubId).map((r) => r.hubId as string);
    let published = await readPublished(brokers, h.namespace, runTag);
    while (accepted.some((id) => !published.rated.has(id)) && Date.now() < drainUntil) {
      await sleep(3);
      published = await readPublished(brokers, h.namespace, runTag);
    }
    // A last look at the simulator, for duplicates sent while draining.
    await closeSimWindow(phases[phases.length - 1] as Phase, false);
    const sim = await simCounters(simPort);

    clearInterval(simSampler);
    const verdict = verify(
      c.records,
      phases,
      { ...published, simAcceptTimes },
      {
        customerTps: limits.customerTps,
        supplierTps: limits.supplierTps,
        windowMs: opts.rateWindowS * 1000,
        endAt: loadEndAt,
      },
    );
    const load = os.loadavg().map((l) => l.toFixed(1));
    const table = verdictTable(verdict);
    const crashes = h.crashes();
    const notes = [
      `${opts.brokers} broker(s), ${opts.replicas} process(es) per service; load average now ${load.join(' ')} (at the start ${loadAtStart.join(' ')}) on ${os.cpus().length} CPUs`,
      `limits: customer tps_limit ${limits.customerTps}/s, supplier max_submit_rate ${limits.supplierTps}/s per connector; peaks over ${opts.rateWindowS} s windows, a peak above limit + 10 % fails; supplier TPS = the simulator's accepted submit_sm (every simulated connector), sampled each second`,
      `client: ${c.counters.submitted} submit_sm, ${c.counters.accepted} accepted, ${c.counters.finalReceipts} final receipts, ${c.unmatched()} receipts for ids it never got (submits it timed out on), ${c.counters.rebinds} rebinds`,
      `refused submit_sm by outcome: ${JSON.stringify(c.counters.errors)}`,
      `final receipts by stat: ${JSON.stringify(c.counters.receiptStats)}`,
      `rejected by routing (sms.rejected.v1) by reason: ${JSON.stringify(published.rejectedByReason)}`,
      `topics: ${published.dispatchRecords} sms.dispatched.v1 records, ${published.ratedRecords} billing.rated.v1 records`,
      `simulator (since its last start): ${sim.accepted} submit_sm accepted, ${sim.duplicates} duplicates`,
      `processes that exited by themselves: ${crashes.length === 0 ? 'none' : crashes.join(', ')}`,
      `restarted after such an exit: ${restartedAfterCrash.length === 0 ? 'none' : restartedAfterCrash.join(', ')}`,
    ];
    let extraRated = 0;
    let identicalExtraRated = 0;
    for (const [id, n] of published.rated)
      if (n > 1) {
        extraRated += n - 1;
        if (published.ratedDistinct.get(id) === 1) identicalExtraRated += n - 1;
      }
    notes.push(
      `re-published ACCEPTED dispatch records (same part and supplier id: not a second send): ${published.republishedDispatches}`,
      `extra billing.rated.v1 records: ${extraRated}, of which byte-identical copies of the first: ${identicalExtraRated}`,
    );
    const problems = verdict.rows
      .filter((r) => !r.pass)
      .flatMap((r) => [
        `- ${r.fault}: ${r.problems.join('; ')}`,
        ...r.samples.map((x) => `    ${x.hubId} (${x.why}): ${traceMessage(published, x.hubId)}`),
      ]);
    const result = verdict.pass ? 'PASS' : 'FAIL';
    process.stdout.write(`\n${table}\n\n${notes.join('\n')}\n${problems.join('\n')}\n\nchaos: ${result}\n`);

    const resultsDir = path.join(root, 'bench/results');
    mkdirSync(resultsDir, { recursive: true });
    const base = path.join(resultsDir, `chaos-${stamp}`);
    writeFileSync(
      `${base}.json`,
      JSON.stringify(
        {
          startedAt: new Date(t0).toISOString(),
          durationS: Math.round((Date.now() - t0) / 1000),
          machine: {
            cpus: os.cpus().length,
            model: os.cpus()[0]?.model,
            memGb: Math.round(os.totalmem() / 2 ** 30),
          },
          options: opts,
          pass: verdict.pass,
          rows: verdict.rows.map((r) => ({
            ...r,
            samples: r.samples.map((x) => ({ ...x, trace: traceMessage(published, x.hubId) })),
          })),
          total: verdict.total,
          phases,
          client: { ...c.counters, unmatched: c.unmatched() },
          topics: {
            dispatchRecords: published.dispatchRecords,
            ratedRecords: published.ratedRecords,
            republishedDispatches: published.republishedDispatches,
            extraRated,
            identicalExtraRated,
            rejectedByReason: published.rejectedByReason,
          },
          simulator: sim,
          crashes,
          restartedAfterCrash,
          logs: workDir,
        },
        null,
        2,
      ),
    );
    writeFileSync(
      `${base}.md`,
      [
        `# Chaos run ${new Date(t0).toISOString()}: ${result}`,
        '',
        `\`npm run chaos -- --brokers ${opts.brokers} --replicas ${opts.replicas} --rate ${opts.rate} --binds ${opts.binds} --window ${opts.window} --faults ${opts.faults.join(',')}${opts.customerTps !== null ? ` --customer-tps ${opts.customerTps}` : ''}${opts.supplierTps !== null ? ` --supplier-tps ${opts.supplierTps}` : ''}\``,
        `(${os.cpus().length} CPUs, ${Math.round((Date.now() - t0) / 1000)} s)`,
        '',
        table,
        '',
        ...notes.map((n) => `- ${n}`),
        ...(problems.length ? ['', 'Failures:', ...problems] : []),
        '',
      ].join('\n'),
    );
    say(`results: ${base}.json and .md; logs: ${workDir}`);
    return verdict.pass ? 0 : 1;
  } finally {
    say('stopping the hub, the broker and the database');
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
