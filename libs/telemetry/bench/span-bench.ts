// Benchmark (not a test): what tracing costs per record in a process that exports nothing (entry O1 in
// docs/performance.md). Run:
//   npx tsx --conditions=@smshub/source libs/telemetry/bench/span-bench.ts [none|sdk] [records=200000]
// none: no SDK (the API's no-op context manager); sdk: startTelemetry with no exporter, as the services run.
// Prints CPU-ns per record (per call for promises) of
//   record   extractTraceContext + withSpan around an async handler with three awaits + injectTraceHeaders
//            of the active context, headers without a trace (the hub without an exporter);
//   traced   the same with a traceparent header on every record (a trace from a service that exports);
//   promises an async function with three awaits, no span (8 promises a call as a V8 promise hook counts
//            them): what every promise of the process pays once the AsyncLocalStorage context manager has
//            entered a context (Node's async hooks stay on from then on).
import { loadavg } from 'node:os';
import { extractTraceContext, injectTraceHeaders, startTelemetry, withSpan } from '../src/index.js';

const mode = process.argv[2] ?? 'sdk';
const N = Number(process.argv[3] ?? 200_000);
if (mode === 'sdk') startTelemetry({ serviceName: 'span-bench' });

async function work(): Promise<number> {
  let n = 0;
  for (let i = 0; i < 3; i++) n += await Promise.resolve(i);
  return n;
}

const empty = {};
const traced = { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') };

async function perRecord(headers: Record<string, Buffer>): Promise<void> {
  const parent = extractTraceContext(headers);
  await withSpan(
    't process',
    async () => {
      await work();
      const out: Record<string, string | Buffer | undefined> = {};
      injectTraceHeaders(out);
    },
    { parent },
  );
}

async function measure(name: string, once: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < N / 4; i++) await once(); // warm-up
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await once();
  const t = process.cpuUsage(t0);
  const per = name === 'promises' ? 'call' : 'record';
  console.log(`${mode} ${name.padEnd(8)} ${(((t.user + t.system) * 1000) / N).toFixed(0)} CPU-ns per ${per}`);
}

// promises first: in sdk mode the context manager has not entered a context yet (then again after).
await measure('promises', work);
await measure('record', () => perRecord(empty));
await measure('promises', work);
await measure('traced', () => perRecord(traced));
await measure('promises', work);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
