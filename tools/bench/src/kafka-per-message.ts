// Kafka per message, counted through the real services (issue 17): starts the whole hub from the TypeScript
// sources (libs/testing startHub, the SMSC simulators answering at once with DELIVRD, like `npm run bench`)
// on the local Kafka and PostgreSQL, with the preload `kafka-requests.mjs` in every service, which counts
// each Kafka request by client (producer, admin, consumer group) and API, with its response bytes, and the
// records each group handled. It measures an idle window first (requests per second with no traffic), then
// runs tools/loadgen at --rate for --duration seconds, waits for the receipts and until every consumer
// group of the run has committed the end of every topic it reads, and prints per submit_sm accepted:
// records produced per topic (the topics' end offsets: the broker's view), records fetched per group and
// topic, requests per client and API (Produce, Fetch, OffsetCommit, Heartbeat, ...), the response bytes,
// and the broker's CPU over the window (/proc; the shared broker also serves other users' tests: the load
// average is printed). Requests of the idle window, scaled to the load window's length, are shown apart:
// what is left is what the messages cost. It also prints each hub process's CPU in the idle window (CPU-ms
// per second, and what that is per submit_sm at the load window's rate: the part of a message's cost that
// is paid per second, whatever the traffic) and over the load window.
//   set -a && . .local/env && set +a
//   npx tsx --conditions=@smshub/source tools/bench/src/kafka-per-message.ts [--rate 600] [--duration 30]
//     [--mix gsm7=80,ucs2=10,long=10] [--idle 15] [--binds 4] [--env K=V,K=V] [--json FILE]
// --env: extra environment of every hub process (to compare a setting: run twice, alternated).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import {
  entryArgs,
  createTestDatabase,
  freePort,
  repoRoot,
  startHub,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { CLOCK_TICKS_PER_SECOND, loadAverage, readProcStat } from './procfs.js';
import type { LoadgenResult } from './report.js';
import { liftDemoLimits, seedDemo } from './seed.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '600' },
    duration: { type: 'string', default: '30' },
    mix: { type: 'string', default: 'gsm7=80,ucs2=10,long=10' },
    idle: { type: 'string', default: '15' },
    binds: { type: 'string', default: '4' },
    env: { type: 'string' },
    json: { type: 'string' },
  },
});
const rate = Number(values.rate);
const durationS = Number(values.duration);
const idleS = Number(values.idle);
const extraEnv = Object.fromEntries(
  (values.env?.split(',') ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const brokers = process.env.KAFKA_BROKERS;
const databaseUrl = process.env.DATABASE_URL;
if (!brokers || !databaseUrl) {
  console.error('KAFKA_BROKERS and DATABASE_URL must be set (. .local/env)');
  process.exit(2);
}
const root = repoRoot();
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One process's cumulative counts, as kafka-requests.mjs writes them. */
interface Counts {
  service: string;
  pid: number;
  at: number;
  requests: [client: string, api: string, n: number, bytes: number][];
  records: [group: string, topic: string, batches: number, n: number][];
}
type Snapshot = Map<number, Counts>;

const countDir = path.join(os.tmpdir(), `smshub-kafka-count-${randomBytes(4).toString('hex')}`);
function snapshot(): Snapshot {
  const out: Snapshot = new Map();
  if (!existsSync(countDir)) return out;
  for (const f of readdirSync(countDir).filter((f) => f.endsWith('.json'))) {
    try {
      const c = JSON.parse(readFileSync(path.join(countDir, f), 'utf8')) as Counts;
      out.set(c.pid, c);
    } catch {
      // being replaced: the next second's file is read next time
    }
  }
  return out;
}
/** A snapshot taken after every process wrote its counts once more (they write every second). */
async function freshSnapshot(): Promise<Snapshot> {
  const t = Date.now();
  await sleep(1200);
  const s = snapshot();
  for (const c of s.values()) if (c.at < t) log(`counts of ${c.service} (pid ${c.pid}) are stale`);
  return s;
}

interface Row {
  key: string;
  n: number;
  bytes: number;
}
/** Per-key differences between two snapshots: requests by `service / client / api`, records by `group / topic`. */
function diff(a: Snapshot, b: Snapshot) {
  const req = new Map<string, Row>();
  const rec = new Map<string, Row>();
  for (const [pid, cb] of b) {
    const ca = a.get(pid);
    const ra = new Map(ca?.requests.map(([c, api, n, by]) => [`${c}\t${api}`, [n, by]]) ?? []);
    for (const [client, api, n, bytes] of cb.requests) {
      const [n0, b0] = ra.get(`${client}\t${api}`) ?? [0, 0];
      const name = client.startsWith('group ') ? client : `${cb.service} ${client.replace(/#\d+$/, '')}`;
      const key = `${name}\t${api}`;
      const row = req.get(key) ?? { key, n: 0, bytes: 0 };
      row.n += n - n0!;
      row.bytes += bytes - b0!;
      req.set(key, row);
    }
    const rb = new Map(ca?.records.map(([g, t, batches, n]) => [`${g}\t${t}`, [batches, n]]) ?? []);
    for (const [group, topic, batches, n] of cb.records) {
      const [bt0, n0] = rb.get(`${group}\t${topic}`) ?? [0, 0];
      const key = `${group}\t${topic}`;
      const row = rec.get(key) ?? { key, n: 0, bytes: 0 };
      row.n += n - n0!; // records
      row.bytes += batches - bt0!; // batches (partition batches handed to the handler)
      rec.set(key, row);
    }
  }
  return { req, rec };
}

const kafka = new Kafka({
  clientId: 'kafka-per-message',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
await admin.connect();
const namespace = `kpm-${randomBytes(3).toString('hex')}`;
const ns = (s: string) => s.replace(`${namespace}.`, '');
const secretKey = randomBytes(32).toString('base64');
const smppPassword = randomBytes(6).toString('base64url');
const workDir = path.join(os.tmpdir(), `smshub-${namespace}`);
mkdirSync(workDir, { recursive: true });
const entry = (dir: string): string[] => entryArgs(root, dir, false);
let db: TestDatabase | undefined;
let hub: Hub | undefined;
const kafkaPid = Number(readFileSync(path.join(root, '.local/kafka/kafka.pid'), 'utf8').trim()) || undefined;
/** CPU ticks (user + system) of every hub process that writes counts (the preload's pid), by pid. */
const processTicks = (s: Snapshot) => {
  const out = new Map<number, { service: string; ticks: number }>();
  for (const [pid, c] of s) {
    const st = readProcStat(pid);
    if (st) out.set(pid, { service: c.service, ticks: st.utime + st.stime });
  }
  return out;
};
/** CPU-ms by service between two processTicks readings. */
const cpuMsBetween = (a: ReturnType<typeof processTicks>, b: ReturnType<typeof processTicks>) => {
  const out = new Map<string, number>();
  for (const [pid, v] of b) {
    const t0 = a.get(pid)?.ticks;
    if (t0 === undefined) continue;
    out.set(v.service, (out.get(v.service) ?? 0) + ((v.ticks - t0) * 1000) / CLOCK_TICKS_PER_SECOND);
  }
  return out;
};
const brokerTicks = () => {
  const s = kafkaPid ? readProcStat(kafkaPid) : undefined;
  return s ? s.utime + s.stime : NaN;
};

async function topicEnds(): Promise<Map<string, number>> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
  const out = new Map<string, number>();
  for (const t of topics) {
    const offs = await admin.fetchTopicOffsets(t);
    out.set(
      t,
      offs.reduce((s, o) => s + Number(o.high), 0),
    );
  }
  return out;
}

/** Every group of this run whose committed offsets are behind a topic's end. */
async function laggingGroups(ends: Map<string, number>): Promise<string[]> {
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(namespace));
  const behind: string[] = [];
  for (const groupId of groups) {
    const offsets = await admin.fetchOffsets({ groupId });
    for (const t of offsets) {
      if (!ends.has(t.topic)) continue;
      const committed = t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
      const subscribed = t.partitions.some((p) => Number(p.offset) >= 0);
      if (subscribed && committed < ends.get(t.topic)!) behind.push(`${groupId} ${ns(t.topic)}`);
    }
  }
  return behind;
}

try {
  log(
    `namespace ${namespace}, load average ${loadAverage()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  db = await createTestDatabase(databaseUrl);
  // Seeded as `npm run bench` does: the demo configuration with both simulated networks answering at once
  // and delivering everything, the demo account's and connectors' limits lifted.
  seedDemo({
    root,
    brokers,
    databaseUrl: db.url,
    namespace,
    secretKey,
    smppPassword,
    simGoodPort: await freePort(),
    simPoorPort: await freePort(),
    profile: 'bench',
    entry,
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await liftDemoLimits(client);
  await client.end();

  const services = readdirSync(path.join(root, 'services')).filter((s) =>
    existsSync(path.join(root, 'services', s, 'src/main.ts')),
  );
  const preload = path.join(root, 'tools/bench/src/kafka-requests.mjs');
  const envFor: Record<string, Record<string, string>> = {};
  for (const s of services)
    envFor[s] = { NODE_OPTIONS: `--import=${preload}`, BENCH_KAFKA_COUNT_DIR: countDir };
  if (envFor.webhooks) {
    envFor.webhooks.WEBHOOK_SECRET_KEY = randomBytes(32).toString('base64');
    envFor.webhooks.GRPC_PORT = String(await freePort());
  }
  log(`starting the hub from sources (${services.length} services and the SMSC simulator)`);
  hub = await startHub({
    kafkaBrokers: brokers,
    databaseUrl: db.url,
    namespace,
    demoProfile: 'bench',
    workDir: path.join(workDir, 'hub'),
    readyTimeoutMs: 240_000,
    env: {
      LOG_LEVEL: 'warn',
      DEMO_SMPP_PASSWORD: smppPassword,
      CONNECTOR_SECRET_KEY: secretKey,
      ...extraEnv,
    },
    envFor,
  });

  // Idle window.
  await sleep(10_000);
  const i0 = await freshSnapshot();
  const ip0 = processTicks(i0);
  const ib0 = brokerTicks();
  const it0 = Date.now();
  await sleep(idleS * 1000);
  const ip1 = processTicks(i0);
  const ib1 = brokerTicks();
  const i1 = await freshSnapshot();
  const idleWindowS = (Date.now() - it0) / 1000;
  const idleCpu = cpuMsBetween(ip0, ip1);
  const idle = diff(i0, i1);

  // Load window: from just before loadgen starts until every group has committed every record.
  const ends0 = await topicEnds();
  const s0 = await freshSnapshot();
  const p0 = processTicks(s0);
  const b0 = brokerTicks();
  const load0 = loadAverage();
  const t0 = Date.now();
  const out = path.join(workDir, 'loadgen.json');
  log(`loadgen: ${rate} msg/s for ${durationS} s, mix ${values.mix}`);
  const child = spawn(
    process.execPath,
    [
      ...entry('tools/loadgen'),
      ...['--port', String(hub.ports.smpp), '--system-id', hub.secrets.demoSystemId],
      ...['--binds', values.binds, '--window', '200', '--rate', String(rate), '--mix', values.mix],
      ...['--registered-delivery', '1', '--receipt-wait', '60', '--duration', String(durationS)],
      ...['--out', out, '--quiet'],
    ],
    {
      cwd: root,
      env: { ...process.env, LOADGEN_PASSWORD: smppPassword },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  await new Promise((r) => child.once('exit', r));
  const lg = JSON.parse(readFileSync(out, 'utf8')) as LoadgenResult;
  let ends = await topicEnds();
  for (let i = 0; i < 120; i++) {
    const behind = await laggingGroups(ends);
    if (!behind.length) break;
    if (i % 10 === 9)
      log(`waiting for ${behind.length} group/topic pairs to catch up: ${behind.slice(0, 4).join(', ')}`);
    await sleep(1000);
    ends = await topicEnds();
  }
  const p1 = processTicks(s0);
  const s1 = await freshSnapshot();
  const windowS = (Date.now() - t0) / 1000;
  const loadCpu = cpuMsBetween(p0, p1);
  const b1 = brokerTicks();
  const load1 = loadAverage();
  const load = diff(s0, s1);
  const m = Math.max(1, lg.accepted);
  const per = (n: number) => n / m;
  const scale = windowS / idleWindowS;

  const produced = [...ends]
    .map(([t, e]) => ({ topic: ns(t), records: e - (ends0.get(t) ?? 0) }))
    .filter((r) => r.records > 0)
    .sort((a, b) => b.records - a.records);
  const byApi = new Map<string, { n: number; idle: number; bytes: number }>();
  for (const r of load.req.values()) {
    const api = r.key.split('\t')[1]!;
    const v = byApi.get(api) ?? { n: 0, idle: 0, bytes: 0 };
    v.n += r.n;
    v.bytes += r.bytes;
    byApi.set(api, v);
  }
  for (const r of idle.req.values()) {
    const api = r.key.split('\t')[1]!;
    const v = byApi.get(api) ?? { n: 0, idle: 0, bytes: 0 };
    v.idle += r.n * scale;
    byApi.set(api, v);
  }
  const f = (x: number, d = 3) => x.toFixed(d);
  const lines: string[] = [];
  lines.push(
    `${lg.accepted} submit_sm accepted (${lg.messages} messages, ${rate} msg/s offered for ${durationS} s, mix ${values.mix}); receipts ${lg.receipts}, missing ${lg.missingReceipts}; window ${f(windowS, 1)} s; load ${load0[0].toFixed(2)} -> ${load1[0].toFixed(2)}`,
  );
  lines.push(
    `broker CPU ${kafkaPid ? Math.round((((b1 - b0) / CLOCK_TICKS_PER_SECOND) * 1e6) / m) : '?'} µs per submit_sm over the window (shared broker); submit_sm_resp p99 ${lg.respLatencyMs.p99} ms, receipt p50/p99 ${lg.receiptLatencyMs.p50}/${lg.receiptLatencyMs.p99} ms`,
  );
  lines.push(
    '',
    `| CPU (hub processes with the counting preload) | idle: CPU-ms/s (${f(idleWindowS, 0)} s, no traffic) | idle at the accepted rate: CPU-µs per submit_sm | load window: CPU-µs per submit_sm |`,
    '| --- | --- | --- | --- |',
  );
  const rateOf = m / durationS; // submit_sm accepted per second of loadgen's run
  const cpuServices = [...new Set([...idleCpu.keys(), ...loadCpu.keys()])].sort(
    (a, b) => (loadCpu.get(b) ?? 0) - (loadCpu.get(a) ?? 0),
  );
  const row = (name: string, idleMs: number, loadMs: number) =>
    `| ${name} | ${f(idleMs / idleWindowS, 1)} | ${f(((idleMs / idleWindowS) * 1000) / rateOf, 0)} | ${f((loadMs * 1000) / m, 0)} |`;
  for (const sv of cpuServices) lines.push(row(sv, idleCpu.get(sv) ?? 0, loadCpu.get(sv) ?? 0));
  const sum = (mp: Map<string, number>) => [...mp.values()].reduce((x, y) => x + y, 0);
  lines.push(row('**all**', sum(idleCpu), sum(loadCpu)));
  if (kafkaPid)
    lines.push(
      row(
        'broker (shared: other users too)',
        ((ib1 - ib0) * 1000) / CLOCK_TICKS_PER_SECOND,
        ((b1 - b0) * 1000) / CLOCK_TICKS_PER_SECOND,
      ),
    );
  lines.push('', '| records produced (topic) | per submit_sm |', '| --- | --- |');
  for (const r of produced) lines.push(`| ${r.topic} | ${f(per(r.records))} |`);
  lines.push(`| **all** | **${f(per(produced.reduce((s, r) => s + r.records, 0)))}** |`);
  lines.push(
    '',
    '| records fetched (group / topic) | per submit_sm | records per batch |',
    '| --- | --- | --- |',
  );
  const rec = [...load.rec.values()].filter((r) => r.n > 0).sort((a, b) => b.n - a.n);
  for (const r of rec)
    lines.push(
      `| ${ns(r.key.replace('group ', '')).replace('\t', ' / ')} | ${f(per(r.n))} | ${f(r.n / Math.max(1, r.bytes), 1)} |`,
    );
  lines.push(`| **all** | **${f(per(rec.reduce((s, r) => s + r.n, 0)))}** | |`);
  lines.push(
    '',
    '| requests (API) | per submit_sm | of which idle-rate | response KiB per submit_sm |',
    '| --- | --- | --- | --- |',
  );
  const apis = [...byApi].sort((a, b) => b[1].n - a[1].n);
  for (const [api, v] of apis)
    lines.push(`| ${api} | ${f(per(v.n))} | ${f(per(v.idle))} | ${f(per(v.bytes) / 1024, 2)} |`);
  lines.push(
    `| **all** | **${f(per(apis.reduce((s, [, v]) => s + v.n, 0)))}** | ${f(per(apis.reduce((s, [, v]) => s + v.idle, 0)))} | |`,
  );
  lines.push(
    '',
    '| requests (client / API), >= 0.01 per submit_sm | per submit_sm | idle-rate |',
    '| --- | --- | --- |',
  );
  const idleOf = (key: string) => (idle.req.get(key)?.n ?? 0) * scale;
  for (const r of [...load.req.values()].sort((a, b) => b.n - a.n)) {
    if (per(r.n) < 0.01) continue;
    lines.push(
      `| ${ns(r.key.replace('group ', 'group ')).replace('\t', ' / ')} | ${f(per(r.n))} | ${f(per(idleOf(r.key)))} |`,
    );
  }
  console.log(lines.join('\n'));
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify(
        {
          rate,
          durationS,
          mix: values.mix,
          env: extraEnv,
          windowS,
          load: [load0[0], load1[0]],
          loadgen: lg,
          brokerCpuUsPerSubmit: kafkaPid ? (((b1 - b0) / CLOCK_TICKS_PER_SECOND) * 1e6) / m : null,
          produced,
          fetched: rec.map((r) => ({ key: ns(r.key), records: r.n, batches: r.bytes })),
          requests: [...load.req.values()].map((r) => ({
            key: ns(r.key),
            n: r.n,
            bytes: r.bytes,
            idle: idleOf(r.key),
          })),
        },
        null,
        2,
      ),
    );
} finally {
  if (hub) await hub.stop().catch(() => undefined);
  const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) =>
    t.startsWith(`${namespace}.`),
  );
  if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  if (db) await db.drop().catch(() => undefined);
  rmSync(countDir, { recursive: true, force: true });
}
process.exit(0);
