// Benchmark, not a test: loadgen -> SMSC simulator directly on loopback, each in its own process.
// Bounds what a full hub benchmark can show. Prints throughput, latencies and the CPU each side used.
//   npx tsx tools/loadgen/bench/direct.ts [messages=100000] [binds=4] [window=100] [simulator flags...]
//   extra loadgen flags: LOADGEN_FLAGS='--registered-delivery 0 --mix gsm7=70,ucs2=20,long=10'
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from '../src/loadgen.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const [messages = '100000', binds = '4', window = '100', ...simFlags] = process.argv.slice(2);
const loadgenFlags = (process.env.LOADGEN_FLAGS ?? '').split(/\s+/).filter(Boolean);
const node = [process.execPath, '--conditions=@smshub/source', '--import', 'tsx'];
const smppPort = 20000 + Math.floor(Math.random() * 20000);
const httpPort = smppPort + 1;
const out = path.join(tmpdir(), `loadgen-bench-${process.pid}.json`);

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function run(args: string[], env: Record<string, string>, inherit = false): ChildProcess {
  return spawn(node[0] as string, [...node.slice(1), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', inherit ? 'inherit' : 'ignore', 'inherit'],
  });
}

const sim = run(
  [
    'tools/smsc-simulator/src/main.ts',
    '--port',
    String(smppPort),
    '--host',
    '127.0.0.1',
    '--keep-received',
    '0',
    ...simFlags,
  ],
  { HTTP_PORT: String(httpPort), LOG_LEVEL: 'warn', SIM_LOG_EVERY_S: '0' },
);
try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error('simulator did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const simCpu0 = cpuSeconds(sim.pid as number);
  const lg = run(
    [
      'tools/loadgen/src/main.ts',
      '--port',
      String(smppPort),
      '--count',
      messages,
      '--binds',
      binds,
      '--window',
      window,
      '--quiet',
      '--out',
      out,
      ...loadgenFlags,
    ],
    {},
    true,
  );
  const code = await new Promise<number | null>((resolve) => lg.once('exit', resolve));
  if (code !== 0) throw new Error(`loadgen exited ${code}`);
  const simCpu = cpuSeconds(sim.pid as number) - simCpu0;
  const r = JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
  console.log(
    `simulator CPU ${simCpu.toFixed(2)} s (${Math.round((simCpu * 1e6) / Math.max(1, r.accepted))} µs per accepted submit_sm, receipt included)`,
  );
  const perCore = (us: number): number => Math.round(1e6 / Math.max(1, us));
  console.log(
    `one core would carry at most ~${perCore((simCpu * 1e6) / Math.max(1, r.accepted))} msg/s in the simulator and ~${perCore(r.cpuMicrosPerSubmit)} msg/s in the loadgen`,
  );
} finally {
  sim.kill('SIGTERM');
  rmSync(out, { force: true });
}
