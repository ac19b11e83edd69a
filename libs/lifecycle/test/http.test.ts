import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createLogger } from '@smshub/logging';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLifecycle, type Lifecycle } from '../src/index.js';

const logger = createLogger({ service: 'lifecycle-test', level: 'silent' });

function get(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          type: res.headers['content-type'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const started: Lifecycle[] = [];
afterEach(async () => {
  for (const lc of started.splice(0)) await lc.shutdown('test done');
});

async function startLifecycle(opts: { graceMs?: number; registry?: Registry; host?: string } = {}) {
  const lc = createLifecycle({
    service: 'lifecycle-test',
    logger,
    httpPort: 0,
    host: '127.0.0.1',
    exit: () => undefined,
    ...opts,
  });
  started.push(lc);
  await lc.start();
  return lc;
}

describe('health and metrics endpoints', () => {
  it('serves /livez, /readyz and 404 on a random port', async () => {
    const lc = await startLifecycle();
    expect(lc.port).toBeGreaterThan(0);
    expect(await get(lc.port, '/livez')).toMatchObject({
      status: 200,
      body: '{"status":"ok"}',
      type: 'application/json',
    });
    expect((await get(lc.port, '/readyz')).status).toBe(503);
    lc.setReady(true);
    expect(await get(lc.port, '/readyz?verbose=1')).toMatchObject({
      status: 200,
      body: '{"status":"ready"}',
    });
    lc.setReady(false);
    expect((await get(lc.port, '/readyz')).status).toBe(503);
    expect((await get(lc.port, '/nope')).status).toBe(404);
    expect((await get(lc.port, '/livez', 'POST')).status).toBe(405);
  });

  it('serves the registry in Prometheus text format', async () => {
    const registry = new Registry();
    new Counter({ name: 'smshub_test_things_total', help: 'things', registers: [registry] }).inc(7);
    const lc = await startLifecycle({ registry });
    const res = await get(lc.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    expect(res.body).toContain('# HELP smshub_test_things_total things');
    expect(res.body).toContain('smshub_test_things_total 7');
  });

  it('goes not ready as soon as shutdown starts and closes the server last', async () => {
    const lc = await startLifecycle();
    lc.setReady(true);
    const port = lc.port;
    const seen: { readyz: number; livez: number }[] = [];
    lc.onShutdown('probe during drain', async () => {
      seen.push({ readyz: (await get(port, '/readyz')).status, livez: (await get(port, '/livez')).status });
    });
    expect(await lc.shutdown('test')).toBe(0);
    expect(seen).toEqual([{ readyz: 503, livez: 200 }]);
    await expect(get(port, '/livez')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('rejects start when the port is taken', async () => {
    const a = await startLifecycle();
    const b = createLifecycle({
      service: 'x',
      logger,
      httpPort: a.port,
      host: '127.0.0.1',
      exit: () => undefined,
    });
    await expect(b.start()).rejects.toThrow(/EADDRINUSE/);
  });
});

/** An IPv4 address of this machine that is not loopback. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** 'connected' or the connect error's code. */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('listen address', () => {
  it('answers on loopback only when no host is given', async () => {
    const lc = createLifecycle({ service: 'lifecycle-test', logger, httpPort: 0, exit: () => undefined });
    started.push(lc);
    await lc.start();
    expect((await get(lc.port, '/livez')).status).toBe(200);
    const external = externalAddress();
    expect(external, 'no non-loopback IPv4 address on this machine').toBeDefined();
    expect(await tcpConnect(external!, lc.port)).toBe('ECONNREFUSED');
  });

  it('answers on every interface with host 0.0.0.0', async () => {
    const lc = await startLifecycle({ host: '0.0.0.0' });
    expect(await tcpConnect(externalAddress()!, lc.port)).toBe('connected');
  });
});
