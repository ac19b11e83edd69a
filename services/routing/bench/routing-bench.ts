// Routing benchmark (not a test): 100,000 synthetic prefixes, 10,000 rules, ~60 firewall rules, then
// decisions/s on one core for ~5 s after a warm-up. Run: npx tsx services/routing/bench/routing-bench.ts
// Optional: BENCH_SECONDS=5 BENCH_WARMUP_SECONDS=1 BENCH_DESTINATIONS=10000. For exact table memory:
//   node --expose-gc --import tsx services/routing/bench/routing-bench.ts
//
// Destinations are libphonenumber example mobile numbers of 40 countries with random last digits (kept only
// if valid), so normalisation does its real work on every message. 5% of numbers are ported (in-memory
// lookup, answered synchronously). Rule mix: 60% account rules, 20% group rules, 20% any-account rules;
// destinations by prefix, MCC-MNC or country; some with sender, time window or traffic type; 2% blocks;
// strategies priority/weighted/least-cost/quality/score.

import { getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import {
  InMemoryPortedLookup,
  RoutingEngine,
  Ton,
  buildRoutingTables,
  normaliseDestination,
  type FirewallRule,
  type PrefixEntry,
  type QualityStats,
  type RoutingRequest,
  type RoutingRule,
  type Strategy,
  type TrafficType,
} from '../src/index.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const WARMUP = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 1);

// Deterministic PRNG (mulberry32) so runs are comparable.
let seed = 0x12345678;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
const int = (n: number) => Math.floor(rnd() * n);

const COUNTRIES: CountryCode[] = [
  'GB',
  'DE',
  'FR',
  'NG',
  'IN',
  'US',
  'ES',
  'IT',
  'NL',
  'BE',
  'PL',
  'RO',
  'PT',
  'SE',
  'NO',
  'DK',
  'FI',
  'IE',
  'AT',
  'CH',
  'BR',
  'MX',
  'AR',
  'CO',
  'ZA',
  'KE',
  'GH',
  'EG',
  'MA',
  'TR',
  'SA',
  'AE',
  'PK',
  'BD',
  'ID',
  'PH',
  'VN',
  'TH',
  'MY',
  'AU',
];

// --- numbers -------------------------------------------------------------------------------------------
const pool: Array<{ e164: string; country: string; cc: string }> = [];
for (const country of COUNTRIES) {
  const ex = getExampleNumber(country, examples);
  if (!ex) continue;
  const national = ex.nationalNumber as string;
  let made = 0;
  for (let tries = 0; made < 5_000 && tries < 40_000; tries++) {
    const keep = Math.min(2, national.length - 6); // keep the range's leading digits, vary the rest
    let digits = national.slice(0, keep);
    while (digits.length < national.length) digits += String(int(10));
    const p = parsePhoneNumberFromString(`+${ex.countryCallingCode}${digits}`);
    if (p?.isValid()) {
      pool.push({ e164: p.number, country, cc: ex.countryCallingCode as string });
      made++;
    }
  }
}

// --- prefixes: 100,000 E.164 prefixes under the countries' calling codes --------------------------------
const prefixSet = new Set<string>();
const prefixes: PrefixEntry[] = [];
const mccOf = new Map<string, string>(COUNTRIES.map((c, i) => [c, String(200 + i * 7)]));
// Prefixes of the pool's numbers first (so lookups hit deep entries), then random ones.
for (const n of pool) {
  const digits = n.e164.slice(1);
  const len = n.cc.length + 2 + int(5);
  prefixSet.add(`${digits.slice(0, len)}|${n.country}`);
  if (prefixSet.size >= 60_000) break;
}
while (prefixSet.size < 100_000) {
  const n = pick(pool);
  let p = n.cc;
  const len = n.cc.length + 1 + int(6);
  while (p.length < len) p += String(int(10));
  prefixSet.add(`${p}|${n.country}`);
}
const seenPrefix = new Set<string>();
for (const s of prefixSet) {
  const [prefix, country] = s.split('|') as [string, string];
  if (seenPrefix.has(prefix)) continue;
  seenPrefix.add(prefix);
  prefixes.push({
    prefix,
    country,
    mcc: mccOf.get(country as CountryCode) ?? '999',
    mnc: String(int(40)).padStart(2, '0'),
    operator: `op-${country}-${prefixes.length % 7}`,
  });
}

// --- connectors, rates, quality ----------------------------------------------------------------------------
const connectors = Array.from({ length: 60 }, (_, i) => ({ id: `conn-${i}`, enabled: i % 29 !== 7 }));
const connectorIds = connectors.map((c) => c.id);
const quality = new Map<string, QualityStats>();
const buyRate = (connectorId: string, _e164: string, mccMnc: string | undefined) => {
  const h =
    (connectorId.length * 7919 +
      (mccMnc ? mccMnc.charCodeAt(0) * 31 + mccMnc.charCodeAt(mccMnc.length - 1) : 3)) %
    97;
  if (h === 13) return null;
  return { amountMinor: BigInt(2_000 + h * 113), currency: h % 3 === 0 ? 'USD' : 'EUR' };
};
const qualityLookup = (connectorId: string, key: string): QualityStats | null => {
  const k = `${connectorId}|${key}`;
  let q = quality.get(k);
  if (!q) {
    const h = (connectorId.charCodeAt(connectorId.length - 1) * 131 + key.charCodeAt(key.length - 1)) % 100;
    q = { deliveryRatio: 0.8 + h / 600, p50LatencyMs: 800 + h * 40, samples: h < 15 ? 20 : 2_000 };
    quality.set(k, q);
  }
  return q;
};

// --- rules -------------------------------------------------------------------------------------------------
const ACCOUNTS = Array.from({ length: 500 }, (_, i) => `acc-${i}`);
const GROUPS = Array.from({ length: 20 }, (_, i) => `grp-${i}`);
const TRAFFIC: TrafficType[] = ['OTP', 'TRANSACTIONAL', 'MARKETING', 'UNSPECIFIED'];
function strategy(): Strategy {
  const cs = Array.from({ length: 2 + int(3) }, () => pick(connectorIds)).filter(
    (c, i, a) => a.indexOf(c) === i,
  );
  const r = rnd();
  if (r < 0.4) return { kind: 'priority', connectors: cs };
  if (r < 0.6)
    return { kind: 'weighted', split: cs.map((c, i) => ({ connectorId: c, weight: 10 + i * 15 })) };
  if (r < 0.8) return { kind: 'least_cost', connectors: cs, currency: 'EUR' };
  if (r < 0.9) return { kind: 'best_quality', connectors: cs };
  return { kind: 'score', connectors: cs, currency: 'EUR', weights: { quality: 2, cost: 1, latency: 1 } };
}
function destination(): RoutingRule['match'] {
  const n = pick(pool);
  const r = rnd();
  if (r < 0.45) return { destinationPrefixes: [n.e164.slice(1, 1 + n.cc.length + 1 + int(4))] };
  if (r < 0.6)
    return { mccMncs: [`${mccOf.get(n.country as CountryCode)}-${String(int(40)).padStart(2, '0')}`] };
  return { countries: [n.country] };
}
const rules: RoutingRule[] = [];
for (let i = 0; i < 10_000; i++) {
  const r = rnd();
  const who = r < 0.6 ? { accountIds: [pick(ACCOUNTS)] } : r < 0.8 ? { accountGroups: [pick(GROUPS)] } : {};
  const extra: RoutingRule['match'] = {};
  const e = rnd();
  if (e < 0.03) extra.senders = [{ glob: `${String.fromCharCode(65 + int(26))}*` }];
  else if (e < 0.06)
    extra.timeWindow = {
      timeZone: 'Europe/London',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      ranges: [{ from: '08:00', to: '20:00' }],
    };
  else if (e < 0.12) extra.trafficTypes = [pick(TRAFFIC)];
  rules.push({
    id: `r${String(i).padStart(5, '0')}`,
    priority: rnd() < 0.05 ? 10 : 0,
    match: { ...who, ...destination(), ...extra },
    action:
      rnd() < 0.02 ? { kind: 'block', reason: 'blocked by policy' } : { kind: 'route', strategy: strategy() },
  });
}
rules.push({
  id: 'zz-default',
  priority: -1,
  match: {},
  action: {
    kind: 'route',
    strategy: { kind: 'least_cost', connectors: connectorIds.slice(0, 4), currency: 'EUR' },
  },
});

// --- firewall ------------------------------------------------------------------------------------------------
const firewall: FirewallRule[] = [
  { id: 'fw-premium', kind: 'premium_range', prefixes: ['4490', '4491', '4487', '3389', '4990', '1900'] },
  {
    id: 'fw-block',
    kind: 'destination_block',
    prefixes: Array.from({ length: 200 }, () => pick(pool).e164.slice(1)),
  },
  {
    id: 'fw-kw',
    kind: 'keyword',
    keywords: ['casino', 'free money', 'lottery winner', 'crypto giveaway', 'loan approved'],
  },
  { id: 'fw-rx', kind: 'content_regex', pattern: '\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b' },
  { id: 'fw-short', kind: 'url_shortener' },
  {
    id: 'fw-deny',
    kind: 'sender_deny',
    patterns: [{ glob: 'PAYPAL*' }, { glob: '*BANK-ALERT*' }, { regex: '^amaz0n' }],
  },
  {
    id: 'fw-in',
    kind: 'sender_allow',
    senderKind: 'alphanumeric',
    patterns: [{ glob: '??-*' }],
    scope: { countries: ['IN'] },
  },
  { id: 'fw-dup', kind: 'duplicate', windowSeconds: 60 },
  { id: 'fw-v-acc', kind: 'velocity_account', limit: 1_000_000, windowSeconds: 1 },
  {
    id: 'fw-v-prefix',
    kind: 'velocity_prefix',
    prefixes: ['44', '49', '33', '234', '91', '1'],
    limit: 1_000_000,
    windowSeconds: 1,
  },
  { id: 'fw-seq', kind: 'sequential_burst', count: 20, windowSeconds: 10, varyingDigits: 2 },
];
for (let i = 0; i < 50; i++)
  firewall.push({
    id: `fw-s-${i}`,
    kind: 'sender_deny',
    patterns: [{ glob: `SPAM${i}*` }],
    scope: { countries: [pick(COUNTRIES)] },
  });

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage();
const t0 = performance.now();
const tables = buildRoutingTables({
  version: 'bench',
  prefixes,
  rules,
  firewall,
  connectors,
  fxRates: [{ from: 'USD', to: 'EUR', rate: '0.92' }],
  buyRate,
  quality: qualityLookup,
  accountCountry: ACCOUNTS.map((a, i) => [a, COUNTRIES[i % COUNTRIES.length] as string]),
});
const buildMs = performance.now() - t0;
gc?.();
const heapTables = process.memoryUsage();
const ported = new InMemoryPortedLookup(
  pool
    .filter((_, i) => i % 20 === 0)
    .map((n) => ({ e164: n.e164, mccMnc: `${mccOf.get(n.country as CountryCode)}-99` })),
);
const engine = new RoutingEngine(tables, { lookup: ported });

// --- messages ----------------------------------------------------------------------------------------------
// About 5% of texts and 4% of senders trip the firewall, as a spam-ish share of wholesale traffic.
const CLEAN_TEXTS = [
  'Your code is %',
  'Order % has shipped',
  'Meeting at % today',
  'Balance: % EUR',
  'Your taxi % is outside',
];
const BAD_TEXTS = ['Win at the casino %', 'See https://bit.ly/% now'];
const SENDERS = ['ACME', 'AX-ACME', 'MyShop', '447400000001', 'Delivery', 'JM-BANK', '4915100000000'];
const requests: RoutingRequest[] = [];
// BENCH_DESTINATIONS=N draws the destinations from the first N numbers of the pool only (traffic that
// repeats destinations, as campaigns and OTP do); by default nearly every decision sees a new number.
const DESTINATIONS = Math.min(pool.length, Number(process.env['BENCH_DESTINATIONS'] ?? pool.length));
for (let i = 0; i < 200_000; i++) {
  const n = pool[int(DESTINATIONS)] as (typeof pool)[number];
  const acc = int(ACCOUNTS.length);
  const sender = rnd() < 0.04 ? 'PAYPAL' : pick(SENDERS);
  requests.push({
    hubMessageId: '',
    accountId: ACCOUNTS[acc] as string,
    accountGroup: GROUPS[acc % GROUPS.length] as string,
    sourceAddr: sender,
    sourceTon: /^\d+$/.test(sender) ? Ton.INTERNATIONAL : Ton.ALPHANUMERIC,
    sourceNpi: 1,
    destinationAddr: n.e164.slice(1),
    destTon: rnd() < 0.8 ? Ton.INTERNATIONAL : Ton.UNKNOWN,
    destNpi: 1,
    serviceType: '',
    trafficType: pick(TRAFFIC),
    text:
      rnd() < 0.02 ? null : pick(rnd() < 0.05 ? BAD_TEXTS : CLEAN_TEXTS).replace('%', String(int(1_000_000))),
    segments: 1,
    receivedAt: new Date(Date.parse('2026-07-06T10:00:00Z') + i),
  });
}

// --- run -----------------------------------------------------------------------------------------------------
const outcomes = new Map<string, number>();
let seq = 0;
async function run(
  seconds: number,
  record: boolean,
): Promise<{ count: number; elapsedMs: number; cpuUs: number; lat: Float64Array }> {
  const lat = new Float64Array(record ? 4_000_000 : 0);
  let count = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) {
      const base = requests[seq % requests.length] as RoutingRequest;
      const r = { ...base, hubMessageId: `b-${seq++}` };
      const a = process.hrtime.bigint();
      const d = await engine.decide(r);
      const b = process.hrtime.bigint();
      if (record) {
        if (count < lat.length) lat[count] = Number(b - a) / 1000;
        const key = d.kind === 'routed' ? 'routed' : d.category;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      count++;
    }
  }
  const used = process.cpuUsage(cpu);
  return {
    count,
    elapsedMs: performance.now() - start,
    cpuUs: used.user + used.system,
    lat: lat.subarray(0, Math.min(count, lat.length)),
  };
}

await run(WARMUP, false);
const res = await run(SECONDS, true);
const sorted = Float64Array.from(res.lat).sort();
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

// Normalisation alone over the same requests, for the breakdown.
let nCount = 0;
const nStart = performance.now();
while (performance.now() - nStart < 1000) {
  for (let k = 0; k < 1000; k++) {
    const r = requests[nCount++ % requests.length] as RoutingRequest;
    normaliseDestination(r.destinationAddr, r.destTon, 'GB');
  }
}
const nPerSec = nCount / ((performance.now() - nStart) / 1000);

const mem = process.memoryUsage();
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
console.log(`routing bench (Node ${process.version}, one core)`);
console.log(
  `  tables: ${tables.prefixes.size} prefixes, ${tables.rules.size} rules, ${tables.firewall.size} firewall rules, built in ${buildMs.toFixed(0)} ms`,
);
console.log(`  number pool: ${pool.length} valid numbers in ${COUNTRIES.length} countries`);
console.log(
  `  decisions: ${res.count} in ${(res.elapsedMs / 1000).toFixed(2)} s = ${Math.round(res.count / (res.elapsedMs / 1000))} decisions/s, ${(res.cpuUs / res.count).toFixed(1)} CPU-µs each (user + system, latency recording included)`,
);
console.log(
  `  latency per decision: p50 ${q(0.5).toFixed(1)} µs, p99 ${q(0.99).toFixed(1)} µs, p99.9 ${q(0.999).toFixed(1)} µs`,
);
console.log(
  `  normalisation alone (libphonenumber-js max): ${Math.round(nPerSec)} numbers/s = ${(1e6 / nPerSec).toFixed(1)} µs each`,
);
console.log(
  `  outcomes: ${[...outcomes]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((100 * v) / res.count).toFixed(1)}%`)
    .join(', ')}`,
);
console.log(
  `  tables: +${mb(heapTables.heapUsed - heapBefore.heapUsed)} heap, +${mb(heapTables.arrayBuffers - heapBefore.arrayBuffers)} array buffers${gc ? '' : ' (run with node --expose-gc for exact figures)'}`,
);
console.log(
  `  heap used at end: ${mb(mem.heapUsed)} (bench data + tables + firewall windows), array buffers ${mb(mem.arrayBuffers)}, rss ${mb(mem.rss)}`,
);
