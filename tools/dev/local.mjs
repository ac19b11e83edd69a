// Runs a TypeScript entry point against the local hub that `npm start` runs: KAFKA_BROKERS and DATABASE_URL
// from .local/env, the admin token from .local/secrets/admin-token as HUBCTL_TOKEN, and HUB_PORT_OFFSET of
// the `npm start` running from this checkout (.local/hub.json), so its ports are found. Variables already
// set in the environment win. Used by `npm run hubctl`, `npm run ops` and `npm run send`.
// Usage: node tools/dev/local.mjs <entry.ts> [args...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hubPortOffset, localDir, readEnvFile, root } from './common.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node tools/dev/local.mjs <entry.ts> [args...]\n');
  process.exit(64);
}
const env = { ...readEnvFile(path.join(localDir, 'env')), ...process.env };
const offset = hubPortOffset(env);
if (offset === undefined) {
  process.stderr.write(`HUB_PORT_OFFSET must be an integer 0..15000, got "${env.HUB_PORT_OFFSET}"\n`);
  process.exit(64);
}
env.HUB_PORT_OFFSET = String(offset);
const tokenFile = path.join(localDir, 'secrets/admin-token');
if (!env.HUBCTL_TOKEN && !env.ADMIN_TOKEN && existsSync(tokenFile))
  env.HUBCTL_TOKEN = readFileSync(tokenFile, 'utf8').trim();
const r = spawnSync(
  process.execPath,
  ['--conditions=@smshub/source', '--import', 'tsx', path.resolve(root, entry), ...args],
  { stdio: 'inherit', env },
);
process.exit(r.status ?? 1);
