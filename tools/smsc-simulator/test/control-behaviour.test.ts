// POST /behaviour on the control endpoint changes a running simulator: the next message's receipt follows
// the new receipts.mix; a refused body changes nothing and says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSmpp, type Pdu, type SmppSession } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { waitFor } from '@smshub/testing';
import { startControl } from '../src/control.js';

let sim: Simulator;
let control: Awaited<ReturnType<typeof startControl>>;
let client: SmppSession;
const stats: string[] = [];

beforeAll(async () => {
  sim = createSimulator({ receipts: { mix: { DELIVRD: 1 } } });
  const { port } = await sim.listen(0);
  control = await startControl([{ name: 'net-a', sim }], 0);
  client = await connectSmpp({
    host: '127.0.0.1',
    port,
    systemId: 'esme',
    password: 'pw',
    bindType: 'transceiver',
    handlers: {
      deliver_sm: (pdu: Pdu) => {
        const m = /stat:(\w+)/.exec(pdu.short_message?.toString('latin1') ?? '');
        if (m?.[1]) stats.push(m[1]);
      },
    },
  });
});

afterAll(async () => {
  await client?.unbind().catch(() => undefined);
  control?.server.close();
  await sim?.close();
});

const post = (body: unknown) =>
  fetch(`http://127.0.0.1:${control.port}/behaviour`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const submit = () =>
  client.submit({
    source_addr: 'BENCH',
    destination_addr: '447712000001',
    registered_delivery: 1,
    short_message: Buffer.from('hello'),
  });

describe('POST /behaviour', () => {
  it('switches the receipts of a running simulator from DELIVRD to UNDELIV', async () => {
    await submit();
    await waitFor(() => stats.length === 1, { what: 'first receipt' });
    expect(stats[0]).toBe('DELIVRD');
    const res = await post({ simulator: 'net-a', receipts: { mix: { UNDELIV: 1 }, delayMs: 0 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ simulator: 'net-a' });
    await submit();
    await waitFor(() => stats.length === 2, { what: 'second receipt' });
    expect(stats[1]).toBe('UNDELIV');
  });

  it('refuses an unknown simulator, a fixed setting and a bad mix, and names the problem', async () => {
    const unknown = await post({ simulator: 'nope', receipts: { mix: { DELIVRD: 1 } } });
    expect(unknown.status).toBe(404);
    const fixed = await post({ systemId: 'other' });
    expect(fixed.status).toBe(400);
    expect(((await fixed.json()) as { error: string }).error).toMatch(/systemId/);
    const bad = await post({ receipts: 'x' });
    expect(bad.status).toBe(400);
    // Still UNDELIV from the first test: nothing changed.
    await submit();
    await waitFor(() => stats.length === 3, { what: 'third receipt' });
    expect(stats[2]).toBe('UNDELIV');
  });
});
