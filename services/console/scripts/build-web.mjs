// Builds the console's web application (vite build -> services/console/dist/web) when the output is
// missing or older than a source file. Used by `npm start`, `npm run build` and the console's tests, so a
// fresh clone needs nothing but `npm ci`. Usage: node services/console/scripts/build-web.mjs [--force]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const output = path.join(pkg, 'dist/web/index.html');

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const s = statSync(full);
    t = Math.max(t, s.isDirectory() ? newest(full) : s.mtimeMs);
  }
  return t;
}

/** True when dist/web is at least as new as every file of web/ and package.json. */
export function webIsFresh() {
  if (!existsSync(output)) return false;
  const sources = Math.max(newest(path.join(pkg, 'web')), statSync(path.join(pkg, 'package.json')).mtimeMs);
  return statSync(output).mtimeMs >= sources;
}

/** Builds unless fresh (or `force`); returns true when dist/web is usable. */
export function buildWeb({ force = false, quiet = false } = {}) {
  if (!force && webIsFresh()) return true;
  const vite = path.join(pkg, 'node_modules/vite/bin/vite.js');
  const bin = existsSync(vite) ? vite : path.resolve(pkg, '../../node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [bin, 'build', '--config', path.join(pkg, 'web/vite.config.ts')], {
    cwd: pkg,
    stdio: quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    return false;
  }
  return existsSync(output);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ok = buildWeb({ force: process.argv.includes('--force') });
  process.stdout.write(ok ? `console web application: ${path.relative(process.cwd(), output)}\n` : '');
  process.exit(ok ? 0 : 1);
}
