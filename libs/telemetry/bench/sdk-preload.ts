// Preload (not a test) for before/after pairs of what the OpenTelemetry SDK costs a service's component
// benchmark (entry O1 in docs/performance.md). Add to the node arguments of the process that runs the
// service, e.g.
//   O1_TELEMETRY=sdk npx tsx --conditions=@smshub/source --import ./libs/telemetry/bench/sdk-preload.ts \
//     services/dlr/bench/pipeline-bench.ts 6000 paced 600
// O1_TELEMETRY=none: prom-client's default metrics only (what startTelemetry adds besides the SDK);
// sdk: startTelemetry with no exporter (as every service runs without OTEL_EXPORTER_OTLP_ENDPOINT), then
// one withSpan with no trace, as a config record's handler runs in the hub (every service but dlr reads
// config changes from the beginning of their topic with a record handler).
// O1_COUNT=1: prints every 5 s how many promises the process created a second (a V8 promise hook: what
// Node's async hooks pay for, once the context manager has entered a context), to divide by the rate.
// O1_MAIN: only in the process whose main script's path ends with it (children that inherit the
// preload from fork's execArgv skip it).
import { promiseHooks } from 'node:v8';
import { enableDefaultMetrics, startTelemetry, withSpan } from '../src/index.js';

const mode = process.env['O1_TELEMETRY'] ?? 'none';
const main = process.env['O1_MAIN'];
if (!main || process.argv[1]?.endsWith(main)) {
  if (mode === 'sdk') {
    startTelemetry({ serviceName: 'o1-bench' });
    await withSpan('config record', () => undefined);
  } else enableDefaultMetrics();
  if (process.env['O1_COUNT'] === '1') {
    let n = 0;
    promiseHooks.onInit(() => void n++);
    let last = 0;
    setInterval(() => {
      console.error(`o1 promises/s ${(n - last) / 5}`);
      last = n;
    }, 5000).unref();
  }
}
