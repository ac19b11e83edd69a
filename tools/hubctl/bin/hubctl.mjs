#!/usr/bin/env node
// hubctl launcher: the TypeScript sources through tsx in a checkout, the esbuild bundle (dist/main.js from
// `npm run build`) where the sources are not shipped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/main.ts', import.meta.url));
if (existsSync(src)) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=@smshub/source', '--import', 'tsx', src, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
} else {
  await import(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
}
