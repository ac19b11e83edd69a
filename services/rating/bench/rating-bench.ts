// Benchmark: pure rating decisions per second with 100,000 rates.
// Run: npx tsx services/rating/bench/rating-bench.ts [lookups]
// Prints figures; not a test, never gates CI. Bounded: default 200,000 decisions per phase.

import { performance } from 'node:perf_hooks';
import { FxTable } from '../src/domain/fx.js';
import { decideRating } from '../src/domain/idempotency.js';
import type { RatingContext } from '../src/domain/pricing.js';
import { RateIndex } from '../src/domain/rates.js';
import type { Outcome, RateRecord, RatingEvent } from '../src/domain/types.js';

const RATES = 100_000;
const N = Number(process.argv[2] ?? 200_000);

// deterministic xorshift PRNG
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
}
const int = (n: number): number => Math.floor(rnd() * n);

const countryCodes = [
  '1',
  '7',
  '20',
  '27',
  '30',
  '31',
  '33',
  '34',
  '39',
  '44',
  '49',
  '52',
  '55',
  '61',
  '62',
  '63',
  '81',
  '86',
  '90',
  '91',
  '234',
  '254',
  '351',
  '380',
  '880',
  '966',
  '971',
];
function prefix(): string {
  const cc = countryCodes[int(countryCodes.length)] ?? '1';
  let p = cc;
  const extra = 1 + int(5);
  for (let i = 0; i < extra; i++) p += String(int(10));
  return p;
}

const rates: RateRecord[] = [];
const plans = 20;
const connectors = 50;
for (let i = 0; i < RATES; i++) {
  const sell = i % 2 === 0;
  const owner = sell
    ? { kind: 'plan' as const, id: `plan${int(plans)}` }
    : { kind: 'connector' as const, id: `conn${int(connectors)}` };
  const r: RateRecord = {
    rateId: `r${i}`,
    owner,
    match:
      i % 10 === 0
        ? { kind: 'mccmnc', mccMnc: String(20000 + int(80000)) }
        : { kind: 'prefix', prefix: prefix() },
    price: {
      amount: BigInt(1000 + int(90_000)),
      scale: 6,
      currency: sell ? 'EUR' : i % 3 === 0 ? 'USD' : 'EUR',
    },
    effectiveFrom: int(3) * 86_400_000,
  };
  rates.push(r);
}
for (let p = 0; p < plans; p++) {
  for (const cc of countryCodes) {
    rates.push({
      rateId: `d${p}-${cc}`,
      owner: { kind: 'plan', id: `plan${p}` },
      match: { kind: 'prefix', prefix: cc },
      price: { amount: 50_000n, scale: 6, currency: 'EUR' },
      effectiveFrom: 0,
    });
  }
}
for (let c = 0; c < connectors; c++) {
  for (const cc of countryCodes) {
    rates.push({
      rateId: `b${c}-${cc}`,
      owner: { kind: 'connector', id: `conn${c}` },
      match: { kind: 'prefix', prefix: cc },
      price: { amount: 20_000n, scale: 6, currency: 'EUR' },
      effectiveFrom: 0,
    });
  }
}

const t0 = performance.now();
const index = new RateIndex(rates);
const buildMs = performance.now() - t0;
const fx = new FxTable([{ id: 'usd', from: 'USD', to: 'EUR', rate: '0.92', effectiveFrom: 0 }]);

const outcomes: Outcome[] = ['SUBMITTED', 'DELIVERED', 'UNDELIVERABLE', 'EXPIRED'];
const events: RatingEvent[] = [];
const contexts: RatingContext[] = [];
for (let i = 0; i < 10_000; i++) {
  let msisdn = prefix();
  while (msisdn.length < 12) msisdn += String(int(10));
  const ev: RatingEvent = {
    hubMessageId: `h${i}`,
    accountId: 'acc',
    connectorId: `conn${int(connectors)}`,
    destination: { msisdn, ...(i % 4 === 0 ? { mccMnc: String(20000 + int(80000)) } : {}) },
    segments: 1 + int(3),
    outcome: outcomes[int(outcomes.length)] ?? 'DELIVERED',
    submitTime: 4 * 86_400_000,
    eventTime: 4 * 86_400_000 + 5_000,
  };
  events.push(ev);
  contexts.push({
    rates: index,
    fx,
    account: {
      accountId: 'acc',
      planId: `plan${int(plans)}`,
      currency: 'EUR',
      chargeOn: i % 2 === 0 ? 'submit' : 'delivery',
    },
    supplier: { connectorId: ev.connectorId ?? '', buyChargeOn: 'submit' },
  });
}

function phase(name: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 5_000; i++) fn(i); // warm-up
  const start = performance.now();
  let sink = 0;
  for (let i = 0; i < N; i++) if (fn(i) !== undefined) sink++;
  const ms = performance.now() - start;
  console.log(
    `${name.padEnd(34)} ${N.toLocaleString('en')} in ${ms.toFixed(0)} ms = ${Math.round((N / ms) * 1000).toLocaleString('en')}/s (${sink.toLocaleString('en')} non-empty)`,
  );
}

console.log(
  `rates indexed: ${index.size.toLocaleString('en')} in ${buildMs.toFixed(0)} ms; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
);
phase('sell rate lookups', (i) => {
  const e = events[i % events.length] as RatingEvent;
  return index.selectSell('acc', `plan${i % plans}`, e.destination, e.submitTime);
});
phase('full rating decisions (price+fx)', (i) => {
  const k = i % events.length;
  const d = decideRating(undefined, events[k] as RatingEvent, contexts[k] as RatingContext);
  return d.action === 'emit' ? d : undefined;
});
