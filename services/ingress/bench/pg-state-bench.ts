// PostgreSQL's cost of ingress's per-message rows, paced as in the hub, without Kafka or SMPP (issue 17).
// Every accepted message: its ENROUTE row in ingress_message_state (AcceptedStates' batches, every 50 ms);
// `delay` ms later its final sms.delivery.v1 event: the state upsert and the receipt inserted claimed (one
// statement, ReceiptStore.storeBatch, every 100 ms), then the "sent" mark on deliver_sm_resp
// (deliveredMany, 20 ms later). Prints per message: the CPU of every process of the PostgreSQL cluster
// (/proc: run it against a cluster of your own, e.g. a durable one), the WAL written and flushed
// (pg_stat_wal), the transactions, and the row versions written (pg_stat_user_tables: updates, HOT ones).
//
//   set -a; . .local/env; set +a   # or DATABASE_URL of your own cluster (superuser: reads pg_stat_wal)
//   npx tsx --conditions=@smshub/source services/ingress/bench/pg-state-bench.ts [messages=20000] [rate=600] [delay=1000]
//
// INGRESS_PG_BENCH_SKIP=0122,... leaves those migrations out; INGRESS_PG_BENCH_STORE=<path of a
// receipt-store.ts> runs another version of the store (e.g. the previous commit's, copied into this
// directory), so before and after can be alternated. Creates its own database and drops it. Not a test.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import type { PendingReceipt } from '../src/receipts.js';
import type { MessageStateUpdate, ReceiptStore as Store } from '../src/receipt-store.js';

const messages = Number(process.argv[2] ?? 20_000);
const rate = Number(process.argv[3] ?? 600);
const delayMs = Number(process.argv[4] ?? 1000);
const skip = new Set((process.env['INGRESS_PG_BENCH_SKIP'] ?? '').split(',').filter(Boolean));
const storeModule = process.env['INGRESS_PG_BENCH_STORE'] ?? '../src/receipt-store.ts';
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');

const { ReceiptStore } = (await import(
  storeModule.startsWith('.') ? storeModule : pathToFileURL(path.resolve(storeModule)).href
)) as { ReceiptStore: new (pool: pg.Pool) => Store };

const TICKS_PER_SECOND = 100;
function stat(pid: number): { ppid: number; own: number; children: number } | undefined {
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = rest.slice(rest.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      children: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}
/** CPU ticks of the whole cluster: the postmaster (with the children it reaped) and its live children. */
function clusterTicks(postmaster: number): number {
  const p = stat(postmaster);
  let sum = p ? p.own + p.children : 0;
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === postmaster) continue;
    const s = stat(pid);
    if (s?.ppid === postmaster) sum += s.own;
  }
  return sum;
}

const tag = `ipgb_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${tag}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${tag}`;
const pool = createPool({ connectionString: dbUrl.toString(), max: 4 });
const dir = await mkdtemp(path.join(tmpdir(), 'ipgb-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (/^\d{4}_.*\.sql$/.test(f) && !skip.has(f.slice(0, 4)))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
await migrate(pool, { dir });
const store = new ReceiptStore(pool);

const backend = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const postmaster = stat(backend)!.ppid;
const wal = async (): Promise<{ bytes: number; records: number; fpi: number; syncs: number }> => {
  const r = (await admin.query('SELECT wal_bytes, wal_records, wal_fpi, wal_sync FROM pg_stat_wal')).rows[0];
  return {
    bytes: Number(r.wal_bytes),
    records: Number(r.wal_records),
    fpi: Number(r.wal_fpi),
    syncs: Number(r.wal_sync),
  };
};
const statsPool = (): pg.Pool => createPool({ connectionString: dbUrl.toString(), max: 1 });
const tables = async (
  from: pg.Pool = pool,
): Promise<Record<string, { ins: number; upd: number; hot: number }>> => {
  const { rows } = await from.query(
    `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
      WHERE relname IN ('ingress_message_state', 'ingress_pending_receipts')`,
  );
  const result = Object.fromEntries(
    rows.map((r) => [
      r.relname,
      { ins: Number(r.n_tup_ins), upd: Number(r.n_tup_upd), hot: Number(r.n_tup_hot_upd) },
    ]),
  );
  if (from !== pool) await from.end();
  return result;
};
const commits = async (): Promise<number> =>
  Number(
    (await admin.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [tag])).rows[0]
      .xact_commit,
  );

const systemId = 'bench';
const retentionMs = 3 * 24 * 3600_000;
const receiptOf = (id: string, now: number): PendingReceipt => ({
  messageId: id,
  status: 2,
  systemId,
  customerMessageId: id,
  sourceTon: 1,
  sourceNpi: 1,
  source: '447700900123',
  destTon: 5,
  destNpi: 0,
  dest: 'Bench',
  dataCoding: 0,
  shortMessage: Buffer.from(
    `id:${id.slice(0, 10)} sub:001 dlvrd:001 submit date:2612070700 done date:2612070700 stat:DELIVRD err:000 text:Your code is 1234`,
  ),
  messageState: 2,
  networkErrorCode: undefined,
  expiresAt: new Date(now + 48 * 3600_000),
  esmClass: 0x04,
  revision: 2,
});

const wal0 = await wal();
const tables0 = await tables();
const commits0 = await commits();
const cpu0 = clusterTicks(postmaster);
const load0 = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const t0 = Date.now();

// Accepted messages in 50 ms batches; each one's final event `delayMs` later, in 100 ms batches.
const due: { at: number; ids: string[] }[] = [];
let accepted = 0;
const inflight: Promise<unknown>[] = [];
let nextAccept = t0;
let nextReceipts = t0 + delayMs;
while (accepted < messages || due.length > 0) {
  const now = Date.now();
  if (accepted < messages && now >= nextAccept) {
    const n = Math.min(messages - accepted, Math.max(1, Math.round((rate * (now - nextAccept + 50)) / 1000)));
    const ids = Array.from({ length: n }, () => randomUUID());
    accepted += n;
    nextAccept = now + 50;
    inflight.push(
      store.insertAccepted(
        ids.map((id) => ({
          systemId,
          customerMessageId: id,
          messageId: id,
          expiresAt: new Date(now + retentionMs),
        })),
      ),
    );
    due.push({ at: now + delayMs, ids });
  }
  if (now >= nextReceipts && due.length > 0 && due[0]!.at <= now) {
    const ids: string[] = [];
    while (due.length > 0 && due[0]!.at <= now) ids.push(...due.shift()!.ids);
    nextReceipts = now + 100;
    const states: MessageStateUpdate[] = ids.map((id) => ({
      systemId,
      customerMessageId: id,
      messageId: id,
      messageState: 2,
      finalDate: new Date(now),
      errorCode: 0,
      revision: 2,
      expiresAt: new Date(now + retentionMs),
    }));
    const receipts = ids.map((id) => receiptOf(id, now));
    inflight.push(
      store
        .storeBatch(states, receipts, { replica: 'bench-1', leaseMs: 30_000, mine: receipts.map(() => true) })
        .then(() => new Promise((resolve) => setTimeout(resolve, 20)))
        .then(() => store.deliveredMany(receipts, 'bench-1')),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
await Promise.all(inflight);
const seconds = (Date.now() - t0) / 1000;
// The backends report their statistics when they exit (otherwise up to seconds later).
await pool.end();
const cpu = clusterTicks(postmaster) - cpu0;
const wal1 = await wal();
const tables1 = await tables(statsPool());
const commits1 = await commits();
const per = (x: number, d = 2): number => Number((x / messages).toFixed(d));
const rows: Record<string, string> = {};
for (const [t, v] of Object.entries(tables1)) {
  const b = tables0[t] ?? { ins: 0, upd: 0, hot: 0 };
  rows[t] = `${per(v.ins - b.ins)} inserted, ${per(v.upd - b.upd)} updated (${per(v.hot - b.hot)} HOT)`;
}
console.log(
  JSON.stringify(
    {
      variant: { store: storeModule, skippedMigrations: [...skip] },
      messages,
      rate,
      seconds: Number(seconds.toFixed(1)),
      postgresClusterCpuMicrosPerMessage: Math.round(((cpu / TICKS_PER_SECOND) * 1e6) / messages),
      walBytesPerMessage: Math.round((wal1.bytes - wal0.bytes) / messages),
      walRecordsPerMessage: per(wal1.records - wal0.records),
      walFullPagesPerMessage: per(wal1.fpi - wal0.fpi, 3),
      walSyncsPerMessage: per(wal1.syncs - wal0.syncs, 3),
      commitsPerMessage: per(commits1 - commits0, 3),
      rowsPerMessage: rows,
      loadAverage: `${load0} → ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    },
    null,
    2,
  ),
);
await admin.query(`DROP DATABASE ${tag} WITH (FORCE)`);
await admin.end();
await rm(dir, { recursive: true, force: true });
