// Benchmark: the join stage's in-memory cache (the Correlator as Joiner configures it: up to
// DLR_MAX_MESSAGES_IN_MEMORY messages, final ones kept 10 minutes) over a steady flow of dispatch +
// receipt per message, in batches of 500 as the consumer hands them over. `keep` is the cache before
// session 7 (final messages stay until evicted for room); `forget` drops a message once its parts are
// final, at the end of its batch (Joiner's CACHE_IN_FLIGHT). Prints the CPU per message (GC included),
// the live heap after a full GC and the messages held. Run one mode per process, alternated, with the
// deployments' heap cap:
//   node --expose-gc --max-old-space-size=192 --import tsx services/dlr/bench/join-cache-bench.ts keep 100000
// Prints figures; not a test.
import { performance } from 'node:perf_hooks';
import { Correlator } from '../src/domain/correlator.js';
import { MAX_MESSAGES_IN_MEMORY_DEFAULT } from '../src/config.js';

const mode = process.argv[2] === 'forget' ? 'forget' : 'keep';
const N = Number(process.argv[3] ?? 100_000);
const BATCH = 500;
/** Receipts arrive this many messages after their dispatch (~2 s at 600 messages/s). */
const LAG = 1_200;
const c = new Correlator({
  idSetting: () => ({ format: 'auto' }),
  notifyIntermediate: false,
  expire: false,
  reportMatches: true,
  retainFinalMs: 10 * 60_000,
  maxMessages: MAX_MESSAGES_IN_MEMORY_DEFAULT,
  maxTimeline: 1,
});
const T0 = Date.now();
const gc = (globalThis as { gc?: () => void }).gc;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let finals = 0;
for (let b = 0; b < N + LAG; b += BATCH) {
  // a batch of dispatches, then a batch of receipts of the dispatches LAG messages earlier
  for (let i = b; i < Math.min(b + BATCH, N); i++) {
    c.onDispatch({
      hubMessageId: `0193${String(i).padStart(28, '0')}`,
      partIndex: 0,
      partsTotal: 1,
      connectorId: 'con_bench',
      attempt: 1,
      supplierMessageId: (0x10000000 + i).toString(16).toUpperCase(),
      smppStatus: 0,
      accepted: true,
      finalFailure: false,
      time: T0 + i,
    });
  }
  const joined = new Set<string>();
  for (let i = b - LAG; i < b - LAG + BATCH; i++) {
    if (i < 0 || i >= N) continue;
    const decimal = String(0x10000000 + i);
    const outs = c.onReceipt({
      connectorId: 'con_bench',
      receivedAt: T0 + i + 2_000,
      text: `id:${decimal} sub:001 dlvrd:001 submit date:2611220700 done date:2611220701 stat:DELIVRD err:000`,
    });
    for (const o of outs) {
      if (o.type === 'matched') joined.add(o.hubMessageId);
      if (o.type === 'delivery' && o.notification.final) finals++;
    }
  }
  if (mode === 'forget') c.forgetFinal(joined);
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
gc?.();
const m = process.memoryUsage();
const mb = (n: number): string => (n / 2 ** 20).toFixed(0);
console.log(
  `${mode}: ${N} messages, ${finals} finals; CPU ${(((cpu.user + cpu.system) / N) * 1).toFixed(1)} µs per message ` +
    `(wall ${wall.toFixed(0)} ms); held ${c.size.messages} messages, ${c.size.indexKeys} index keys; ` +
    `heap after GC ${gc ? mb(m.heapUsed) : '?'} MB used, ${mb(m.heapTotal)} MB total; RSS ${mb(m.rss)} MB`,
);
