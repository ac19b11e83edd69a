// The harness's port handling: ports handed out are reserved until given back, and a hub process that finds
// its port taken (another process bound it between the pick and the process's own listen) is started again
// on a fresh port instead of failing the test that asked for the hub.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  freePort,
  HubPortTakenError,
  releasePorts,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  type Hub,
  type TestDatabase,
} from '../src/index.js';

const lockFile = (port: number): string =>
  path.join(os.tmpdir(), `smshub-ports-${process.getuid?.() ?? 'user'}`, String(port));

describe('freePort', () => {
  it('never hands out a port twice until it is given back, and marks it taken for other processes', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(300);
    for (const port of ports) expect(readFileSync(lockFile(port), 'utf8')).toBe(String(process.pid));

    releasePorts(ports);
    for (const port of ports) expect(existsSync(lockFile(port))).toBe(false);
  });

  it('still hands out ports when the lock folder cannot be made (its name taken by a file, as another user can in /tmp)', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'smshub-free-port-'));
    try {
      writeFileSync(path.join(tmp, `smshub-ports-${process.getuid?.() ?? 'user'}`), 'not a folder');
      const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/free-port.ts');
      const run = spawnSync(process.execPath, ['--conditions=@smshub/source', '--import', 'tsx', fixture], {
        env: { ...process.env, TMPDIR: tmp },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(Number(run.stdout)).toBeGreaterThanOrEqual(10_000);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('startHub on a taken port', () => {
  let db: TestDatabase | undefined;
  let hub: Hub | undefined;
  let blocker: Server | undefined;
  afterAll(async () => {
    await hub?.stop();
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    await db?.drop();
  }, 120_000);

  it('starts the process again on a fresh port and the hub comes up', async () => {
    db = await createTestDatabase(testDatabaseUrl());
    // Another process's listener on the port the harness picks first for admin's gRPC API.
    const blockedPort = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(blockedPort, '127.0.0.1', resolve));
    const asked: string[] = [];
    hub = await startHub({
      kafkaBrokers: testKafkaBrokers().join(','),
      databaseUrl: db.url,
      services: ['admin'],
      simulator: false,
      portSource: async (label) => {
        asked.push(label);
        return label === 'admin' && asked.filter((l) => l === 'admin').length === 1
          ? blockedPort
          : freePort();
      },
    });

    // admin failed on the blocked port, and runs on a fresh one; its other ports were kept.
    expect(readFileSync(path.join(hub.workDir, 'admin.log'), 'utf8')).toContain('EADDRINUSE');
    expect(readFileSync(path.join(hub.workDir, 'harness.log'), 'utf8')).toContain(
      'attempt 1: admin found a port taken (EADDRINUSE)',
    );
    expect(hub.ports.admin).not.toBe(blockedPort);
    expect(asked.filter((l) => l === 'admin')).toHaveLength(2);
    expect(asked.filter((l) => l === 'http:admin')).toHaveLength(1);
    const ready = await fetch(`http://127.0.0.1:${hub.ports.http.admin}/readyz`);
    expect(ready.status).toBe(200);
    expect(hub.crashes()).toEqual([]);
  }, 300_000);

  it("does not take a later attempt's other failure for a taken port (the log still holds the first attempt's EADDRINUSE)", async () => {
    // Attempt 1: admin's gRPC port held by another listener (EADDRINUSE). Attempt 2: a port admin's
    // configuration refuses (exit 78), a failure no fresh port mends: startHub must throw it, not start a third time.
    const blockedPort = (blocker!.address() as { port: number }).port;
    const asked: string[] = [];
    // A database of its own: `ops demo` seeded the other one with that hub's secrets.
    const own = await createTestDatabase(testDatabaseUrl());
    const started = startHub({
      kafkaBrokers: testKafkaBrokers().join(','),
      databaseUrl: own.url,
      services: ['admin'],
      simulator: false,
      portSource: async (label) => {
        asked.push(label);
        const n = asked.filter((l) => l === 'admin').length;
        return label !== 'admin' ? freePort() : n === 1 ? blockedPort : n === 2 ? 70_000 : freePort();
      },
    });
    const err = await started.then(
      async (h) => {
        await h.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    await own.drop();
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(HubPortTakenError);
    expect((err as Error).message).toContain('admin exited (78) before it was ready');
    expect(asked.filter((l) => l === 'admin')).toHaveLength(2);
  }, 300_000);
});
