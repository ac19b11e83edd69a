// startGrpcServer over real TCP: where it listens by default, TLS that a client with the CA accepts and
// that refuses plaintext clients and clients trusting another CA, health, and the graceful stop.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import { createLogger } from '@smshub/logging';
import { selfSignedCert, waitFor } from '@smshub/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGrpcServer, tlsFiles, type GrpcServer } from '../src/index.js';

const logger = createLogger({ service: 'grpc-test', level: 'silent' });

// A tiny service: Echo(bytes) -> bytes, so the test needs no generated contract.
const ECHO: grpc.ServiceDefinition = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
const echoImpl: grpc.UntypedServiceImplementation = {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb(null, call.request),
};

let dir: string;
let cert: { certFile: string; keyFile: string; pem: Buffer };
let otherCa: Buffer;
const servers: GrpcServer[] = [];
const clients: grpc.Client[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'grpc-tls-'));
  const c = selfSignedCert();
  cert = { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem'), pem: c.cert };
  writeFileSync(cert.certFile, c.cert);
  writeFileSync(cert.keyFile, c.key, { mode: 0o600 });
  otherCa = selfSignedCert().cert;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop(1_000)));
});

async function start(opts: Partial<Parameters<typeof startGrpcServer>[0]> = {}): Promise<GrpcServer> {
  const s = await startGrpcServer({
    port: 0,
    services: [{ name: 'test.Echo', definition: ECHO, implementation: echoImpl }],
    logger,
    ...opts,
  });
  servers.push(s);
  return s;
}

function echo(address: string, creds: grpc.ChannelCredentials, text: string): Promise<string> {
  // A connection of its own (no subchannel shared with earlier clients): each call sees the server's
  // certificate of the moment.
  const client = new grpc.Client(address, creds, {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.use_local_subchannel_pool': 1,
  });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      ECHO['echo']!.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(text),
      new grpc.Metadata(),
      { deadline: Date.now() + 5_000 },
      (err, res) => (err ? reject(err) : resolve(res!.toString())),
    );
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** Resolves 'connected' or the connect error's code. */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(3_000, () => {
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

describe('listen address', () => {
  it('listens on loopback only by default', async () => {
    const s = await start();
    expect(s.host).toBe('127.0.0.1');
    expect(await echo(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure(), 'hi')).toBe('hi');
    const external = externalAddress();
    // Every machine this runs on has a non-loopback interface (CI runners, containers, laptops).
    expect(external, 'no non-loopback IPv4 address on this machine').toBeDefined();
    expect(await tcpConnect(external!, s.port)).toBe('ECONNREFUSED');
  });

  it('listens on every interface with host 0.0.0.0', async () => {
    const s = await start({ host: '0.0.0.0' });
    const external = externalAddress()!;
    expect(await tcpConnect(external, s.port)).toBe('connected');
    expect(await echo(`${external}:${s.port}`, grpc.credentials.createInsecure(), 'out')).toBe('out');
  });

  it('says which address could not be bound', async () => {
    const s = await start();
    await expect(start({ port: s.port })).rejects.toThrow(`cannot listen on 127.0.0.1:${s.port}`);
  });
});

describe('TLS', () => {
  it('serves a client that trusts the CA, and grpc.health.v1', async () => {
    const s = await start({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    expect(s.tls).toBe(true);
    const creds = grpc.credentials.createSsl(cert.pem);
    expect(await echo(`127.0.0.1:${s.port}`, creds, 'secret')).toBe('secret');
    const health = await new Promise<number>((resolve, reject) => {
      const client = new grpc.Client(`127.0.0.1:${s.port}`, creds);
      clients.push(client);
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        // HealthCheckRequest { service: "test.Echo" }
        Buffer.concat([Buffer.from([0x0a, 9]), Buffer.from('test.Echo')]),
        (err, res) => (err ? reject(err) : resolve(res![1]!)),
      );
    });
    expect(health).toBe(1); // HealthCheckResponse.ServingStatus.SERVING
  });

  it('refuses a plaintext client and a client that trusts another CA', async () => {
    const s = await start({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    const plain = echo(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure(), 'x');
    await expect(plain).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const wrongCa = echo(`127.0.0.1:${s.port}`, grpc.credentials.createSsl(otherCa), 'x');
    await expect(wrongCa).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/certificate/i),
    });
  });

  it('fails to start with a sentence when a file cannot be read', async () => {
    await expect(
      start({ tls: { certFile: path.join(dir, 'missing.pem'), keyFile: cert.keyFile } }),
    ).rejects.toThrow(`cannot read the gRPC TLS certificate ${path.join(dir, 'missing.pem')}`);
  });

  it('takes both files or neither', () => {
    expect(tlsFiles(undefined, undefined)).toBeUndefined();
    expect(tlsFiles('c', 'k')).toEqual({ certFile: 'c', keyFile: 'k' });
    expect(() => tlsFiles('c', undefined)).toThrow(
      'GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together',
    );
  });
});

/** The TLS 1.2 suite a client offering only `ciphers` gets, or the handshake's error code. */
function handshake(port: number, ca: Buffer, ciphers: string): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      ca,
      servername: 'localhost',
      ciphers,
      maxVersion: 'TLSv1.2',
      ALPNProtocols: ['h2'],
    });
    s.once('secureConnect', () => {
      resolve(s.getCipher().standardName);
      s.destroy();
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('TLS policy and renewal', () => {
  it('offers TLS 1.2 only with ECDHE and AEAD suites', async () => {
    const s = await start({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    expect(await handshake(s.port, cert.pem, 'ECDHE-ECDSA-AES128-GCM-SHA256')).toBe(
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    );
    for (const cbc of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256'])
      expect(await handshake(s.port, cert.pem, cbc)).toMatch(/HANDSHAKE_FAILURE|ERR_SSL/);
  });

  it('serves a renewed certificate without a restart, and keeps the current one while a pair does not fit', async () => {
    const files = { certFile: path.join(dir, 'renew-cert.pem'), keyFile: path.join(dir, 'renew-key.pem') };
    copyFileSync(cert.certFile, files.certFile);
    copyFileSync(cert.keyFile, files.keyFile);
    const lines: string[] = [];
    const logger = createLogger({
      service: 'grpc-test',
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          cb();
        },
      }),
    });
    const s = await start({ tls: files, tlsReloadIntervalMs: 50, logger });
    const address = `127.0.0.1:${s.port}`;
    expect(await echo(address, grpc.credentials.createSsl(cert.pem), 'old')).toBe('old');

    // Half a renewal (a new certificate, the old key): refused, the old certificate still served.
    const next = selfSignedCert();
    writeFileSync(files.certFile, next.cert);
    await waitFor(() => lines.some((l) => l.includes('gRPC TLS certificate not reloaded')), {
      what: 'the half renewal refused',
    });
    expect(await echo(address, grpc.credentials.createSsl(cert.pem), 'still')).toBe('still');

    // The whole renewal: new connections get the new certificate.
    writeFileSync(files.keyFile, next.key);
    await waitFor(
      async () =>
        (await echo(address, grpc.credentials.createSsl(next.cert), 'new').catch(() => '')) === 'new',
      { timeoutMs: 10_000, what: 'the renewed certificate served' },
    );
    await expect(echo(address, grpc.credentials.createSsl(cert.pem), 'x')).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(
      lines.some((l) => l.includes('gRPC TLS certificate reloaded') && l.includes('fingerprint256')),
    ).toBe(true);
  });
});

describe('stop', () => {
  it('reports NOT_SERVING, then refuses new calls', async () => {
    const s = await start();
    const address = `127.0.0.1:${s.port}`;
    expect(await echo(address, grpc.credentials.createInsecure(), 'before')).toBe('before');
    await s.stop();
    await s.stop(); // idempotent
    await expect(echo(address, grpc.credentials.createInsecure(), 'after')).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });
});
