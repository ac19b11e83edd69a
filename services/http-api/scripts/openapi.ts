// Writes docs/http-api/openapi.json and docs/http-api.md from the schemas the server validates with.
// Run: npm run -w @smshub/http-api openapi (test/openapi.test.ts fails when they are out of date).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/openapi.js';
import { referencePage } from '../src/reference.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = openApiDocument();
writeFileSync(path.join(root, 'docs/http-api/openapi.json'), `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(path.join(root, 'docs/http-api.md'), referencePage(doc));
console.log('wrote docs/http-api/openapi.json and docs/http-api.md');
