// Dependency-free helpers for the root npm scripts (they run before node_modules may exist).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function say(msg) {
  process.stderr.write(`[smshub] ${msg}\n`);
}

/** Runs a command with inherited stdio; resolves to its exit code. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', (err) => {
      say(`${cmd}: ${err.message}`);
      resolve(127);
    });
  });
}

/** npm ci when node_modules is missing or older than package-lock.json. */
export function ensureDependencies() {
  const marker = path.join(root, 'node_modules/.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm dependencies (npm ci)');
  let r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    // npm ci refuses when an optional platform package named in the lock file is not served by the
    // registry at hand (some mirrors lack buf's darwin/win32 binaries). npm install tolerates that.
    say('npm ci refused the lock file; falling back to npm install');
    r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  }
  if (r.status !== 0) {
    say('installing npm dependencies failed: see the output above');
    process.exit(r.status ?? 1);
  }
}

/** KEY=value lines of a file into an object (missing file: empty). */
export function readEnvFile(file) {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
