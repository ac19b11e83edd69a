import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, connectSmpp, type Pdu } from '@smshub/smpp';
import { freePort, waitFor } from '@smshub/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'smsc-sim-'));

let child: ChildProcess;
let httpPort: number;
let good: number;
let bad: number;
let output = '';

beforeAll(async () => {
  [httpPort, good, bad] = await Promise.all([freePort(), freePort(), freePort()]);
  const config = path.join(dir, 'sims.json');
  writeFileSync(
    config,
    JSON.stringify({
      simulators: [
        { name: 'good-net', port: good, host: '127.0.0.1', receipts: { mix: { DELIVRD: 1 } } },
        { name: 'bad-net', port: bad, host: '127.0.0.1', errorRates: { ESME_RSUBMITFAIL: 1 } },
      ],
    }),
  );
  child = spawn(
    process.execPath,
    [
      '--conditions=@smshub/source',
      '--import',
      'tsx',
      'tools/smsc-simulator/src/main.ts',
      '--config',
      config,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        HTTP_PORT: String(httpPort),
        SIM_SYSTEM_ID: 'hub',
        SIM_PASSWORD: 'pw',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  await waitFor(() => fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.ok), {
    what: 'readyz',
    timeoutMs: 30_000,
  });
});

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('smsc-simulator process', () => {
  it('runs two simulators from one config file with the credentials from the environment', async () => {
    const receipts: Pdu[] = [];
    const s = await connectSmpp({
      host: '127.0.0.1',
      port: good,
      systemId: 'hub',
      password: 'pw',
      bindType: 'transceiver',
      enquireLinkMs: 0,
      handlers: { deliver_sm: (pdu) => void receipts.push(pdu) },
    });
    const resp = await s.submit({
      source_addr: 'ACME',
      destination_addr: '447700900001',
      short_message: Buffer.from('hi'),
      registered_delivery: 1,
    });
    await waitFor(async () => receipts.length === 1, { what: 'receipt', timeoutMs: 30_000 });
    expect(receipts[0]?.receipted_message_id).toBe(resp.message_id);
    await s.unbind();

    const b = await connectSmpp({
      host: '127.0.0.1',
      port: bad,
      systemId: 'hub',
      password: 'pw',
      bindType: 'transmitter',
      enquireLinkMs: 0,
    });
    await expect(
      b.submit({ source_addr: 'ACME', destination_addr: '447700900001', short_message: Buffer.from('hi') }),
    ).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RSUBMITFAIL,
    });
    await b.unbind();
    await expect(
      connectSmpp({
        host: '127.0.0.1',
        port: good,
        systemId: 'hub',
        password: 'nope',
        bindType: 'transmitter',
        enquireLinkMs: 0,
      }),
    ).rejects.toMatchObject({ commandStatus: CommandStatus.ESME_RINVPASWD });
  });

  it('exposes the counters as Prometheus metrics per simulator', async () => {
    const text = await waitFor(
      async () => {
        const t = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text());
        return t.includes('smshub_sim_receipts_acked_total{simulator="good-net"} 1') ? t : undefined;
      },
      { what: 'metrics to catch up', timeoutMs: 30_000 },
    );
    expect(text).toContain('smshub_sim_accepted_total{simulator="good-net"} 1');
    expect(text).toContain('smshub_sim_rejected_total{simulator="bad-net",status="ESME_RSUBMITFAIL"} 1');
    expect(text).toContain('smshub_sim_binds_total{simulator="bad-net"} 1');
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('simulator stopped');
  });
});
