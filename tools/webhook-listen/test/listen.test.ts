// npm run webhook-listen as a real process: a request signed the way docs/webhooks.md's openssl line signs
// (so that snippet is checked too) is verified and printed; a wrong signature is answered 401; --fail N
// answers 500 first (what makes the hub retry).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, waitFor } from '@smshub/testing';
import { verifySmshubSignature } from '../src/verify.js';

const secret = 'whsec_test_0123456789abcdefghijklmnopqrstuv';
let child: ChildProcess;
let out = '';
let port = 0;

/** HMAC-SHA256 hex of `${t}.${body}` computed by the openssl command line, as docs/webhooks.md shows. */
function opensslSign(t: number, body: string): string {
  const stdout = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret], { input: `${t}.${body}` });
  return /([0-9a-f]{64})\s*$/.exec(stdout.toString('utf8'))![1]!;
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      '--conditions=@smshub/source',
      '--import',
      'tsx',
      path.join(repoRoot(), 'tools/webhook-listen/src/main.ts'),
      '--port',
      '0',
      '--fail',
      '1',
    ],
    { env: { ...process.env, WEBHOOK_SECRET: `whsec_old_one,${secret}` }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  port = Number(
    (await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1], {
      timeoutMs: 60_000,
      what: 'the listener',
    })) as string,
  );
}, 90_000);

afterAll(() => {
  child?.kill('SIGTERM');
});

const body = JSON.stringify({
  id: '0193a3c4-0000-7000-8000-000000000001',
  type: 'message.status',
  data: { message_id: 'm-1', status: 'DELIVERED', to: '447400123456', revision: 1, final: true },
});

async function post(header: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'smshub-signature': header },
    body,
  });
  return res.status;
}

describe('webhook-listen', () => {
  it('verifies an openssl-signed request (500 first with --fail 1, then 204) and refuses a bad signature', async () => {
    const t = Math.floor(Date.now() / 1000);
    const sig = opensslSign(t, body);
    // the Node snippet of the docs agrees with openssl
    expect(verifySmshubSignature(`t=${t},v1=${sig}`, body, [secret])).toBe(true);
    expect(verifySmshubSignature(`t=${t - 3600},v1=${sig}`, body, [secret])).toBe(false);
    expect(await post(`t=${t},v1=${'0'.repeat(64)},v1=${sig}`)).toBe(500);
    expect(await post(`t=${t},v1=${sig}`)).toBe(204);
    await waitFor(
      () => out.includes('signature ok: receipt: DELIVERED message m-1 to 447400123456 revision 1 final'),
      {
        what: 'the printed receipt',
      },
    );
    expect(await post(`t=${t},v1=${'1'.repeat(64)}`)).toBe(401);
    await waitFor(() => out.includes('signature does NOT verify -> 401'), { what: 'the refusal line' });
  });
});
