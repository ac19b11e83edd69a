// `npm run build`: one esbuild bundle per deployable process, at <package>/dist/main.js.
// Deployables are services/*/ and tools/{ops,smsc-simulator,loadgen}/ with a src/main.ts. Workspace libs
// (@smshub/*) are bundled from their TypeScript sources; third-party packages stay external and come from
// the production node_modules (native ones such as argon2 cannot be bundled anyway).
// Usage: node tools/dev/bundle.mjs [package-dir ...]   (default: every deployable)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { root, say } from './common.mjs';

const { build } = await import('esbuild');

function workspaceDirs() {
  return ['libs', 'services', 'tools'].flatMap((top) =>
    existsSync(path.join(root, top))
      ? readdirSync(path.join(root, top))
          .map((d) => path.join(top, d))
          .filter((d) => existsSync(path.join(root, d, 'package.json')))
      : [],
  );
}

/** Every non-workspace dependency named by any workspace package: kept external. */
function externals() {
  const names = new Set();
  for (const dir of ['.', ...workspaceDirs()]) {
    const pkg = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    for (const deps of [pkg.dependencies, pkg.optionalDependencies]) {
      for (const name of Object.keys(deps ?? {})) if (!name.startsWith('@smshub/')) names.add(name);
    }
  }
  return [...names];
}

const requested = process.argv.slice(2);
const deployables = (requested.length ? requested : workspaceDirs().filter((d) => !d.startsWith('libs/')))
  .map((d) => path.relative(root, path.resolve(root, d)))
  .filter((d) => existsSync(path.join(root, d, 'src/main.ts')));

const external = externals();
let failed = 0;
for (const dir of deployables) {
  const started = Date.now();
  try {
    await build({
      entryPoints: [path.join(root, dir, 'src/main.ts')],
      outfile: path.join(root, dir, 'dist/main.js'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      conditions: ['@smshub/source'],
      external,
      // CommonJS dependencies bundled into ESM may call require(): give them one.
      banner: {
        js: "import { createRequire as __smshubCreateRequire } from 'node:module'; const require = __smshubCreateRequire(import.meta.url);",
      },
      logLevel: 'warning',
    });
    say(`built ${dir}/dist/main.js in ${Date.now() - started} ms`);
  } catch (err) {
    failed++;
    say(`build failed for ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
// The console also serves a web application: built by Vite next to its bundle (dist/web).
if (deployables.includes(path.join('services', 'console'))) {
  const { buildWeb } = await import('../../services/console/scripts/build-web.mjs');
  if (buildWeb({ force: true })) say('built services/console/dist/web');
  else {
    failed++;
    say('build failed for services/console/dist/web (vite build)');
  }
}
process.exit(failed ? 1 : 0);
