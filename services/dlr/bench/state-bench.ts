// Benchmark: the message-row writes of the aggregation stage with the reducer state stored whole as jsonb
// (`state`, DLR_STATE_FORMAT=jsonb, as before migration 0402) vs compact as json (`state_json`,
// src/stored-state.ts). Per message, as in the hub: insert at submitted, then load + update at routed, then
// load + update at the final receipt (the real column list, upsert and load statement of aggregator.ts),
// in batches of 300 messages; formats alternated round by round. CPU of this process and of its one
// PostgreSQL backend (/proc/<pid>/stat: PostgreSQL must run on this machine) per message, and the row
// size. Prints figures; not a test.
//   npx tsx --conditions=@smshub/source services/dlr/bench/state-bench.ts [rounds=6] [batches=40]   (needs DATABASE_URL)
// DLR_STATE_BENCH_FORMATS=compact runs one format only; DLR_STATE_BENCH_FILLFACTOR=50 sets the table's fillfactor.
// DLR_STATE_BENCH_WRITES=upsert,split alternates the writes instead (compact format): every write an
// INSERT ... ON CONFLICT DO UPDATE (as dlr before session 12), or a plain INSERT for the new row and an
// UPDATE (unnestUpdate) for the rows read back (as aggregator.ts writes them now). WAL bytes per message are
// the cluster's (pg_current_wal_insert_lsn): run it on a cluster of your own.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { MessageContext } from '@smshub/contracts';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MESSAGE_COLUMNS, MESSAGE_UPSERT } from '../src/aggregator.js';
import { applyEvent, type MessageState, type TimelineEvent } from '../src/domain/timeline.js';
import { insertUnnest, unnestUpdate } from '../src/sql.js';
import { packState, STORED_STATE, unpackState, type StoredState } from '../src/stored-state.js';
import { toProtoStatus } from '../src/mapping.js';

const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');
const ROUNDS = Number(process.argv[2] ?? 6);
const BATCHES = Number(process.argv[3] ?? 40);
const BATCH = 300;
const db = `dlr_state_bench_${Date.now().toString(36)}`;
const admin = createPool({ connectionString: adminUrl, max: 1 });
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(adminUrl);
url.pathname = `/${db}`;
const pool = createPool({ connectionString: url.toString(), max: 1 });
const migrations = await mkdtemp(path.join(tmpdir(), 'dlr-state-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
  if (/^(0001|04\d\d)_.*\.sql$/.test(f))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
}
await migrate(pool, { dir: migrations });
// DLR_STATE_BENCH_FILLFACTOR: another fillfactor for dlr_messages than the migrations' (room for HOT updates)
const fillfactor = process.env['DLR_STATE_BENCH_FILLFACTOR'];
if (fillfactor) await pool.query(`ALTER TABLE dlr_messages SET (fillfactor = ${Number(fillfactor)})`);
const writesList = process.env['DLR_STATE_BENCH_WRITES']?.split(',') as Writes[] | undefined;
const variants: Variant[] = writesList
  ? writesList.map((writes) => ({ format: 'compact', writes }))
  : ((process.env['DLR_STATE_BENCH_FORMATS'] ?? 'jsonb,compact').split(',') as Format[]).map((format) => ({
      format,
      writes: 'upsert',
    }));
const pid = (await pool.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
const ticks = (): number => {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10_000; // µs
};

const config = { notifyIntermediate: false, maxTimeline: 1 };
const ACCOUNT = 'acc_bench';
/** The three states of a message (submitted, routed, final) as the reducer makes them. */
function statesOf(id: string, i: number): MessageState[] {
  const t = Date.now();
  const events: TimelineEvent[] = [
    {
      type: 'submitted',
      hubMessageId: id,
      accountId: ACCOUNT,
      destKey: 'mccmnc:234-15',
      partsTotal: 1,
      time: t,
    },
    { type: 'routed', hubMessageId: id, connectorId: 'con_bench', time: t + 3 },
    {
      type: 'part',
      hubMessageId: id,
      partIndex: 0,
      partsTotal: 1,
      status: 'ENROUTE',
      err: '000',
      time: t + 40,
      connectorId: 'con_bench',
      supplierMessageId: (0x10000000 + i).toString(16).toUpperCase(),
      accepted: true,
      segments: 1,
    },
    {
      type: 'part',
      hubMessageId: id,
      partIndex: 0,
      partsTotal: 0,
      status: 'DELIVERED',
      err: '000',
      time: t + 2_000,
      connectorId: 'con_bench',
      supplierMessageId: (0x10000000 + i).toString(16).toUpperCase(),
      fromReceipt: true,
      doneAt: t + 1_000,
    },
  ];
  const out: MessageState[] = [];
  let s: MessageState | undefined;
  for (const e of events) {
    s = applyEvent(s, e, config).state;
    out.push(s);
  }
  return [out[0]!, out[1]!, out[3]!];
}

type Format = 'jsonb' | 'compact';
type Writes = 'upsert' | 'split';
interface Variant {
  format: Format;
  writes: Writes;
}
function row(id: string, ctx: Buffer, state: MessageState, revision: number, format: Format): unknown[] {
  const now = Date.now();
  return [
    id,
    ACCOUNT,
    '',
    '',
    '447700900123',
    toProtoStatus(state.status),
    state.finalNotified,
    'con_bench',
    state.partsTotal,
    state.parts.filter((p) => p.status === 'DELIVERED').length,
    1,
    revision,
    new Date(state.submittedAt ?? now),
    state.finalNotified ? new Date(now) : null,
    // as expiryDeadline: from the submit time, so the routed update leaves the indexed column alone (HOT)
    state.finalNotified ? null : new Date((state.submittedAt ?? now) + 48 * 3_600_000),
    new Date(now),
    ctx,
    format === 'jsonb' ? JSON.stringify(state) : null,
    format === 'jsonb' ? null : packState(state, ACCOUNT),
  ];
}

async function load(ids: string[]): Promise<number> {
  const res = await pool.query<{ message_id: string; account_id: string; state: StoredState }>(
    `SELECT message_id, account_id, context, ${STORED_STATE} AS state, revision
       FROM dlr_messages WHERE message_id = ANY($1::uuid[])`,
    [ids],
  );
  let parts = 0;
  for (const r of res.rows) parts += unpackState(r.state, r.message_id, r.account_id).parts.length;
  return parts;
}

async function messages({ format, writes }: Variant): Promise<void> {
  for (let b = 0; b < BATCHES; b++) {
    const ids = Array.from({ length: BATCH }, () => randomUUID());
    const states = ids.map((id, i) => statesOf(id, b * BATCH + i));
    const ctx = ids.map((id) =>
      Buffer.from(
        MessageContext.encode(
          MessageContext.fromPartial({
            messageId: id,
            accountId: ACCOUNT,
            destination: { ton: 1, npi: 1, address: '447700900123' },
            receivedAt: new Date(),
            destinationInfo: { mcc: '234', mnc: '15', matchedPrefix: '4477' },
          }),
        ).finish(),
      ),
    );
    for (let step = 0; step < 3; step++) {
      if (step > 0) await load(ids);
      const rows = ids.map((id, i) => row(id, ctx[i]!, states[i]![step]!, step === 2 ? 1 : 0, format));
      if (writes === 'upsert' || step === 0) {
        await insertUnnest(
          pool,
          'dlr_messages',
          MESSAGE_COLUMNS,
          rows,
          writes === 'upsert' ? MESSAGE_UPSERT : '',
        );
      } else {
        const { text, values } = unnestUpdate('dlr_messages', MESSAGE_COLUMNS, rows);
        await pool.query(text, values);
      }
    }
  }
}

const n = BATCH * BATCHES;
async function walLsn(): Promise<number> {
  const r = await pool.query<{ b: string }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS b`,
  );
  return Number(r.rows[0]!.b);
}
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const variant of order) {
    await pool.query('TRUNCATE dlr_messages');
    const c0 = process.cpuUsage();
    const p0 = ticks();
    const w0 = await walLsn();
    await messages(variant);
    const c = process.cpuUsage(c0);
    const p = ticks() - p0;
    const wal = (await walLsn()) - w0;
    const hot = await pool.query<{ upd: string; hot: string }>(
      `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'dlr_messages'`,
    );
    const size = await pool.query<{ row: number; state: number }>(
      `SELECT avg(pg_column_size(m.*))::int AS row,
              avg(coalesce(pg_column_size(m.state_json), pg_column_size(m.state)))::int AS state FROM dlr_messages m`,
    );
    const s = size.rows[0];
    console.log(
      `round ${round + 1} ${variant.format.padEnd(8)} ${variant.writes.padEnd(6)} client ${((c.user + c.system) / n).toFixed(1)} µs/msg, ` +
        `backend ${(p / n).toFixed(1)} µs/msg (1 insert + 2 loads + 2 updates), WAL ${(wal / n).toFixed(0)} B/msg, row ${s?.row} B, state ${s?.state} B; ` +
        `updates so far ${hot.rows[0]?.upd}, HOT ${hot.rows[0]?.hot}`,
    );
  }
}
await pool.end();
await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
await admin.end();
await rm(migrations, { recursive: true, force: true });
