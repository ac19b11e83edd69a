// `npm run chaos -- --scheduled`: the scheduler killed while held messages fall due (issue 19 part 3).
// ingress and two scheduler processes (libs/testing startHub plus a second replica) on the local Kafka and
// PostgreSQL. SMPP submits of N messages with schedule_delivery_time spread over a window; while they fall
// due, one scheduler replica is killed (kill -9) every few seconds and started again, alternately. Then:
//   - lost: accepted messages never released onto sms.submitted.v1 (must be 0);
//   - released twice: messages with more than one record on sms.submitted.v1 (0 expected; a kill between
//     Kafka's acknowledgement and the commit would publish a batch again: services/scheduler/README.md);
//   - every row of scheduler_held in state released.
// Exit 0 when nothing is lost and nothing is released twice. Not part of the default run (its own flag).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { namespacedTopics, SmsSubmitted, topics } from '@smshub/contracts';
import { connectSmpp, formatRelativeSmppTime, formatSmppTime } from '@smshub/smpp';
import { createTestDatabase, freePort, HubProcess, repoRoot, startHub } from '@smshub/testing';
import path from 'node:path';

const say = (s: string) => process.stdout.write(`[chaos --scheduled] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { values } = parseArgs({
  options: {
    scheduled: { type: 'boolean' },
    messages: { type: 'string', default: '600' },
    window: { type: 'string', default: '40' },
    'kill-every': { type: 'string', default: '4' },
  },
  allowPositionals: false,
});
const N = Number(values.messages);
const WINDOW_S = Number(values.window);
const KILL_EVERY_MS = Number(values['kill-every']) * 1000;

// The shared local infrastructure (npm run infra:up writes its addresses to .local/env).
const localEnv: Record<string, string> = {};
try {
  for (const line of readFileSync(path.join(repoRoot(), '.local/env'), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) localEnv[m[1]!] = m[2]!.replace(/^['"]|['"]$/g, '');
  }
} catch {
  // none: the variables must be set
}
const brokers = (process.env.KAFKA_BROKERS ?? localEnv.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? localEnv.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is not set (npm run infra:up, then .local/env)');
const db = await createTestDatabase(databaseUrl);
say('starting ingress and the scheduler...');
const hub = await startHub({
  kafkaBrokers: brokers.join(','),
  databaseUrl: db.url,
  services: ['ingress', 'scheduler'],
  simulator: false,
  readyTimeoutMs: 240_000,
  env: { LOG_LEVEL: 'warn' },
});
// A second replica, as startHub starts the first (same namespace and database).
const root = repoRoot();
const httpPort = await freePort();
const second = new HubProcess(
  'scheduler-2',
  ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, 'services/scheduler/src/main.ts')],
  {
    ...process.env,
    KAFKA_BROKERS: brokers.join(','),
    DATABASE_URL: db.url,
    KAFKA_NAMESPACE: hub.namespace,
    LOG_LEVEL: 'warn',
    ADMIN_TOKEN: hub.secrets.adminToken,
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(await freePort()),
    SCHEDULER_REPLICA_ID: 'scheduler-2',
  },
  httpPort,
  path.join(hub.workDir, 'scheduler-2.log'),
);
second.start();
await second.waitReady(240_000);
const replicas = [hub.process('scheduler'), second];

const ns = namespacedTopics(topics, hub.namespace);
const kafka = new Kafka({ clientId: 'chaos-scheduled', brokers, logLevel: logLevel.NOTHING });
const releases = new Map<string, number>();
let seen = 0;
const consumer = kafka.consumer({ groupId: `chaos-scheduled-${randomBytes(4).toString('hex')}` });
await consumer.connect();
await consumer.subscribe({ topic: ns.submitted.name, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ message }) => {
    if (!message.value) return;
    const m = SmsSubmitted.decode(message.value);
    releases.set(m.customerMessageId, (releases.get(m.customerMessageId) ?? 0) + 1);
    seen++;
  },
});

const esme = await connectSmpp({
  host: '127.0.0.1',
  port: hub.ports.smpp,
  bindType: 'transceiver',
  systemId: hub.secrets.demoSystemId,
  password: hub.secrets.demoPassword,
  enquireLinkMs: 0,
  responseTimeoutMs: 30_000,
});
// Due times are absolute, from a base far enough ahead for the submits (50 in flight) to be done.
const base = Date.now() + 30_000;
say(`submitting ${N} messages due between +30 s and +${30 + WINDOW_S} s...`);
const accepted: string[] = [];
const startedAt = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    for (let i = next++; i < N; i = next++) {
      const r = await esme.submit({
        source_addr: 'ACME',
        source_addr_ton: 5,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: `4474001${String(i).padStart(5, '0')}`,
        short_message: Buffer.from(`held ${i}`),
        schedule_delivery_time: formatSmppTime(new Date(base + Math.floor((i * WINDOW_S * 1000) / N))),
      });
      accepted.push(r.message_id as string);
    }
  }),
);
say(
  `${accepted.length} accepted in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; killing replicas while they fall due`,
);

let kills = 0;
const lastDue = base + WINDOW_S * 1000;
while (Date.now() < base) await sleep(200);
for (let k = 0; Date.now() < lastDue + 2_000; k++) {
  await sleep(KILL_EVERY_MS);
  const victim = replicas[k % 2]!;
  await victim.kill();
  kills++;
  victim.start();
  // The other replica carries on meanwhile; this one comes back on its own time.
  void victim.waitReady(120_000).catch(() => undefined);
}
say(`${kills} kills; waiting for every release...`);
const deadline = Date.now() + 180_000;
while (Date.now() < deadline && accepted.some((id) => !releases.has(id))) await sleep(500);
// A marker due after everything: once it is released, every earlier release has been seen.
const marker = await esme.submit({
  source_addr: 'ACME',
  source_addr_ton: 5,
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447400199999',
  short_message: Buffer.from('marker'),
  schedule_delivery_time: formatRelativeSmppTime(2),
});
const markerId = marker.message_id as string;
while (Date.now() < deadline + 60_000 && !releases.has(markerId)) await sleep(500);

const lost = accepted.filter((id) => !releases.has(id));
const twice = accepted.filter((id) => (releases.get(id) ?? 0) > 1);
const pool = new pg.Pool({ connectionString: db.url, max: 1 });
const states = (
  await pool.query<{ state: string; n: number }>(
    `SELECT state, count(*)::int AS n FROM scheduler_held GROUP BY state ORDER BY state`,
  )
).rows;
const by = (
  await pool.query<{ done_by: string; n: number }>(
    `SELECT coalesce(done_by, '-') AS done_by, count(*)::int AS n FROM scheduler_held GROUP BY 1 ORDER BY 1`,
  )
).rows;
say(
  `accepted ${accepted.length}, released records ${seen}, kills ${kills}; lost ${lost.length}, released twice ${twice.length}`,
);
say(
  `scheduler_held: ${states.map((s) => `${s.state} ${s.n}`).join(', ')}; released by ${by.map((b) => `${b.done_by} ${b.n}`).join(', ')}`,
);
const pass = lost.length === 0 && twice.length === 0 && releases.has(markerId);
say(
  pass
    ? 'PASS'
    : `FAIL${lost.length ? ` lost: ${lost.slice(0, 5).join(' ')}` : ''}${twice.length ? ` twice: ${twice.slice(0, 5).join(' ')}` : ''}`,
);

esme.destroy();
await consumer.disconnect();
await pool.end();
await second.stop();
await hub.stop();
await db.drop();
process.exit(pass ? 0 : 1);
