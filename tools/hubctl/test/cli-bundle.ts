// hubctl bundled once per test file into one self-contained file (what `npm run build` makes, its
// dependencies inlined). The tests run the CLI many times: each run of the bundle starts in 2-4 s on a
// machine at load 34, each through tsx in 12-15 s (measured side by side). The launcher (bin/hubctl.mjs)
// and `npm run hubctl` from the sources keep their own tests in hubctl.test.ts.
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '@smshub/testing';

/** Writes the bundle into `dir` and returns its path (run it with `node <path> <args>`). */
export async function bundleHubctl(dir: string): Promise<string> {
  const outfile = path.join(dir, 'hubctl.mjs');
  await build({
    entryPoints: [path.join(repoRoot(), 'tools/hubctl/src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@smshub/source'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return outfile;
}
