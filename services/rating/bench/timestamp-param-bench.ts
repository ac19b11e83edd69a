// The CDR insert's submit times: ISO strings (Date.toISOString per row, parsed by PostgreSQL as timestamptz
// text; before session 14) against epoch milliseconds (digits, made timestamptz by the statement:
// 'epoch' + ms * 1 millisecond; now). Client: the column's array literal built either way (no I/O). Server:
// the column unnested and converted either way by one backend, its CPU from /proc (PostgreSQL on this
// machine; needs DATABASE_URL). Both alternated round by round; also checks the two give the same instants.
// Prints figures; not a test.
// Run: npx tsx --conditions=@smshub/source services/rating/bench/timestamp-param-bench.ts [rows=2000] [rounds=10]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { arrayLiteral } from '@smshub/db';

const rows = Number(process.argv[2] ?? 2_000);
const rounds = Number(process.argv[3] ?? 10);
const CLIENT_REPEAT = 200;
const SERVER_REPEAT = 20;
const url = process.env['DATABASE_URL'];
if (!url) throw new Error('DATABASE_URL is required');

const base = Date.now();
const cdrs = Array.from({ length: rows }, (_, i) => ({ submittedAt: new Date(base - i * 37) }));
const iso = (): string => arrayLiteral(cdrs, (r) => r.submittedAt.toISOString());
const millis = (): string => arrayLiteral(cdrs, (r) => r.submittedAt.getTime());
const ISO_SQL = 'SELECT count(t) FROM unnest($1::timestamptz[]) AS t';
const MS_SQL = `SELECT count(t) FROM unnest($1::bigint[]) AS m, LATERAL (SELECT 'epoch'::timestamptz + m * interval '1 millisecond' AS t) x`;

const client = new pg.Client({ connectionString: url });
await client.connect();
const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const backendUs = (): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim().split(/\s+/);
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const same = await client.query<{ n: string }>(
  `SELECT count(*) FILTER (WHERE a = 'epoch'::timestamptz + m * interval '1 millisecond')::text AS n
     FROM unnest($1::timestamptz[], $2::bigint[]) AS u(a, m)`,
  [iso(), millis()],
);
const isoText = iso();
const msText = millis();
const total = { isoClient: 0, msClient: 0, isoServer: 0, msServer: 0 };
const load0 = loadavg();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? (['ms', 'iso'] as const) : (['iso', 'ms'] as const);
  for (const form of order) {
    const c0 = process.cpuUsage();
    let n = 0;
    for (let i = 0; i < CLIENT_REPEAT; i++) n += (form === 'iso' ? iso() : millis()).length;
    const c = process.cpuUsage(c0);
    if (n === 0) throw new Error('nothing built');
    if (form === 'iso') total.isoClient += c.user + c.system;
    else total.msClient += c.user + c.system;
    const s0 = backendUs();
    for (let i = 0; i < SERVER_REPEAT; i++)
      await client.query(form === 'iso' ? ISO_SQL : MS_SQL, [form === 'iso' ? isoText : msText]);
    if (form === 'iso') total.isoServer += backendUs() - s0;
    else total.msServer += backendUs() - s0;
  }
}
const load1 = loadavg();
await client.end();
const perRow = (us: number, repeat: number): string => (us / (rounds * repeat * rows)).toFixed(3);
console.log(
  `${rows} rows, ${rounds} alternated rounds; load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`,
);
console.log(`same instants both ways: ${same.rows[0]!.n} of ${rows}`);
console.log(
  `client, CPU-µs per row (array literal):      ISO ${perRow(total.isoClient, CLIENT_REPEAT)}, ms ${perRow(total.msClient, CLIENT_REPEAT)}`,
);
console.log(
  `PostgreSQL backend, CPU-µs per row (convert): ISO ${perRow(total.isoServer, SERVER_REPEAT)}, ms ${perRow(total.msServer, SERVER_REPEAT)}`,
);
