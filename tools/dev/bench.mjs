// `npm run bench`: the end-to-end benchmark (tools/bench): the whole hub on the real local Kafka and
// PostgreSQL, loadgen at full speed then at half that rate, CPU per message over every process, latencies,
// consumer lag and a raw Kafka baseline; figures printed and written to bench/results/<time>.{json,md}.
// The esbuild bundles are rebuilt first (npm run build) unless --sources is given.
// `npm run bench -- components` runs the component benchmarks one after another instead, and
// `npm run bench -- <name> ...` only the named ones (smpp, simulator, ingress, http, routing, egress, dlr,
// rating, stats, limits, routing-sim, routing-model); their outputs go to bench/results/<time>.md. Not a test: nothing here passes or fails on timing,
// except `limits` (not in `components`), whose verdict on the cluster-wide limits is the exit status.
// `--durable` runs the end-to-end benchmark on a PostgreSQL of its own with fsync etc. on (tools/bench).
// Usage: npm run bench [-- --quick | end-to-end flags (--help) | components | name ...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDependencies, readEnvFile, root, say } from './common.mjs';

const benches = [
  {
    name: 'smpp',
    file: 'libs/smpp/bench/throughput.ts',
    what: 'SMPP client -> server on loopback, one process',
    infra: false,
  },
  {
    name: 'simulator',
    file: 'tools/loadgen/bench/direct.ts',
    args: ['50000', '4', '100'],
    what: 'loadgen -> SMSC simulator, two processes',
    infra: false,
  },
  {
    name: 'ingress',
    file: 'services/ingress/bench/ingress-bench.ts',
    what: 'accepted submit_sm/s, one ingress, Kafka acks=all',
    infra: true,
  },
  {
    name: 'http',
    file: 'services/http-api/bench/http-bench.ts',
    what: 'accepted POST /v1/messages/s, one http-api, keep-alive, Kafka acks=all; p99 at half that rate',
    infra: true,
  },
  {
    name: 'routing',
    file: 'services/routing/bench/routing-bench.ts',
    what: 'routing decisions/s, 100k prefixes, 10k rules, one core',
    infra: false,
  },
  {
    name: 'egress',
    file: 'services/egress/bench/throughput.ts',
    what: 'egress sends/s to a simulator',
    infra: true,
  },
  {
    name: 'dlr',
    file: 'services/dlr/bench/pipeline-bench.ts',
    what: 'dlr messages/s through Kafka and Postgres',
    infra: true,
  },
  {
    name: 'rating',
    file: 'services/rating/bench/rated-bench.ts',
    what: 'rated messages/s with CDRs in Postgres',
    infra: true,
  },
  {
    name: 'hold',
    file: 'services/scheduler/bench/hold-bench.ts',
    what: 'scheduler: release lag of 1,000 messages due in the same second, with 0 and 1,000,000 held; its RSS',
    infra: true,
    // Only when named: it writes a million rows.
    onlyByName: true,
  },
  {
    name: 'stats',
    file: 'services/stats/bench/stats-bench.ts',
    what: 'StatsService queries over a day of roll-ups at 10 M messages/day (p50/p99); roll-up writes/s',
    infra: true,
  },
  {
    name: 'limits',
    file: 'tools/bench/src/limits.ts',
    what: 'cluster-wide limits: customer TPS over 3 ingress, connector TPS over 3 egress, velocity over 2 routing',
    infra: true,
    // Only when named: it starts a whole hub of 11 processes; its exit status is its verdict.
    onlyByName: true,
  },
  {
    name: 'routing-sim',
    file: 'tools/bench/src/routing-hub.ts',
    args: ['--svg', 'docs/routing-sim.svg'],
    what: 'issue 21 scenario, the whole hub against 4 simulated networks, 3 strategies in parallel, 12 min; verdict = exit status',
    infra: true,
    // Only when named: it starts the hub and runs for about 15 minutes.
    onlyByName: true,
  },
  {
    name: 'routing-model',
    file: 'services/routing/bench/routing-sim.ts',
    args: ['docs/routing-model.svg'],
    what: 'issue 21 scenario as a model: real strategy code, simulated receipts, simulated time (seconds); verdict = exit status',
    infra: false,
    onlyByName: true,
  },
];

const args = process.argv.slice(2);
const componentMode =
  args.length > 0 && args.every((a) => a === 'components' || benches.some((b) => b.name === a));
if (!componentMode) {
  if (args.length > 0 && !args[0].startsWith('-')) {
    say(
      `unknown benchmark "${args[0]}"; choose components, one of ${benches.map((b) => b.name).join(', ')}, or end-to-end flags (--help)`,
    );
    process.exit(64);
  }
  ensureDependencies();
  if (!args.includes('--help') && !args.includes('-h')) {
    if (!args.includes('--sources')) {
      const build = spawnSync(process.execPath, [path.join(root, 'tools/dev/bundle.mjs')], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      if (build.status !== 0) {
        say('npm run build failed: fix it, or run the TypeScript sources with --sources');
        process.exit(1);
      }
    }
    const up = spawnSync('bash', [path.join(root, 'deploy/local/up.sh')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (up.status !== 0) {
      say('could not bring up Kafka and PostgreSQL');
      process.exit(1);
    }
  }
  const e2e = spawnSync(
    process.execPath,
    ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, 'tools/bench/src/main.ts'), ...args],
    {
      cwd: root,
      env: { ...process.env, ...readEnvFile(path.join(root, '.local/env')) },
      stdio: 'inherit',
    },
  );
  process.exit(e2e.status ?? 1);
}
const wanted = args.filter((a) => a !== 'components');
const chosen = wanted.length
  ? benches.filter((b) => wanted.includes(b.name))
  : benches.filter((b) => !b.onlyByName);
let verdict = 0;

ensureDependencies();
let env = { ...process.env };
if (chosen.some((b) => b.infra)) {
  const up = spawnSync('bash', [path.join(root, 'deploy/local/up.sh')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (up.status !== 0) {
    say('could not bring up Kafka and PostgreSQL');
    process.exit(1);
  }
  env = { ...env, ...readEnvFile(path.join(root, '.local/env')) };
}

const report = [
  `# Component benchmarks, ${new Date().toISOString()}`,
  '',
  `Machine: ${process.arch}, node ${process.version}`,
  '',
];
for (const b of chosen) {
  say(`bench ${b.name}: ${b.what}`);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    ['--conditions=@smshub/source', '--import', 'tsx', b.file, ...(b.args ?? [])],
    {
      cwd: root,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    },
  );
  process.stdout.write(r.stdout ?? '');
  if (b.onlyByName && r.status !== 0) verdict = r.status ?? 1;
  report.push(
    `## ${b.name}: ${b.what}`,
    '',
    `\`${b.file}\` (${Math.round((Date.now() - started) / 1000)} s, exit ${r.status})`,
    '',
    '```',
    (r.stdout ?? '').trim(),
    '```',
    '',
  );
}
const dir = path.join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
writeFileSync(file, report.join('\n'));
say(`written to ${path.relative(root, file)}`);
process.exit(verdict);
