// Where the hub's processes listen and how they speak gRPC (issue 15, items 3 and 4), over real TCP against
// the real processes (libs/testing startHub):
// - with the default configuration (what `npm start` gives) every port of every process answers on
//   127.0.0.1 and is refused on this machine's non-loopback address: SMPP, gRPC and /metrics;
// - GRPC_HOST / HTTP_HOST = 0.0.0.0 (what containers set) opens them on every interface;
// - with GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE a service speaks gRPC over TLS only: a client trusting the
//   CA is served, a plaintext client is refused, and hubctl with a wrong CA fails with a sentence and 69.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import {
  createTestDatabase,
  repoRoot,
  selfSignedCert,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';

let db: TestDatabase;
let hub: Hub | undefined;
let dir: string;
let caFile: string;
let wrongCaFile: string;

/** This machine's first non-loopback IPv4 address (every CI runner, container and laptop has one). */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'listeners-'));
  const cert = selfSignedCert();
  caFile = path.join(dir, 'dlr-cert.pem');
  const keyFile = path.join(dir, 'dlr-key.pem');
  writeFileSync(caFile, cert.cert);
  writeFileSync(keyFile, cert.key, { mode: 0o600 });
  wrongCaFile = path.join(dir, 'other-ca.pem');
  writeFileSync(wrongCaFile, selfSignedCert().cert);
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    workDir: path.join(dir, 'hub'),
    envFor: {
      // Containers' settings on one process: its gRPC and HTTP ports open on every interface.
      rating: { GRPC_HOST: '0.0.0.0', HTTP_HOST: '0.0.0.0' },
      // gRPC over TLS on another.
      dlr: { GRPC_TLS_CERT_FILE: caFile, GRPC_TLS_KEY_FILE: keyFile },
    },
    // tsx compiles each service's sources at start: slow when the machine is busy.
    readyTimeoutMs: 240_000,
  });
}, 300_000);

afterAll(async () => {
  await hub?.stop();
  await db?.drop();
}, 120_000);

/** 'connected', or the error code of the TCP connect. */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(5_000, () => {
      s.destroy();
      resolve('timeout');
    });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Every listening port of the hub, by a name that says whose it is. */
function listeners(h: Hub): Record<string, number> {
  return {
    'ingress smpp': h.ports.smpp,
    'admin grpc': h.ports.admin,
    'dlr grpc': h.ports.messages,
    'rating grpc': h.ports.settlement,
    'simulator smpp (good)': h.ports.simGood,
    'simulator smpp (poor)': h.ports.simPoor,
    ...Object.fromEntries(Object.entries(h.ports.http).map(([name, port]) => [`${name} http`, port])),
  };
}

/** grpc.health.v1 Check of the whole server: the status number (1 = SERVING) or the call's error. */
function healthCheck(port: number, creds: grpc.ChannelCredentials): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.initial_reconnect_backoff_ms': 100 });
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res![1]!)),
    );
  }).finally(() => client.close());
}

function hubctl(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@smshub/source',
        '--import',
        'tsx',
        path.join(repoRoot(), 'tools/hubctl/src/main.ts'),
        ...args,
      ],
      {
        cwd: repoRoot(),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('listen addresses', () => {
  it('answers on 127.0.0.1 only, on every port of every process, with the default configuration', async () => {
    expect(external, 'this machine has no non-loopback IPv4 address').toBeDefined();
    const all = listeners(hub!);
    const defaults = Object.entries(all).filter(([name]) => !name.startsWith('rating '));
    expect(defaults.length).toBeGreaterThanOrEqual(11); // 7 HTTP ports, SMPP, 2 simulators, 2 gRPC
    const seen: Record<string, { loopback: string; external: string }> = {};
    for (const [name, port] of defaults) {
      seen[name] = {
        loopback: await tcpConnect('127.0.0.1', port),
        external: await tcpConnect(external!, port),
      };
    }
    expect(seen).toEqual(
      Object.fromEntries(
        defaults.map(([name]) => [name, { loopback: 'connected', external: 'ECONNREFUSED' }]),
      ),
    );
  });

  it('answers on every interface where GRPC_HOST and HTTP_HOST are 0.0.0.0', async () => {
    const { ports } = hub!;
    expect(await tcpConnect(external!, ports.settlement)).toBe('connected');
    expect(await tcpConnect(external!, ports.http['rating']!)).toBe('connected');
    const metrics = await fetch(`http://${external!}:${ports.http['rating']!}/metrics`);
    expect(metrics.status).toBe(200);
  });
});

describe('gRPC over TLS (dlr with GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE)', () => {
  it('serves a client that trusts the certificate and refuses a plaintext one', async () => {
    const { ports } = hub!;
    expect(await healthCheck(ports.messages, grpc.credentials.createSsl(readFileSync(caFile)))).toBe(1);
    await expect(healthCheck(ports.messages, grpc.credentials.createInsecure())).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it('hubctl verifies the certificate: a wrong CA fails with a sentence and exit code 69', async () => {
    const { ports, secrets } = hub!;
    const env = { HUBCTL_MESSAGES_ADDR: `127.0.0.1:${ports.messages}`, HUBCTL_TOKEN: secrets.adminToken };
    const id = '0190f5d2-7a6b-7c3d-8e9f-0a1b2c3d4e5f';
    const [wrong, right] = await Promise.all([
      hubctl(['--ca', wrongCaFile, 'messages', 'get', id], env),
      hubctl(['--ca', caFile, 'messages', 'get', id], env),
    ]);
    expect(wrong.code).toBe(69);
    expect(wrong.stderr).toMatch(
      new RegExp(
        `^hubctl: cannot reach dlr at 127\\.0\\.0\\.1:${ports.messages}: TLS failed \\(.*certificate.*\\); check --tls and --ca\\n$`,
      ),
    );
    // With the right CA the call reaches dlr, which does not know the message.
    expect(right.stderr).toMatch(/^hubctl: not found: message 0190f5d2-.* not found/);
    expect(right.code).toBe(1);
  });

  it('hubctl checks the name given by --tls-server-name instead of the address', async () => {
    const { ports, secrets } = hub!;
    const env = { HUBCTL_MESSAGES_ADDR: `127.0.0.1:${ports.messages}`, HUBCTL_TOKEN: secrets.adminToken };
    const id = '0190f5d2-7a6b-7c3d-8e9f-0a1b2c3d4e5f';
    const [held, other] = await Promise.all([
      hubctl(['--ca', caFile, '--tls-server-name', 'localhost', 'messages', 'get', id], env),
      hubctl(['--ca', caFile, '--tls-server-name', 'dlr.example.net', 'messages', 'get', id], env),
    ]);
    expect(held.stderr).toMatch(/^hubctl: not found: /);
    expect(other.code).toBe(69);
    expect(other.stderr).toMatch(/TLS failed \(.*dlr\.example\.net.*\); check --tls and --ca/);
  });
});
