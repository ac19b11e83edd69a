// `npm run lint` on a fresh clone: the Nx rule that keeps services from importing each other (and libs
// from importing services) must hold before any nx command has cached a project graph (.nx absent), where
// @nx/enforce-module-boundaries used to print a warning and skip itself. The test copies the tracked files
// of this checkout into a temporary directory without .nx (node_modules linked), adds forbidden imports and
// runs ESLint there.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@smshub/testing';

const root = repoRoot();
const RULE = '@nx/enforce-module-boundaries';

// Each file breaks one boundary; the sources of the projects themselves stay as they are.
const FORBIDDEN: Record<string, string> = {
  // a service importing another service
  'services/routing/src/h6-forbidden-service.ts':
    "import { createRating } from '@smshub/rating';\nexport const forbidden = createRating;\n",
  // a lib importing a service (one the service does not depend on: else every file of both projects would
  // also report the circular dependency)
  'libs/smsc-simulator/src/h6-forbidden-lib.ts':
    "import { createRating } from '@smshub/rating';\nexport const forbidden = createRating;\n",
  // a service reaching into another service's sources by a relative path
  'services/egress/src/h6-forbidden-relative.ts':
    "import { createDlr } from '../../dlr/src/dlr.js';\nexport const forbidden = createDlr;\n",
};
// Files of the same projects that import only what they may.
const CLEAN = [
  'services/routing/src/main.ts',
  'libs/smsc-simulator/src/index.ts',
  'services/egress/src/main.ts',
];

interface EslintResult {
  filePath: string;
  messages: Array<{ ruleId: string | null; message: string }>;
}

let dir: string;

/** ESLint of the copy (its eslint.config.js, node_modules linked to this checkout's) on `files`. */
function eslint(files: string[]): { status: number | null; results: EslintResult[]; stdout: string } {
  const run = spawnSync(
    process.execPath,
    [path.join(dir, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', ...files],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' }, timeout: 150_000 },
  );
  const json = run.stdout.slice(run.stdout.indexOf('['));
  let results: EslintResult[] = [];
  try {
    results = JSON.parse(json) as EslintResult[];
  } catch {
    throw new Error(`eslint gave no JSON (status ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return { status: run.status, results, stdout: run.stdout.slice(0, run.stdout.indexOf('[')) };
}

const boundaryErrors = (results: EslintResult[], file: string) =>
  results
    .find((r) => r.filePath === path.join(dir, file))
    ?.messages.filter((m) => m.ruleId === RULE)
    .map((m) => m.message) ?? [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lint-fresh-clone-'));
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0');
  for (const file of tracked) {
    if (file === '' || !existsSync(path.join(root, file))) continue;
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(root, file), path.join(dir, file));
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('lint on a fresh clone (no .nx project graph cache)', { timeout: 320_000 }, () => {
  it('fails on a service importing a service, a lib importing a service and a relative import across projects', () => {
    for (const [file, text] of Object.entries(FORBIDDEN)) writeFileSync(path.join(dir, file), text);
    expect(existsSync(path.join(dir, '.nx'))).toBe(false);
    const { status, results, stdout } = eslint([...Object.keys(FORBIDDEN), ...CLEAN]);
    expect(stdout).not.toMatch(/No cached ProjectGraph/);
    expect(status).toBe(1);
    for (const file of Object.keys(FORBIDDEN))
      expect(boundaryErrors(results, file), file).toEqual([expect.any(String)]);
    for (const file of CLEAN) expect(boundaryErrors(results, file), file).toEqual([]);
  });

  it('passes on the same copy without them', () => {
    for (const file of Object.keys(FORBIDDEN)) rmSync(path.join(dir, file));
    rmSync(path.join(dir, '.nx'), { recursive: true, force: true });
    const { status, results } = eslint(CLEAN);
    expect(results.flatMap((r) => r.messages)).toEqual([]);
    expect(status).toBe(0);
  });
});
