// hubctl bundled once per test file into one self-contained file (what `npm run build` makes, its
// dependencies inlined). The tests run the CLI many times: each run of the bundle starts in 2-4 s on a
// machine at load 34, each through tsx in 12-15 s (measured side by side). The launcher (bin/hubctl.mjs)
// and `npm run hubctl` from the sources keep their own tests in hubctl.test.ts.
import { spawn } from 'node:child_process';
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

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bundle at `cli` with `args` from the repository root, with exactly `env` (nothing inherited),
 * and collects its output. `stdin`, when given, is written to it and closed; otherwise stdin is empty.
 */
export function runBundled(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: repoRoot(),
      env,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
