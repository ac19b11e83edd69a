// Benchmark: correlator throughput (submitted + dispatch + receipt per message, hex/decimal id variants).
// Run: npx tsx services/dlr/bench/correlator-bench.ts [messages]
// Prints figures; not a test. Bounded: default 50,000 messages.

import { performance } from 'node:perf_hooks';
import { Correlator } from '../src/domain/correlator.js';

const N = Number(process.argv[2] ?? 50_000);
const c = new Correlator({ idSetting: () => ({ format: 'hex' }) });
const T0 = Date.UTC(2026, 0, 1);

const start = performance.now();
let finals = 0;
for (let i = 0; i < N; i++) {
  const id = (0x10000000 + i).toString(16).toUpperCase();
  c.onEvent({ type: 'submitted', hubMessageId: `m${i}`, partsTotal: 1, time: T0 + i });
  c.onDispatch({
    hubMessageId: `m${i}`,
    partIndex: 0,
    partsTotal: 1,
    connectorId: 'c1',
    attempt: 1,
    supplierMessageId: id,
    smppStatus: 0,
    accepted: true,
    finalFailure: false,
    time: T0 + i,
  });
  const text = `id:${BigInt(`0x${id}`).toString(10)} sub:001 dlvrd:001 submit date:2601010000 done date:2601010001 stat:DELIVRD err:000 text:`;
  for (const o of c.onReceipt({ connectorId: 'c1', text, receivedAt: T0 + i + 2_000 })) {
    if (o.type === 'delivery' && o.notification.final) finals++;
  }
}
const ms = performance.now() - start;
console.log(
  `${N.toLocaleString('en')} messages (3 events each) in ${ms.toFixed(0)} ms = ${Math.round((N / ms) * 1000).toLocaleString('en')} messages/s; finals ${finals.toLocaleString('en')}; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
);
const sweepStart = performance.now();
c.sweep(T0 + N + 3_000);
console.log(
  `sweep over ${c.size.messages.toLocaleString('en')} messages in ${(performance.now() - sweepStart).toFixed(0)} ms`,
);
