#!/usr/bin/env node
// hubctl launcher: the esbuild bundle (dist/main.js, `npm run build`) when present, else the TypeScript
// sources through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (existsSync(dist)) {
  await import(dist);
} else {
  const src = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const r = spawnSync(
    process.execPath,
    ['--conditions=@smshub/source', '--import', 'tsx', src, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}
