// Benchmark: the join stage's write of a batch of accepted dispatches with each dispatch's timeline event in
// its dlr_dispatch_index row (DLR_DISPATCH_EVENT=index, migration 0404, DISPATCH_EVENT_IN_INDEX in
// src/joiner.ts) vs in a dlr_timeline row of its own (timeline, as before 0404): the real statement
// (joiner.ts writeStatement), batches of `batch` dispatches as the paced pipeline bench consumes them,
// variants alternated round by round. CPU of this process and of its one PostgreSQL backend
// (/proc/<pid>/stat: PostgreSQL must run on this machine) and WAL per dispatch (pg_current_wal_insert_lsn:
// the cluster's, so run it on a cluster of your own). Prints figures; not a test.
//   npx tsx --conditions=@smshub/source services/dlr/bench/dispatch-event-bench.ts [rounds=6] [batches=300] [batch=30]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { DispatchOutcome, MessageContext, SmsDispatched } from '@smshub/contracts';
import { candidateKeys } from '../src/domain/message-id.js';
import { dispatchEventKey, writeStatement } from '../src/joiner.js';
import { timelineRow } from '../src/timeline-rows.js';

const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');
const ROUNDS = Number(process.argv[2] ?? 6);
const BATCHES = Number(process.argv[3] ?? 300);
const BATCH = Number(process.argv[4] ?? 30);
const TOPIC = 'sms.dispatched.v1';
const db = `dlr_dispatch_event_bench_${Date.now().toString(36)}`;
const admin = createPool({ connectionString: adminUrl, max: 1 });
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(adminUrl);
url.pathname = `/${db}`;
const pool = createPool({ connectionString: url.toString(), max: 1 });
const migrations = await mkdtemp(path.join(tmpdir(), 'dlr-dispatch-event-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
  if (/^(0001|04\d\d)_.*\.sql$/.test(f))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
}
await migrate(pool, { dir: migrations });
const pid = (await pool.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
const ticks = (): number => {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10_000; // µs
};
async function walLsn(): Promise<number> {
  const r = await pool.query<{ b: string }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS b`,
  );
  return Number(r.rows[0]!.b);
}

type Mode = 'timeline' | 'index';
let seq = 0;
/** What onDispatches puts in its plan for one batch of accepted dispatches. */
function plan(mode: Mode): Parameters<typeof writeStatement>[0] {
  const out: Parameters<typeof writeStatement>[0] = { timeline: [], indexRows: [], parkRows: [], unpark: [] };
  for (let i = 0; i < BATCH; i++) {
    const hubId = randomUUID();
    const supplierId = (0x10000000 + seq++).toString(16).toUpperCase();
    const context = MessageContext.fromPartial({
      messageId: hubId,
      accountId: 'acc_bench',
      destination: { ton: 1, npi: 1, address: '447700900123' },
      receivedAt: new Date(),
    });
    const now = new Date();
    const bytes = Buffer.from(
      SmsDispatched.encode(
        SmsDispatched.fromPartial({
          context,
          partNumber: 1,
          partTotal: 1,
          connectorId: 'con_bench',
          supplierMessageId: supplierId,
          supplierMessageIdNormalised: String(parseInt(supplierId, 16)),
          attempt: 1,
          submittedAt: now,
          respondedAt: now,
          outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
          segments: 1,
        }),
      ).finish(),
    );
    out.indexRows.push([
      hubId,
      0,
      'con_bench',
      supplierId,
      1,
      1,
      now,
      candidateKeys(supplierId, 'auto').map((k) => `con_bench|${k}`),
      Buffer.from(MessageContext.encode(context).finish()),
      1,
      ...(mode === 'index' ? [TOPIC, bytes] : []),
    ]);
    if (mode === 'timeline')
      out.timeline.push(
        timelineRow(hubId, dispatchEventKey(0, 1, 'con_bench'), 'dispatched', TOPIC, now.getTime(), bytes),
      );
  }
  return out;
}

const n = BATCHES * BATCH;
console.log(`${n} dispatches per variant and round, batches of ${BATCH}`);
for (let round = 0; round < ROUNDS; round++) {
  const modes: Mode[] = round % 2 === 0 ? ['timeline', 'index'] : ['index', 'timeline'];
  for (const mode of modes) {
    await pool.query('TRUNCATE dlr_dispatch_index, dlr_timeline');
    await pool.query('CHECKPOINT');
    const c0 = process.cpuUsage();
    const p0 = ticks();
    const w0 = await walLsn();
    for (let b = 0; b < BATCHES; b++) {
      const one = writeStatement(plan(mode), 30_000);
      if (one) await pool.query(one.text, one.values);
    }
    const c = process.cpuUsage(c0);
    const p = ticks() - p0;
    const wal = (await walLsn()) - w0;
    console.log(
      `round ${round + 1} ${mode.padEnd(8)} client ${((c.user + c.system) / n).toFixed(1)} µs/dispatch, ` +
        `backend ${(p / n).toFixed(1)} µs/dispatch, WAL ${(wal / n).toFixed(0)} B/dispatch; load ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
  }
}
await pool.end();
await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
await admin.end();
await rm(migrations, { recursive: true, force: true });
