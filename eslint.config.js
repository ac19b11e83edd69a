// Lint: typescript-eslint recommended plus Nx module boundaries.
// Boundaries: services never import each other (only libs); libs never import services or tools;
// tools may use libs only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import devkit from '@nx/devkit';

// @nx/enforce-module-boundaries does not compute the project graph: it reads the one Nx cached in
// .nx/workspace-data and, when there is none (a fresh clone, after `nx reset`), prints a warning and skips
// itself, so every forbidden import passes. Computing the graph here, once per ESLint run (from the cache
// when no project changed), makes the rule hold on every run; a graph that cannot be computed fails the run
// instead of switching the rule off. tools/dev/test/lint-boundaries.test.ts checks it on a fresh clone.
await devkit.createProjectGraphAsync({ exitOnError: false });

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.nx/**',
      '.local/**',
      '.cache/**',
      'libs/contracts/src/gen/**',
      'bench/**',
      'helm/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
