// `npm run bench`: the component benchmarks, one after another, against the real local Kafka and
// PostgreSQL (deploy/local, or KAFKA_BROKERS / DATABASE_URL). Each prints its own figures; the outputs
// are also written to bench/results/<time>.md. Not a test: nothing here passes or fails on timing.
// The end-to-end harness (loadgen -> whole hub -> receipts, with CPU per message) is still to come.
// Usage: npm run bench [-- name ...]   names: smpp, simulator, ingress, routing, egress, dlr, rating
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
];

const wanted = process.argv.slice(2);
const chosen = wanted.length ? benches.filter((b) => wanted.includes(b.name)) : benches;
if (wanted.length && chosen.length !== wanted.length) {
  say(`unknown benchmark; choose from: ${benches.map((b) => b.name).join(', ')}`);
  process.exit(64);
}

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
