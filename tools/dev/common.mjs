// Dependency-free helpers for the root npm scripts (they run before node_modules may exist).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** State of this checkout's local hub: SMSHUB_LOCAL_DIR, else <repo>/.local (as deploy/local/lib.sh). */
export const localDir = process.env.SMSHUB_LOCAL_DIR
  ? path.resolve(process.env.SMSHUB_LOCAL_DIR)
  : path.join(root, '.local');

/**
 * The port offset of the hub: HUB_PORT_OFFSET when set, else the offset of the `npm start` running from
 * this checkout (start.mjs writes it to <localDir>/hub.json and removes it when it stops), else 0.
 * Returns undefined when HUB_PORT_OFFSET is set but not an integer 0..15000.
 */
export function hubPortOffset(env = process.env) {
  const text = env.HUB_PORT_OFFSET;
  if (text !== undefined && text.trim() !== '') {
    const n = Number(text);
    return Number.isInteger(n) && n >= 0 && n <= 15_000 ? n : undefined;
  }
  const hub = runningHub();
  return hub?.offset ?? 0;
}

/** <localDir>/hub.json of a running `npm start` ({ pid, offset, ports }), or undefined. */
export function runningHub() {
  try {
    const hub = JSON.parse(readFileSync(path.join(localDir, 'hub.json'), 'utf8'));
    process.kill(hub.pid, 0);
    return Number.isInteger(hub.offset) ? hub : undefined;
  } catch {
    return undefined;
  }
}

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
