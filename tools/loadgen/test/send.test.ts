// `npm run send` as a user runs it (the real process), against an SMSC simulator standing in for the hub:
// it prints the message id it got in submit_sm_resp and the status of the matching receipt, and it fails
// with a sentence, never a stack, when it cannot bind or no receipt comes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function send(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@smshub/source',
        '--import',
        'tsx',
        path.join(root, 'tools/loadgen/src/send.ts'),
        ...args,
      ],
      { cwd: root, env: { PATH: process.env['PATH'] ?? '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run send', () => {
  const sims: Simulator[] = [];
  let delivered: number;
  let undelivered: number;
  let silent: number;

  beforeAll(async () => {
    const start = async (opts: Parameters<typeof createSimulator>[0]): Promise<number> => {
      const sim = createSimulator({ systemId: 'demo', password: 'Pw123456', ...opts });
      sims.push(sim);
      return (await sim.listen(0)).port;
    };
    delivered = await start({ receipts: { mix: { DELIVRD: 1 }, delayMs: 100 } });
    undelivered = await start({ receipts: { mix: { UNDELIV: 1 }, delayMs: 100, carrier: 'text' } });
    silent = await start({ receipts: { mix: { DELIVRD: 1 }, delayMs: 60_000 } });
  });

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
  });

  const common = ['--to', '+447400123456', '--text', 'hello', '--password', 'Pw123456'];

  it('prints the message id and the delivered receipt, exit 0', async () => {
    const r = await send([...common, '--port', String(delivered)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = /submitted: message id (\S+)/.exec(r.stdout)?.[1];
    expect(id).toBeTruthy();
    expect(r.stdout).toContain('receipt: DELIVRD');
    expect(r.stdout).toContain(`npm run hubctl -- messages get ${id}`);
    const received = sims[0]?.received() ?? [];
    expect(received.at(-1)?.destinationAddr).toBe('447400123456');
    expect(received.at(-1)?.registeredDelivery).toBe(1);
  });

  it('prints a non-delivered status read from the receipt text', async () => {
    const r = await send([...common, '--port', String(undelivered)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('receipt: UNDELIV');
  });

  it('says so when no receipt comes in time', async () => {
    const r = await send([...common, '--port', String(silent), '--wait', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('submitted: message id');
    expect(r.stderr).toMatch(/^send: no delivery receipt within 1 s/);
  });

  it('says why a bind is refused or impossible, without a stack', async () => {
    const wrong = await send([
      '--to',
      '+447400123456',
      '--text',
      'x',
      '--password',
      'nope',
      '--port',
      String(delivered),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused (ESME_RINVPASWD): check --system-id and --password');
    const closed = await send([...common, '--port', '1']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain('Is the hub running (npm start)?');
    expect(closed.stderr).not.toContain('    at ');
  });
});
