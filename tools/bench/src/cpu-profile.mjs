// Preloaded into every hub process by `npm run bench -- --profile` (NODE_OPTIONS=--import=<this file>;
// node refuses --cpu-prof in NODE_OPTIONS): samples the process with the V8 profiler from the last SIGUSR2
// (or the start) to exit and writes <BENCH_CPU_PROF_DIR>/<pid>.cpuprofile, the format of node --cpu-prof
// (Chrome DevTools, speedscope).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs, as --cpu-prof's default
  session.post('Profiler.start');
  // SIGUSR2 (sent by the benchmark when the load starts) drops what was sampled so far (start-up).
  process.on('SIGUSR2', () => {
    session.post('Profiler.stop');
    session.post('Profiler.start');
  });
  // The in-process session answers synchronously, so this completes inside the 'exit' handler.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err || !result) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
