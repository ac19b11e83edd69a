// Idle CPU of the hub's processes: starts a hub (libs/testing's startHub, sources through tsx or the bundles)
// on the local Kafka and PostgreSQL, sends nothing, lets it settle, then reads each process's CPU from
// /proc over a window. What an idle process costs is what it costs at any rate: at 600 msg/s every
// 1 CPU-ms/s is ~1.7 CPU-us per message (issue 17).
//   set -a && . .local/env && set +a
//   npx tsx --conditions=@smshub/source tools/bench/src/idle-cpu.ts [--services a,b] [--window 60] [--settle 20]
//     [--bundles] [--env K=V,K=V] [--profile <dir>]
// --env: extra environment of every process; --profile: a V8 CPU profile of each process over the window
// (tools/bench/src/cpu-profile.mjs, written to <dir>/<pid>.cpuprofile when the hub stops).
import { createTestDatabase, startHub } from '@smshub/testing';
import { CLOCK_TICKS_PER_SECOND, loadAverage, readProcStat } from './procfs.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const services = arg('services')?.split(',');
const windowS = Number(arg('window') ?? 60);
const settleS = Number(arg('settle') ?? 20);
const extraEnv = Object.fromEntries(
  (arg('env')?.split(',') ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const profileDir = arg('profile');
const kafkaBrokers = process.env.KAFKA_BROKERS;
const databaseUrl = process.env.DATABASE_URL;
if (!kafkaBrokers || !databaseUrl) {
  console.error('KAFKA_BROKERS and DATABASE_URL must be set (. .local/env)');
  process.exit(2);
}

// A database of its own: the demo configuration is seeded with this run's secrets.
const db = await createTestDatabase(databaseUrl);
const hub = await startHub({
  kafkaBrokers,
  databaseUrl: db.url,
  ...(services ? { services } : {}),
  simulator: services === undefined || services.includes('egress'),
  bundles: process.argv.includes('--bundles'),
  readyTimeoutMs: 240_000,
  env: {
    LOG_LEVEL: 'warn',
    ...(profileDir
      ? {
          NODE_OPTIONS: `--import=${new URL('./cpu-profile.mjs', import.meta.url).pathname}`,
          BENCH_CPU_PROF_DIR: profileDir,
        }
      : {}),
    ...extraEnv,
  },
});
try {
  await new Promise((r) => setTimeout(r, settleS * 1000));
  const ticks = (pid: number | undefined) => {
    const s = pid ? readProcStat(pid) : undefined;
    return s ? s.utime + s.stime : NaN;
  };
  const load0 = loadAverage();
  const before = new Map([...hub.processes].map(([name, p]) => [name, ticks(p.pid)]));
  // The profiles start over now (start-up left out).
  if (profileDir) for (const p of hub.processes.values()) p.child?.kill('SIGUSR2');
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const seconds = (Date.now() - t0) / 1000;
  const load1 = loadAverage();
  console.log(
    `idle CPU over ${seconds.toFixed(1)} s after ${settleS} s settling; load ${load0[0].toFixed(2)} -> ${load1[0].toFixed(2)}; namespace ${hub.namespace}`,
  );
  console.log('process\tCPU-ms/s');
  let total = 0;
  for (const [name, p] of hub.processes) {
    const ms = ((ticks(p.pid) - before.get(name)!) * 1000) / CLOCK_TICKS_PER_SECOND / seconds;
    total += ms;
    console.log(`${name}\t${ms.toFixed(1)}`);
  }
  console.log(`total\t${total.toFixed(1)}`);
} finally {
  await hub.stop();
  await db.drop();
}
