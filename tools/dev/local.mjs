// Runs a TypeScript entry point against the local hub that `npm start` runs: KAFKA_BROKERS and DATABASE_URL
// from .local/env, and the admin token from .local/secrets/admin-token as HUBCTL_TOKEN. Variables already
// set in the environment win. Used by `npm run hubctl` and `npm run ops`.
// Usage: node tools/dev/local.mjs <entry.ts> [args...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readEnvFile, root } from './common.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node tools/dev/local.mjs <entry.ts> [args...]\n');
  process.exit(64);
}
const env = { ...readEnvFile(path.join(root, '.local/env')), ...process.env };
const tokenFile = path.join(root, '.local/secrets/admin-token');
if (!env.HUBCTL_TOKEN && !env.ADMIN_TOKEN && existsSync(tokenFile))
  env.HUBCTL_TOKEN = readFileSync(tokenFile, 'utf8').trim();
const r = spawnSync(
  process.execPath,
  ['--conditions=@smshub/source', '--import', 'tsx', path.resolve(root, entry), ...args],
  { stdio: 'inherit', env },
);
process.exit(r.status ?? 1);
