import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, withSpan } from '../src/index.js';

// A stand-in OTLP/HTTP collector on loopback that records what it receives.
const received: { path: string; type: string | undefined; body: string }[] = [];
const collector = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({
      path: req.url ?? '',
      type: req.headers['content-type'],
      body: Buffer.concat(chunks).toString('utf8'),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  collector.closeAllConnections();
  await new Promise<void>((r) => collector.close(() => r()));
});

describe('OTLP export', () => {
  it('sends spans to <endpoint>/v1/traces and flushes them on shutdown', async () => {
    const { port } = collector.address() as AddressInfo;
    const telemetry = startTelemetry({ serviceName: 'otlp-test', otlpEndpoint: `http://127.0.0.1:${port}` });
    await withSpan('exported-operation', () => 'done', { attributes: { 'smshub.test': true } });
    await telemetry.shutdown();

    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThanOrEqual(1);
    const body = traces.map((t) => t.body).join('\n');
    expect(body).toContain('exported-operation');
    expect(body).toContain('otlp-test');
  });
});
