// Benchmark: the CPU of turning a batch's message rows and timeline rows into insertUnnest's array
// parameters, as pg sends them: JS arrays that pg converts element by element (prepareValue ->
// arrayString -> escapeElement) versus the array literals sql.ts builds itself (libs/db `arrayLiteral`),
// which pg passes through; and those literals as libs/db built them before session 10 (concatenated element by
// element, a rope) and now (joined). Each literal is measured with Buffer.byteLength, which flattens it as
// pg's write does. Pure CPU in this process, no database; rounds alternated, medians printed.
// Run: npx tsx --conditions=@smshub/source services/dlr/bench/array-literal-bench.ts [rounds=9] [rows=300]
// Prints figures; not a test.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { arrayLiteral, type ArrayElement } from '@smshub/db';

const rounds = Number(process.argv[2] ?? 9);
const perBatch = Number(process.argv[3] ?? 300);
const batches = 200;
// pg's own conversion of a query parameter (not part of its typed API)
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (v: unknown) => unknown;
};

// The scalar columns of dlr_messages and dlr_timeline (the bytea/jsonb ones travel packed either way).
function messageRow(i: number): unknown[] {
  return [
    randomUUID(),
    'acc_bench',
    'sys_bench',
    `cust-${i}`,
    `4477009${String(i).padStart(5, '0')}`,
    2,
    true,
    'con_bench',
    1,
    1,
    1,
    1,
    new Date(),
    new Date(),
    null,
    new Date(),
  ];
}
function timelineRow(i: number): unknown[] {
  return [randomUUID(), `dispatch/0/1/con_bench`, 'sms.dispatched.v1', 'dispatched', new Date(1e12 + i), 4];
}
const sets = [
  Array.from({ length: batches }, () => Array.from({ length: perBatch }, (_, i) => messageRow(i))),
  Array.from({ length: batches }, () => Array.from({ length: perBatch }, (_, i) => timelineRow(i))),
];

/** pg's way: one JS array per column, converted by pg's prepareValue. */
function viaPg(rows: unknown[][]): number {
  let n = 0;
  const columns = rows[0]?.length ?? 0;
  for (let c = 0; c < columns; c++) {
    const arr = rows.map((row) => (row[c] instanceof Date ? (row[c] as Date).toISOString() : row[c]));
    n += String(prepareValue(arr)).length;
  }
  return n;
}
/** sql.ts's way: the literal built here; pg passes a string through (and measures it, flattening it). */
function viaLiteral(rows: unknown[][]): number {
  let n = 0;
  const columns = rows[0]?.length ?? 0;
  for (let c = 0; c < columns; c++)
    n += Buffer.byteLength(String(prepareValue(arrayLiteral(rows, (row) => row[c] as ArrayElement))));
  return n;
}

/** libs/db's arrayLiteral before session 10: concatenated element by element (a rope pg's write flattens). */
function concatenatedLiteral(rows: unknown[][], c: number): string {
  const element = (v: unknown): string => {
    if (typeof v === 'string')
      return v.indexOf('"') < 0 && v.indexOf('\\') < 0
        ? `"${v}"`
        : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'boolean') return v ? 't' : 'f';
    if (v === null || v === undefined) return 'NULL';
    return (v as Date).toISOString();
  };
  let s = '{' + element(rows[0]?.[c]);
  for (let i = 1; i < rows.length; i++) s += ',' + element(rows[i]?.[c]);
  return s + '}';
}
function viaConcatenated(rows: unknown[][]): number {
  let n = 0;
  const columns = rows[0]?.length ?? 0;
  for (let c = 0; c < columns; c++)
    n += Buffer.byteLength(String(prepareValue(concatenatedLiteral(rows, c))));
  return n;
}

function time(f: (rows: unknown[][]) => number): number {
  const t0 = performance.now();
  let sink = 0;
  for (const set of sets) for (const rows of set) sink += f(rows);
  if (sink === 0) throw new Error('nothing built');
  return ((performance.now() - t0) * 1000) / (batches * perBatch * 2); // µs per row (message + timeline)
}

const results: Record<'pg arrays' | 'literals, concatenated' | 'literals', number[]> = {
  'pg arrays': [],
  'literals, concatenated': [],
  literals: [],
};
for (let r = 0; r < rounds + 1; r++) {
  const a = time(viaPg);
  const b = time(viaConcatenated);
  const c = time(viaLiteral);
  if (r === 0) continue; // warm-up
  results['pg arrays'].push(a);
  results['literals, concatenated'].push(b);
  results.literals.push(c);
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
console.log(
  `${rounds} alternated rounds of ${batches} batches x ${perBatch} rows (message + timeline scalar columns)`,
);
for (const [k, xs] of Object.entries(results))
  console.log(
    `${k.padEnd(22)} median ${median(xs).toFixed(2)} µs per row (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`,
  );
console.log(
  `load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
