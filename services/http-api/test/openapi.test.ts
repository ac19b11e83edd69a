import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referencePage } from '../src/reference.js';
import { call, Harness, type Replica } from './harness.js';

const committed = (p: string) => readFileSync(new URL(`../../../docs/${p}`, import.meta.url), 'utf8');

describe('OpenAPI 3.1 document', () => {
  const h = new Harness();
  let a: Replica;
  beforeAll(async () => {
    await h.setup();
    a = await h.startReplica();
  });
  afterAll(() => h.teardown());

  it('the served /v1/openapi.json equals docs/http-api/openapi.json and docs/http-api.md is its rendering', async () => {
    const r = await call(`${a.url}/v1/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const stale = 'out of date: run `npm run -w @smshub/http-api openapi` and commit docs/http-api';
    expect(r.body, stale).toEqual(JSON.parse(committed('http-api/openapi.json')));
    expect(referencePage(r.body), stale).toBe(committed('http-api.md'));
  });

  it('documents every route the server has, and the server validates with the documented schema', async () => {
    const r = await call(`${a.url}/v1/openapi.json`);
    const documented = Object.entries(r.body.paths as Record<string, object>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const routes = a.api.server
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter((l) => /\(\w/.test(l));
    expect(routes.length).toBeGreaterThan(0);
    for (const route of [
      'POST /v1/messages',
      'POST /v1/messages/batch',
      'GET /v1/messages/:id',
      'GET /v1/balance',
    ])
      expect(documented).toContain(route);
    // A field the document does not list is refused by the server (additionalProperties: false).
    const req = r.body.components.schemas.MessageRequest;
    expect(req.additionalProperties).toBe(false);
    expect(Object.keys(req.properties)).toEqual(
      expect.arrayContaining([
        'to',
        'from',
        'text',
        'encoding',
        'validity',
        'traffic_type',
        'client_reference',
        'callback_url',
      ]),
    );
  });
});
