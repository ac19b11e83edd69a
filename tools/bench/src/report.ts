// The benchmark's result: its JSON shape, the targets of issue 17 and the markdown summary.
import type { KafkaBaseline, LagSample } from './kafka.js';
import type { ProfileSummary } from './profile.js';
import { describeStorage, type StorageInfo } from './run-info.js';

export interface Latency {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What the benchmark reads from loadgen's --out JSON. */
export interface LoadgenResult {
  messages: number;
  submitted: number;
  accepted: number;
  errors: Record<string, number>;
  submitPhaseMs: number;
  acceptedPerSecond: number;
  receipts: number;
  receiptsPerSecond: number;
  missingReceipts: number;
  unmatchedReceipts: number;
  respLatencyMs: Latency;
  receiptLatencyMs: Latency;
  cpuMs: number;
  cpuMicrosPerSubmit: number;
}

export interface PhaseResult {
  /** 'max': as fast as the windows allow (or --rate); 'half': at half the rate the first phase reached. */
  name: 'max' | 'half';
  targetRate: number;
  durationS: number;
  load: LoadgenResult;
  /** Rated records of this phase, and when the last one was seen (s since the phase started). */
  rated: number;
  ratedDoneS?: number;
  /** Rates over the measured window (after warm-up), per second. */
  window: { fromS: number; toS: number; accepted: number; receipts: number; rated: number };
}

export interface ProcessFigures {
  name: string;
  /** 'hub', 'infra' (Kafka, PostgreSQL) or 'outside' (loadgen, simulator: not the hub). */
  role: 'hub' | 'infra' | 'outside';
  cpuSeconds: number;
  cpuMicrosPerMessage: number;
  peakRssMb?: number;
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResult {
  startedAt: string;
  label?: string;
  command: string;
  /** `git rev-parse --short HEAD`, "(work tree modified)" when tracked files differ (older results: absent). */
  commit?: string;
  /** The storage the run used (older results: absent, and those ran on the fast settings). */
  storage?: StorageInfo;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; kernel: string };
  loadAverage: { before: number[]; after: number[] };
  settings: {
    binds: number;
    window: number;
    rate: number;
    durationS?: number;
    count?: number;
    warmupS: number;
    mix: string;
    partitions: number;
    replicas: Record<string, number>;
    bundles: boolean;
    logLevel: string;
    /** NODE_OPTIONS given to every hub process (--node-options). */
    nodeOptions?: string;
    /** Nice value of every hub process but ingress (--batch-nice), when not 0. */
    batchNice?: number;
  };
  phases: PhaseResult[];
  /** CPU over the full-speed phase, from the first submit_sm until its last rated record. */
  cpu: {
    windowS: number;
    messages: number;
    processes: ProcessFigures[];
    hubMicrosPerMessage: number;
    allMicrosPerMessage: number;
    /**
     * PostgreSQL's CPU in the same window by client: backends by the service that opened them, auxiliary
     * processes by role, then what exited (older results: absent).
     */
    postgresByClient?: Array<{ client: string; cpuSeconds: number; cpuMicrosPerMessage: number }>;
  };
  lag: LagSample[];
  maxLag: Record<string, number>;
  kafkaBaseline?: KafkaBaseline;
  profiles?: Record<string, ProfileSummary>;
  targets: Target[];
  notes: string[];
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/**
 * The targets of issue 17 against the measured figures: end to end >= 3,000 msg/s for 60 s, <= 700 CPU-µs
 * per message (hub + Kafka + PostgreSQL; judged on a --durable run), at half rate submit_sm_resp p99
 * <= 15 ms and submit -> receipt p99 <= 1 s, and peak RSS <= 256 MB per hub process (with the
 * deployments' heap cap: --node-options).
 */
export function evaluateTargets(
  r: Pick<BenchResult, 'phases' | 'cpu'> & Partial<Pick<BenchResult, 'settings'>>,
): Target[] {
  const max = r.phases.find((p) => p.name === 'max');
  const half = r.phases.find((p) => p.name === 'half');
  const out: Target[] = [];
  if (max) {
    const sustained = Math.min(max.window.accepted, max.window.receipts, max.window.rated);
    const len = max.window.toS - max.window.fromS;
    out.push({
      what: 'end-to-end rate (accepted, receipts and rated; the lowest) after warm-up',
      target: '>= 3,000 msg/s for 60 s',
      measured: `${fmt(sustained)} msg/s over ${fmt(len)} s`,
      met: sustained >= 3000 && len >= 60,
    });
  }
  out.push({
    what: 'CPU per message, hub processes + Kafka + PostgreSQL',
    target: '<= 700 µs',
    measured: `${fmt(r.cpu.allMicrosPerMessage)} µs`,
    met: r.cpu.allMicrosPerMessage <= 700,
  });
  if (half) {
    out.push({
      what: `submit_sm_resp p99 at half the maximum rate (${fmt(half.targetRate)} msg/s)`,
      target: '<= 15 ms',
      measured: `${fmt(half.load.respLatencyMs.p99, 1)} ms`,
      met: half.load.respLatencyMs.p99 <= 15,
    });
    const receipts = half.load.receiptLatencyMs;
    out.push({
      what: `submit_sm -> receipt p99 at half the maximum rate (${fmt(half.targetRate)} msg/s)`,
      target: '<= 1 s',
      measured:
        receipts.count > 0
          ? `${fmt(receipts.p99 / 1000, 2)} s (${fmt(half.load.missingReceipts)} missing)`
          : 'no receipts',
      met: receipts.count > 0 && half.load.missingReceipts === 0 && receipts.p99 <= 1000,
    });
  }
  const rss = r.cpu.processes.filter((p) => p.role === 'hub' && p.peakRssMb !== undefined);
  const worst = rss.reduce<ProcessFigures | undefined>(
    (a, p) => (!a || (p.peakRssMb ?? 0) > (a.peakRssMb ?? 0) ? p : a),
    undefined,
  );
  if (worst) {
    const cap = r.settings?.nodeOptions;
    out.push({
      what: `peak RSS of any hub process (${cap ? `NODE_OPTIONS ${cap}` : 'no heap cap'})`,
      target: '<= 256 MB',
      measured: `${fmt(worst.peakRssMb, 1)} MB (${worst.name})`,
      met: (worst.peakRssMb ?? 0) <= 256,
    });
  }
  return out;
}

function latencyRow(name: string, l: Latency): string {
  return `| ${name} | ${fmt(l.count)} | ${fmt(l.p50, 1)} | ${fmt(l.p95, 1)} | ${fmt(l.p99, 1)} | ${fmt(l.max, 1)} |`;
}

/** The markdown summary printed at the end and written next to the JSON. */
export function formatReport(r: BenchResult): string {
  const s = r.settings;
  const lines: string[] = [
    `# smshub end-to-end benchmark, ${r.startedAt}${r.label ? ` (${r.label})` : ''}`,
    '',
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${fmt(r.machine.memoryGb, 1)} GB, node ${r.machine.node}, Linux ${r.machine.kernel}.`,
    `Load average before ${r.loadAverage.before.map((x) => x.toFixed(2)).join(' ')}, after ${r.loadAverage.after.map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    `Command: \`${r.command}\`${r.commit ? `, commit ${r.commit}` : ''}.`,
    '',
    ...(r.storage ? [`Storage: ${describeStorage(r.storage)}.`, ''] : []),
    `Settings: ${s.binds} binds × window ${s.window}, ${s.rate > 0 ? `${fmt(s.rate)} msg/s` : 'as fast as possible'}, ` +
      `${s.count !== undefined ? `${fmt(s.count)} messages` : `${fmt(s.durationS)} s`} (first ${fmt(s.warmupS)} s warm-up), mix ${s.mix}, ` +
      `${s.partitions} partitions, replicas ${
        Object.entries(s.replicas)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || 'one each'
      }, ${s.bundles ? 'esbuild bundles' : 'TypeScript sources (tsx)'}, LOG_LEVEL=${s.logLevel}` +
      `${s.nodeOptions ? `, NODE_OPTIONS=${s.nodeOptions}` : ''}` +
      `${s.batchNice ? `, every hub process but ingress at nice ${s.batchNice}` : ''}.`,
    '',
    '## Targets (issue 17; reported, never asserted)',
    '',
    '| | target | measured | |',
    '| --- | --- | --- | --- |',
    ...r.targets.map((t) => `| ${t.what} | ${t.target} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`),
    '',
    '## Throughput',
    '',
    '| phase | target rate | messages | submit_sm accepted | errors | accepted/s (whole) | receipts/s (whole) | window | accepted/s | receipts/s | rated/s | missing receipts | rated |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of r.phases) {
    const errors = Object.entries(p.load.errors)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `| ${p.name} | ${p.targetRate > 0 ? fmt(p.targetRate) : 'max'} | ${fmt(p.load.messages)} | ${fmt(p.load.accepted)} | ${errors || '0'} | ` +
        `${fmt(p.load.acceptedPerSecond)} | ${fmt(p.load.receiptsPerSecond)} | ${fmt(p.window.fromS)}–${fmt(p.window.toS)} s | ` +
        `${fmt(p.window.accepted)} | ${fmt(p.window.receipts)} | ${fmt(p.window.rated)} | ${fmt(p.load.missingReceipts)} | ${fmt(p.rated)} |`,
    );
  }
  lines.push(
    '',
    '## Latency (ms)',
    '',
    '| | count | p50 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const p of r.phases) {
    lines.push(latencyRow(`${p.name}: submit_sm → submit_sm_resp`, p.load.respLatencyMs));
    lines.push(latencyRow(`${p.name}: submit_sm → receipt (deliver_sm)`, p.load.receiptLatencyMs));
  }
  lines.push(
    '',
    `## CPU and memory (full-speed phase: ${fmt(r.cpu.messages)} messages in ${fmt(r.cpu.windowS, 1)} s, until the last rated record)`,
    '',
    '| process | role | CPU s | CPU µs / message | peak RSS MB |',
    '| --- | --- | --- | --- | --- |',
    ...r.cpu.processes.map(
      (p) =>
        `| ${p.name} | ${p.role} | ${fmt(p.cpuSeconds, 2)} | ${fmt(p.cpuMicrosPerMessage)} | ${fmt(p.peakRssMb, 1)} |`,
    ),
    `| **hub processes** | | | **${fmt(r.cpu.hubMicrosPerMessage)}** | |`,
    `| **hub + Kafka + PostgreSQL** | | | **${fmt(r.cpu.allMicrosPerMessage)}** | |`,
    '',
  );
  if (r.cpu.postgresByClient?.length)
    lines.push(
      '### PostgreSQL by client (backends by the service that opened them; same window)',
      '',
      '| client | CPU s | CPU µs / message |',
      '| --- | --- | --- |',
      ...r.cpu.postgresByClient.map(
        (c) => `| ${c.client} | ${fmt(c.cpuSeconds, 2)} | ${fmt(c.cpuMicrosPerMessage)} |`,
      ),
      '',
    );
  const groups = Object.keys(r.maxLag);
  if (groups.length > 0) {
    lines.push(
      '## Kafka consumer lag (records behind, sampled)',
      '',
      `| s | ${groups.join(' | ')} | rated |`,
      `| --- | ${groups.map(() => '---').join(' | ')} | --- |`,
      ...r.lag.map(
        (l) => `| ${fmt(l.t, 1)} | ${groups.map((g) => fmt(l.lag[g])).join(' | ')} | ${fmt(l.rated)} |`,
      ),
      `| **max** | ${groups.map((g) => `**${fmt(r.maxLag[g])}**`).join(' | ')} | |`,
      '',
    );
  }
  const b = r.kafkaBaseline;
  if (b) {
    lines.push(
      `## Raw Kafka baseline (same broker, ${fmt(b.records)} records of ${fmt(b.recordSize)} bytes, ${b.partitions} partitions, acks=all)`,
      '',
    );
    if (b.producer)
      lines.push(
        `- kafka-producer-perf-test: ${fmt(b.producer.recordsPerSecond)} records/s (${fmt(b.producer.mbPerSecond, 2)} MB/s), latency avg ${fmt(b.producer.avgLatencyMs, 1)} ms, p50 ${fmt(b.producer.p50Ms)} ms, p99 ${fmt(b.producer.p99Ms)} ms; broker CPU ${fmt(b.brokerCpuMicrosPerRecordProduce)} µs per record`,
      );
    if (b.consumer)
      lines.push(
        `- kafka-consumer-perf-test: ${fmt(b.consumer.recordsPerSecond)} records/s (${fmt(b.consumer.mbPerSecond, 2)} MB/s); broker CPU ${fmt(b.brokerCpuMicrosPerRecordConsume)} µs per record`,
      );
    if (b.error) lines.push(`- error: ${b.error}`);
    lines.push('');
  }
  if (r.profiles && Object.keys(r.profiles).length > 0) {
    lines.push('## CPU profiles: top self time per process', '');
    for (const [name, p] of Object.entries(r.profiles)) {
      lines.push(
        `### ${name} (busy ${fmt(p.busyMs)} ms, idle ${fmt(p.idleMs)} ms)`,
        '',
        '| self ms | % | function |',
        '| --- | --- | --- |',
      );
      for (const f of p.top) lines.push(`| ${fmt(f.selfMs, 1)} | ${fmt(f.percent, 1)} | \`${f.name}\` |`);
      lines.push('');
    }
  }
  if (r.notes.length > 0) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
