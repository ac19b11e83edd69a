// CPU of turning one CDR transaction's columns into statement parameters: JavaScript arrays that pg turns
// into array text itself (prepareValue, element by element: how cdr-store.ts did it before session 7)
// against libs/db's arrayLiteral (one pass per column, as it does now). Only the client side: PostgreSQL
// parses the same text either way. No I/O.
// Run: npx tsx --conditions=@smshub/source services/rating/bench/array-params-bench.ts [rows=1500] [rounds=200]
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { arrayLiteral } from '@smshub/db';

const rows = Number(process.argv[2] ?? 1_500);
const rounds = Number(process.argv[3] ?? 200);
// pg's own conversion of a parameter (what client.query applies to each value); the module has no types.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (v: unknown) => unknown;
};

const cdrs = Array.from({ length: rows }, (_, i) => ({
  hubMessageId: randomUUID(),
  accountId: `acc_${i % 7}`,
  connectorId: `con_${i % 3}`,
  supplierId: `sup_${i % 3}`,
  country: 'GB',
  mccMnc: '23415',
  segments: 1 + (i % 3),
  outcome: 'DELIVERED',
  status: 'RATED_STATUS_RATED',
  billedOn: i % 2 ? 'submit' : 'final',
  sellMinor: 3_450n + BigInt(i),
  sellCurrency: 'EUR',
  sellCharged: true,
  sellRateId: `rate_${i % 50}`,
  buyMinor: 2_100n,
  buyCurrency: 'EUR',
  buyCharged: i % 5 !== 0,
  buyRateId: `brate_${i % 40}`,
  marginMinor: i % 9 ? 1_350n : null,
  submittedAt: new Date(Date.now() - i),
  ratedAt: new Date(),
}));
type Cdr = (typeof cdrs)[number];

function before(): unknown[] {
  const params: unknown[] = [
    cdrs.map((r) => r.hubMessageId),
    cdrs.map((r) => r.accountId),
    cdrs.map((r) => r.connectorId),
    cdrs.map((r) => r.supplierId),
    cdrs.map((r) => r.country),
    cdrs.map((r) => r.mccMnc),
    cdrs.map((r) => r.segments),
    cdrs.map((r) => r.outcome),
    cdrs.map((r) => r.status),
    cdrs.map((r) => r.billedOn),
    cdrs.map((r) => r.sellMinor.toString()),
    cdrs.map((r) => r.sellCurrency),
    cdrs.map((r) => r.sellCharged),
    cdrs.map((r) => r.sellRateId),
    cdrs.map((r) => r.buyMinor.toString()),
    cdrs.map((r) => r.buyCurrency),
    cdrs.map((r) => r.buyCharged),
    cdrs.map((r) => r.buyRateId),
    cdrs.map((r) => (r.marginMinor === null ? null : r.marginMinor.toString())),
    cdrs.map((r) => r.submittedAt.toISOString()),
    cdrs.map((r) => r.ratedAt.toISOString()),
  ];
  return params.map(prepareValue);
}

function after(): unknown[] {
  const col = (get: (r: Cdr) => string | number | bigint | boolean | null) => arrayLiteral(cdrs, get);
  const params: unknown[] = [
    col((r) => r.hubMessageId),
    col((r) => r.accountId),
    col((r) => r.connectorId),
    col((r) => r.supplierId),
    col((r) => r.country),
    col((r) => r.mccMnc),
    col((r) => r.segments),
    col((r) => r.outcome),
    col((r) => r.status),
    col((r) => r.billedOn),
    col((r) => r.sellMinor),
    col((r) => r.sellCurrency),
    col((r) => r.sellCharged),
    col((r) => r.sellRateId),
    col((r) => r.buyMinor),
    col((r) => r.buyCurrency),
    col((r) => r.buyCharged),
    col((r) => r.buyRateId),
    col((r) => r.marginMinor),
    col((r) => r.submittedAt.toISOString()),
    col((r) => r.ratedAt.toISOString()),
  ];
  return params.map(prepareValue); // a string: passed through as it is
}

function measure(f: () => unknown[]): number {
  const t = process.cpuUsage();
  for (let i = 0; i < rounds; i++) f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / (rounds * rows);
}

for (let i = 0; i < 3; i++) {
  measure(before);
  measure(after);
}
const b: number[] = [];
const a: number[] = [];
for (let i = 0; i < 5; i++) {
  b.push(measure(before));
  a.push(measure(after));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
console.log(`CPU-µs per CDR (21 array columns, ${rows} rows per statement), 5 alternated rounds each:`);
console.log(`  pg arrays:     ${b.map((v) => v.toFixed(2)).join(', ')} (median ${median(b).toFixed(2)})`);
console.log(`  arrayLiteral:  ${a.map((v) => v.toFixed(2)).join(', ')} (median ${median(a).toFixed(2)})`);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
