import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CommandStatus as S,
  SmppError,
  connectSmpp,
  decodePdu,
  encodePdu,
  type Pdu,
  type SmppSession,
} from '../src/index.js';
import { waitFor } from '@smshub/testing';

/**
 * A scripted SMSC made of raw bytes, to check how the client side copes with a peer that misbehaves
 * (which the lib's own server refuses to do).
 */
class RawSmsc {
  readonly server = net.createServer((s) => this.onSocket(s));
  socket: net.Socket | undefined;
  readonly received: Pdu[] = [];
  private rx = Buffer.alloc(0);
  /** Decides the answer to each PDU; return undefined to stay silent. */
  answer: (pdu: Pdu) => Buffer | undefined = () => undefined;

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  private onSocket(s: net.Socket): void {
    this.socket = s;
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      this.rx = Buffer.concat([this.rx, chunk]);
      while (this.rx.length >= 16 && this.rx.length >= this.rx.readUInt32BE(0)) {
        const len = this.rx.readUInt32BE(0);
        const r = decodePdu(Buffer.from(this.rx.subarray(0, len)));
        this.rx = this.rx.subarray(len);
        if (!r.ok) continue;
        this.received.push(r.pdu);
        if (r.pdu.command.startsWith('bind_')) {
          s.write(
            encodePdu({
              command: `${r.pdu.command}_resp`,
              sequence_number: r.pdu.sequence_number,
              system_id: 'raw',
            }),
          );
          continue;
        }
        const a = this.answer(r.pdu);
        if (a) s.write(a);
      }
    });
  }

  write(b: Buffer): void {
    this.socket?.write(b);
  }

  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ smsc: RawSmsc; esme: SmppSession }> {
  const smsc = new RawSmsc();
  const port = await smsc.listen();
  cleanups.push(() => smsc.close());
  const esme = await connectSmpp({
    host: '127.0.0.1',
    port,
    systemId: 'esme',
    password: 'pw',
    bindType: 'transceiver',
    enquireLinkMs: 0,
    responseTimeoutMs: 2000,
    handlers: { deliver_sm: () => ({}) },
  });
  cleanups.push(() => esme.destroy());
  return { smsc, esme };
}

const submit = { source_addr: 'A', destination_addr: '1', short_message: Buffer.from('x') };

describe('client side against a misbehaving SMSC', () => {
  it('rejects a request answered with generic_nack, with its status', async () => {
    const { smsc, esme } = await setup();
    smsc.answer = (p) =>
      encodePdu({
        command: 'generic_nack',
        command_status: S.ESME_RINVCMDID,
        sequence_number: p.sequence_number,
      });
    const err = (await esme.submit(submit).catch((e: unknown) => e)) as SmppError;
    expect(err).toBeInstanceOf(SmppError);
    expect(err.commandStatus).toBe(S.ESME_RINVCMDID);
    expect(esme.inflightOutbound).toBe(0);
  });

  it('answers garbage with generic_nack, ignores unknown responses and stays bound', async () => {
    const { smsc, esme } = await setup();
    // Answer requests only (the client's generic_nack for the junk is a response).
    smsc.answer = (p) =>
      p.command_id & 0x80000000
        ? undefined
        : encodePdu({ command: `${p.command}_resp`, sequence_number: p.sequence_number, message_id: 'ok' });
    const junk = Buffer.alloc(24, 0xee);
    junk.writeUInt32BE(24, 0);
    junk.writeUInt32BE(0x00000005, 4); // deliver_sm with a body that is not one
    junk.writeUInt32BE(0, 8);
    junk.writeUInt32BE(31, 12);
    smsc.write(junk);
    smsc.write(encodePdu({ command: 'submit_sm_resp', sequence_number: 999_999, message_id: 'stray' }));
    await waitFor(() => smsc.received.find((p) => p.sequence_number === 31), { what: 'nack for the junk' });
    expect(smsc.received.find((p) => p.sequence_number === 31)).toMatchObject({
      command: 'generic_nack',
      command_status: S.ESME_RINVCMDLEN,
    });
    expect((await esme.submit(submit)).message_id).toBe('ok');
    expect(esme.state).toBe('BOUND_TRX');
  });

  it('answers deliver_sm through its handler, and closes on an impossible length', async () => {
    const { smsc, esme } = await setup();
    smsc.write(
      encodePdu({
        command: 'deliver_sm',
        sequence_number: 5,
        source_addr: '1',
        destination_addr: '2',
        short_message: Buffer.from('hey'),
      }),
    );
    await waitFor(() => smsc.received.find((p) => p.command === 'deliver_sm_resp'), {
      what: 'deliver_sm_resp',
    });
    expect(smsc.received.find((p) => p.command === 'deliver_sm_resp')).toMatchObject({
      command_status: 0,
      sequence_number: 5,
    });
    const pending = esme.submit(submit).catch((e: unknown) => e);
    smsc.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    await esme.waitClosed();
    expect(esme.state).toBe('CLOSED');
    const err = (await pending) as SmppError;
    expect(err.retriable).toBe(true);
  });
});
