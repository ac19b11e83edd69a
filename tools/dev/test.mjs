// `npm test`: every check and every test, from a fresh clone.
// 1. installs npm dependencies when needed;
// 2. static checks: typecheck, lint, format, protobuf lint/breaking, generated code up to date;
// 3. vitest: unit tests, then integration tests over real TCP, Kafka and Postgres (the integration
//    project's global setup provides those: see libs/testing);
// 4. prints `N passed, N failed` (tests plus checks) and exits non-zero on any failure.
// Flags: --only-unit, --skip-checks, extra args go to vitest (e.g. a path filter).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
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

const out = path.join(root, 'test-results');
mkdirSync(out, { recursive: true });
const jsonFile = path.join(out, 'vitest.json');
const projects = onlyUnit ? ['--project', 'unit'] : [];
const vitestCode = await run('npx', [
  'vitest',
  'run',
  ...projects,
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${jsonFile}`,
  ...vitestArgs,
]);

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
for (const c of checks) {
  if (c.ok) passed++;
  else failed++;
}

writeFileSync(
  path.join(out, 'summary.json'),
  JSON.stringify(
    { passed, failed, skipped, checks, seconds: Math.round((Date.now() - started) / 1000) },
    null,
    2,
  ),
);
for (const c of checks) say(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${(c.ms / 1000).toFixed(1)} s)`);
say(`finished in ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
