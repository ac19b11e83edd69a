// npm run chaos: the whole hub on its own Kafka broker, steady SMPP load, then kill -9 of each process in
// turn (and once of the broker), and a verdict per fault from the client's records, the simulator's counters
// and the topics. See tools/chaos/README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { createTestDatabase, repoRoot, startHub, type Hub, type TestDatabase } from '@smshub/testing';
import { OwnBroker } from './broker.js';
import { ChaosClient } from './client.js';
import { readPublished, simCounters, traceMessage } from './evidence.js';
import { verdictTable, verify, type Phase } from './verify.js';

const ALL_FAULTS = ['ingress', 'routing', 'egress', 'dlr', 'rating', 'smsc-simulator', 'kafka'] as const;

const USAGE = `usage: npm run chaos -- [options]
  --rate N        submit_sm per second, steady, over all binds (default 300)
  --binds N       SMPP transceiver binds (default 2)
  --window N      window per bind (default 10)
  --faults LIST   comma-separated, in order (default ${ALL_FAULTS.join(',')})
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
const opts = {
  rate: num(values.rate, 'rate', 300, 1),
  binds: num(values.binds, 'binds', 2, 1),
  window: num(values.window, 'window', 10, 1),
  warmupS: num(values.warmup, 'warmup', 10, 0),
  pauseS: num(values.pause, 'pause', 3, 0),
  settleS: num(values.settle, 'settle', 10, 0),
  drainS: num(values.drain, 'drain', 120, 1),
  bundles: values.bundles === true,
  faults: (values.faults ?? ALL_FAULTS.join(','))
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

async function allReady(hub: Hub, timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const states = await Promise.all(
      [...hub.processes.values()].map(async (p) => {
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
      const notReady = [...hub.processes.keys()].filter((_, i) => !states[i]);
      throw new Error(`not ready ${timeoutS} s after the broker restart: ${notReady.join(', ')}`);
    }
    await sleep(0.25);
  }
}

async function main(): Promise<number> {
  const root = repoRoot();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const workDir = path.join(os.tmpdir(), `smshub-chaos-${stamp}`);
  mkdirSync(workDir, { recursive: true });
  const broker = new OwnBroker(root, path.join(workDir, 'local'));
  let db: TestDatabase | undefined;
  let hub: Hub | undefined;
  let client: ChaosClient | undefined;
  let supervisor: NodeJS.Timeout | undefined;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (supervisor) clearInterval(supervisor);
    await client?.close().catch(() => undefined);
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
    say(`logs and broker data in ${workDir}`);
    const adminUrl = adminDatabaseUrl(root);
    const brokers = broker.start();
    say(`own Kafka broker at ${brokers}`);
    db = await createTestDatabase(adminUrl);
    say(`database ${db.name}; starting the hub (bench profile: the simulator delivers everything at once)`);
    hub = await startHub({
      kafkaBrokers: brokers,
      databaseUrl: db.url,
      demoProfile: 'bench',
      workDir,
      bundles: opts.bundles,
      readyTimeoutMs: 180_000,
    });
    const h = hub;
    await topUp(db.url);
    say(`hub ready (namespace ${h.namespace}, SMPP port ${h.ports.smpp})`);

    // A crashed process is restarted, as an orchestrator would; the crash is reported.
    const down = new Set<string>();
    const restarting = new Set<string>();
    const restartedAfterCrash: string[] = [];
    supervisor = setInterval(() => {
      for (const p of h.processes.values()) {
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
      port: h.ports.smpp,
      systemId: h.secrets.demoSystemId,
      password: h.secrets.demoPassword,
      binds: opts.binds,
      window: opts.window,
      rate: opts.rate,
      destinationPrefix: '44740012',
      runTag,
    });
    const c = client;
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
        if (fault === 'kafka') {
          say('kill -9 kafka broker');
          await broker.kill();
          await sleep(opts.pauseS);
          broker.restart();
          say('broker answers again; waiting for every process to be ready');
          await allReady(h, 180);
        } else {
          const p = h.process(fault);
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
      await c.stopSubmitting();
      await closeSimWindow(phases[phases.length - 1] as Phase, false);
    } finally {
      clearInterval(progress);
    }

    const drainUntil = Date.now() + opts.drainS * 1000;
    while (c.awaitingReceipts() > 0 && Date.now() < drainUntil) await sleep(1);
    say(`${c.awaitingReceipts()} accepted messages still without a final receipt`);

    // Rated records trail the receipts a little: read until every accepted message is rated, or time runs out.
    const accepted = c.records.filter((r) => r.status === 0 && r.hubId).map((r) => r.hubId as string);
    let published = await readPublished(brokers, h.namespace);
    while (accepted.some((id) => !published.rated.has(id)) && Date.now() < drainUntil) {
      await sleep(3);
      published = await readPublished(brokers, h.namespace);
    }
    // A last look at the simulator, for duplicates sent while draining.
    await closeSimWindow(phases[phases.length - 1] as Phase, false);
    const sim = await simCounters(simPort);

    const verdict = verify(c.records, phases, published);
    const table = verdictTable(verdict);
    const crashes = h.crashes();
    const notes = [
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
        `\`npm run chaos -- --rate ${opts.rate} --binds ${opts.binds} --window ${opts.window} --faults ${opts.faults.join(',')}\``,
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
