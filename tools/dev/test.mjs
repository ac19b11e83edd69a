// `npm test`: every check and every test, from a fresh clone.
// 1. installs npm dependencies when needed;
// 2. static checks: typecheck, lint, format, protobuf lint/breaking, generated code up to date;
// 3. vitest: unit tests, then integration tests over real TCP, Kafka and Postgres (the integration
//    project's global setup provides those: see libs/testing);
// 4. prints `N passed, N failed` (tests plus checks) and exits non-zero on any failure.
// A watchdog stops an integration test file that has run longer than SMSHUB_TEST_STALL_S (default 900 s;
// no test may take more than 600 s) with the worker process running it and everything that worker started:
// a worker whose main thread never yields cannot time its own test out, and would hang the run. The file
// counts as failed, by name.
// Flags: --only-unit, --skip-checks, extra args go to vitest (e.g. a path filter).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureDependencies, root, run, say } from './common.mjs';

const args = process.argv.slice(2);
const onlyUnit = args.includes('--only-unit');
const skipChecks = args.includes('--skip-checks');
const vitestArgs = args.filter((a) => !a.startsWith('--only-unit') && !a.startsWith('--skip-checks'));

ensureDependencies();
const started = Date.now();
const checks = [];

async function check(name, cmd, cmdArgs) {
  const t = Date.now();
  say(`check: ${name}`);
  const code = await run(cmd, cmdArgs);
  checks.push({ name, ok: code === 0, ms: Date.now() - t });
  if (code !== 0) say(`check failed: ${name} (exit ${code})`);
}

if (!skipChecks) {
  if (
    existsSync(path.join(root, 'libs/contracts/project.json')) &&
    readFileSync(path.join(root, 'libs/contracts/project.json'), 'utf8').includes('check-generated')
  ) {
    await check('protobuf lint (buf)', 'npx', ['nx', 'run', 'contracts:lint-proto', '--outputStyle=static']);
    await check('generated code is up to date', 'npx', [
      'nx',
      'run',
      'contracts:check-generated',
      '--outputStyle=static',
    ]);
    await check('protobuf breaking changes against main (buf)', 'npx', [
      'nx',
      'run',
      'contracts:breaking',
      '--outputStyle=static',
    ]);
  }
  await check('typecheck (tsc strict)', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  await check('lint (eslint + module boundaries)', 'npx', ['eslint', '.', '--max-warnings=0']);
  await check('format (prettier)', 'npx', ['prettier', '--check', '.', '--log-level=warn']);
}

// SMSHUB_TEST_RESULTS: where the reports go (default test-results/; the watchdog's own test runs npm test's
// script inside npm test).
const out = process.env.SMSHUB_TEST_RESULTS
  ? path.resolve(process.env.SMSHUB_TEST_RESULTS)
  : path.join(root, 'test-results');
mkdirSync(out, { recursive: true });
const jsonFile = path.join(out, 'vitest.json');
const projects = onlyUnit ? ['--project', 'unit'] : [];
const workersDir = path.join(out, 'workers');
rmSync(workersDir, { recursive: true, force: true });
const stallS = Number(process.env.SMSHUB_TEST_STALL_S) > 0 ? Number(process.env.SMSHUB_TEST_STALL_S) : 900;
const stalled = [];
const watchdog = setInterval(() => stopStalled(workersDir, stallS * 1000, stalled), 5000);
const vitestCode = await run(
  'npx',
  [
    'vitest',
    'run',
    ...projects,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${jsonFile}`,
    ...vitestArgs,
  ],
  { env: { ...process.env, SMSHUB_TEST_WORKERS_DIR: workersDir } },
);
clearInterval(watchdog);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(jsonFile)) {
  const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load counts as a failure even when it declared no test.
  failed += (report.testResults ?? []).filter(
    (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
  ).length;
}
if (vitestCode !== 0 && failed === 0) failed = 1; // vitest failed outside any test (setup, config)
failed += stalled.length;
for (const c of checks) {
  if (c.ok) passed++;
  else failed++;
}

writeFileSync(
  path.join(out, 'summary.json'),
  JSON.stringify(
    { passed, failed, skipped, checks, stalled, seconds: Math.round((Date.now() - started) / 1000) },
    null,
    2,
  ),
);
for (const c of checks) say(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${(c.ms / 1000).toFixed(1)} s)`);
for (const f of stalled) say(`FAIL ${f}: stopped by the watchdog after ${stallS} s`);
say(`finished in ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);

/** Stops the worker of every test file running longer than `stallMs` (see the header), and its descendants. */
function stopStalled(dir, stallMs, stalledFiles) {
  let names = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  for (const name of names) {
    const marker = path.join(dir, name);
    const pid = Number(name.slice(0, -'.json'.length));
    let info;
    try {
      info = JSON.parse(readFileSync(marker, 'utf8'));
    } catch {
      continue; // being written
    }
    // A worker that ended without removing its marker (killed, crashed), or whose pid another process got.
    if (!isAlive(pid) || (info.processStart && processStart(pid) !== info.processStart)) {
      rmSync(marker, { force: true });
      continue;
    }
    if (Date.now() - info.startedAt < stallMs) continue;
    rmSync(marker, { force: true });
    const file = path.relative(root, info.file);
    say(
      `watchdog: ${file} has run for ${Math.round((Date.now() - info.startedAt) / 1000)} s in worker ${pid}; stopping the worker and the processes it started`,
    );
    stalledFiles.push(file);
    for (const p of [...descendants(pid), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Field 22 of /proc/<pid>/stat (the start time; worker-marker.ts writes its own), or null. */
function processStart(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Every process below `pid`, from `ps`, the deepest last found first. */
function descendants(pid) {
  const r = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map();
  for (const line of (r.stdout ?? '').split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (!p || !pp) continue;
    if (!children.has(pp)) children.set(pp, []);
    children.get(pp).push(p);
  }
  const found = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found.reverse();
}
