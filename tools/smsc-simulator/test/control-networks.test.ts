// The grey-route networks through the control endpoint: a running honest simulator with a probe handset
// is switched to a fake-DLR route (DELIVRD, no handset confirmation) and back off with null; GET /behaviour
// shows what is in force and the handset counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSmpp, type Pdu, type SmppSession } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { waitFor } from '@smshub/testing';
import { startControl } from '../src/control.js';

let sim: Simulator;
let control: Awaited<ReturnType<typeof startControl>>;
let client: SmppSession;
const receipts: string[] = [];
const mos: string[] = [];

beforeAll(async () => {
  sim = createSimulator({ handsets: { numbers: ['447712000001'] } });
  const { port } = await sim.listen(0);
  control = await startControl([{ name: 'net-grey', sim }], 0);
  client = await connectSmpp({
    host: '127.0.0.1',
    port,
    systemId: 'esme',
    password: 'pw',
    bindType: 'transceiver',
    handlers: {
      deliver_sm: (pdu: Pdu) => {
        const text = pdu.short_message?.toString('latin1') ?? '';
        if (((pdu.esm_class ?? 0) & 0x04) !== 0) receipts.push(/stat:(\w+)/.exec(text)?.[1] ?? '?');
        else mos.push(text);
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

const probe = (token: string) =>
  client.submit({
    source_addr: '447700900999',
    source_addr_ton: 1,
    source_addr_npi: 1,
    destination_addr: '447712000001',
    registered_delivery: 1,
    short_message: Buffer.from(`probe ${token}`),
  });

describe('grey-route networks over the control endpoint', () => {
  it('switches a running simulator to fake receipts and back', async () => {
    await probe('PRB-one');
    await waitFor(() => mos.length === 1, { what: 'honest confirmation' });
    expect(mos[0]).toBe('ACK PRB-one');

    expect((await post({ simulator: 'net-grey', fakeReceipts: { share: 1 } })).status).toBe(200);
    await probe('PRB-two');
    await waitFor(() => receipts.length === 2, { what: 'the fake receipt' });
    expect(receipts[1]).toBe('DELIVRD');

    expect((await post({ fakeReceipts: null })).status).toBe(200);
    await probe('PRB-three');
    await waitFor(() => mos.length === 2, { what: 'confirmation after the switch back' });
    // The faked PRB-two never reached the handset: the next MO is PRB-three's.
    expect(mos).toEqual(['ACK PRB-one', 'ACK PRB-three']);

    const state = (await (
      await fetch(`http://127.0.0.1:${control.port}/behaviour?simulator=net-grey`)
    ).json()) as {
      simulators: Array<{
        name: string;
        options: { fakeReceipts?: unknown };
        counters: Record<string, number>;
      }>;
    };
    expect(state.simulators[0]?.options.fakeReceipts).toBeUndefined();
    expect(state.simulators[0]?.counters).toMatchObject({ fakeReceipts: 1, handsetDeliveries: 2 });
  });

  it('refuses a bad network setting and names it', async () => {
    const bad = await post({ lateDelivery: { delayMs: 'soon' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/lateDelivery/);
  });
});
