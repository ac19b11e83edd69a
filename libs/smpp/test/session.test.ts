import { afterEach, describe, expect, it } from 'vitest';
import {
  CommandStatus as S,
  SmppError,
  SmppTimeoutError,
  connectSmpp,
  createSmppServer,
  encodePdu,
  validateSubmitSm,
  type BindType,
  type ConnectSmppOptions,
  type Pdu,
  type SmppServer,
  type SmppServerOptions,
  type SmppSession,
} from '../src/index.js';
import { selfSignedCert } from '@smshub/testing';
import { waitFor } from '@smshub/testing';
import { RawPeer, deferred } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let nextMessageId = 1;
async function startServer(
  over: Partial<SmppServerOptions> = {},
): Promise<{ server: SmppServer; port: number }> {
  const server = createSmppServer({
    onBind: (_s, pdu) =>
      pdu.password === 'secret' ? { status: S.ESME_ROK, systemId: 'hubtest' } : { status: S.ESME_RINVPASWD },
    handlers: {
      submit_sm: (pdu) => {
        const status = validateSubmitSm(pdu);
        return status ? { status } : { fields: { message_id: String(nextMessageId++) } };
      },
    },
    ...over,
  });
  const { port } = await server.listen(0);
  cleanups.push(() => server.close({ graceMs: 500 }));
  return { server, port };
}

async function client(port: number, over: Partial<ConnectSmppOptions> = {}): Promise<SmppSession> {
  const s = await connectSmpp({
    host: '127.0.0.1',
    port,
    systemId: 'esme1',
    password: 'secret',
    bindType: 'transceiver',
    enquireLinkMs: 0,
    ...over,
  });
  cleanups.push(() => s.destroy());
  return s;
}

const submitFields = {
  source_addr: 'Shop',
  destination_addr: '447700900123',
  short_message: Buffer.from('hi'),
  data_coding: 0,
};

async function rawBound(port: number, bind: string = 'bind_transmitter'): Promise<RawPeer> {
  const peer = await RawPeer.connect(port);
  cleanups.push(() => peer.destroy());
  peer.send({
    command: bind,
    sequence_number: 1,
    system_id: 'esme1',
    password: 'secret',
    interface_version: 0x34,
  });
  const resp = await peer.nextPdu();
  expect(resp.command_status).toBe(0);
  return peer;
}

describe('bind', () => {
  it.each<[BindType, string]>([
    ['transmitter', 'BOUND_TX'],
    ['receiver', 'BOUND_RX'],
    ['transceiver', 'BOUND_TRX'],
  ])('binds as %s', async (bindType, state) => {
    const { server, port } = await startServer();
    const s = await client(port, { bindType });
    expect(s.state).toBe(state);
    expect(s.peerSystemId).toBe('hubtest');
    expect(s.peerInterfaceVersion).toBe(0x34);
    const serverSide = await waitFor(() => [...server.sessions][0], { what: 'server session' });
    expect(serverSide.state).toBe(state);
    expect(serverSide.peerSystemId).toBe('esme1');
  });

  it('answers sc_interface_version 0x50 to a 5.0 bind', async () => {
    const { port } = await startServer();
    const s = await client(port, { interfaceVersion: 0x50 });
    expect(s.peerInterfaceVersion).toBe(0x50);
  });

  it('refuses a wrong password with its status and closes', async () => {
    const { port } = await startServer();
    const err = await client(port, { password: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppError);
    expect((err as SmppError).commandStatus).toBe(S.ESME_RINVPASWD);
    expect((err as SmppError).retriable).toBe(false);
  });
});

describe('bind race', () => {
  it('accepts a deliver_sm that the SMSC writes right behind the bind_resp', async () => {
    const delivered = deferred<Pdu>();
    const { port } = await startServer({
      onSession: (session) => {
        // Like SMSCs that flush queued receipts the moment a receiver binds: same tick, same TCP chunk.
        session.once('bound', () => {
          session
            .deliver({
              source_addr: '447700900123',
              destination_addr: 'Shop',
              short_message: Buffer.from('x'),
              esm_class: 0x04,
            })
            .then(delivered.resolve, (err: unknown) =>
              delivered.resolve({ command_status: err instanceof SmppError ? err.commandStatus : -1 } as Pdu),
            );
        });
      },
    });
    const got: Pdu[] = [];
    await client(port, { handlers: { deliver_sm: (pdu) => void got.push(pdu) } });
    const resp = await delivered.promise;
    expect(resp.command_status).toBe(0);
    expect(got).toHaveLength(1);
  });
});

describe('wrong steps', () => {
  it('submit before bind: ESME_RINVBNDSTS', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.connect(port);
    cleanups.push(() => peer.destroy());
    peer.send({ command: 'submit_sm', sequence_number: 42, ...submitFields });
    const r = await peer.nextPdu();
    expect(r).toMatchObject({
      command: 'submit_sm_resp',
      command_status: S.ESME_RINVBNDSTS,
      sequence_number: 42,
    });
  });

  it('second bind on a bound session: ESME_RALYBND', async () => {
    const { port } = await startServer();
    const peer = await rawBound(port);
    peer.send({ command: 'bind_transceiver', sequence_number: 2, system_id: 'esme1', password: 'secret' });
    expect(await peer.nextPdu()).toMatchObject({
      command: 'bind_transceiver_resp',
      command_status: S.ESME_RALYBND,
      sequence_number: 2,
    });
  });

  it('bind with an over-long system_id: ESME_RINVSYSID without asking onBind', async () => {
    let asked = 0;
    const { port } = await startServer({
      onBind: () => {
        asked++;
        return { status: 0 };
      },
    });
    const peer = await RawPeer.connect(port);
    cleanups.push(() => peer.destroy());
    peer.send({
      command: 'bind_transmitter',
      sequence_number: 4,
      system_id: 'x'.repeat(20),
      password: 'secret',
    });
    expect(await peer.nextPdu()).toMatchObject({
      command: 'bind_transmitter_resp',
      command_status: S.ESME_RINVSYSID,
    });
    await peer.closed;
    expect(asked).toBe(0);
  });

  it('submit on a receiver bind: ESME_RINVBNDSTS', async () => {
    const { port } = await startServer();
    const peer = await rawBound(port, 'bind_receiver');
    peer.send({ command: 'submit_sm', sequence_number: 3, ...submitFields });
    expect(await peer.nextPdu()).toMatchObject({
      command: 'submit_sm_resp',
      command_status: S.ESME_RINVBNDSTS,
    });
  });

  it('deliver_sm towards a transmitter bind is refused on both sides', async () => {
    const { server, port } = await startServer();
    const esme = await client(port, { bindType: 'transmitter' });
    const smsc = await waitFor(() => [...server.sessions].find((x) => x.state === 'BOUND_TX'), {
      what: 'bound server session',
    });
    // The SMSC side refuses locally...
    const local = await smsc
      .deliver({ source_addr: '1', destination_addr: '2', short_message: Buffer.from('x') })
      .catch((e: unknown) => e);
    expect((local as SmppError).commandStatus).toBe(S.ESME_RINVBNDSTS);
    // ...and the ESME side answers ESME_RINVBNDSTS when a peer sends one anyway.
    const answers: Pdu[] = [];
    smsc.on('pdu', (p) => answers.push(p));
    const { encodePdu } = await import('../src/index.js');
    smsc.writeRaw(
      encodePdu({
        command: 'deliver_sm',
        sequence_number: 77,
        source_addr: '1',
        destination_addr: '2',
        short_message: Buffer.from('x'),
      }),
    );
    const resp = await waitFor(() => answers.find((p) => p.sequence_number === 77), {
      what: 'deliver_sm_resp',
    });
    expect(resp).toMatchObject({ command: 'deliver_sm_resp', command_status: S.ESME_RINVBNDSTS });
    expect(esme.state).toBe('BOUND_TX');
  });

  it('unknown command id: generic_nack ESME_RINVCMDID, session goes on', async () => {
    const { port } = await startServer();
    const peer = await rawBound(port);
    const b = Buffer.alloc(20);
    b.writeUInt32BE(20, 0);
    b.writeUInt32BE(0x00000777, 4);
    b.writeUInt32BE(9, 12);
    peer.sendRaw(b);
    expect(await peer.nextPdu()).toMatchObject({
      command: 'generic_nack',
      command_status: S.ESME_RINVCMDID,
      sequence_number: 9,
    });
    peer.send({ command: 'submit_sm', sequence_number: 10, ...submitFields });
    expect(await peer.nextPdu()).toMatchObject({
      command: 'submit_sm_resp',
      command_status: 0,
      sequence_number: 10,
    });
  });

  it('command_length that disagrees with the body: generic_nack ESME_RINVCMDLEN, then the next PDU is read', async () => {
    const { port } = await startServer();
    const peer = await rawBound(port);
    const b = Buffer.alloc(24, 0xff); // submit_sm with a body of garbage and no C-string terminator
    b.writeUInt32BE(24, 0);
    b.writeUInt32BE(0x00000004, 4);
    b.writeUInt32BE(0, 8);
    b.writeUInt32BE(11, 12);
    peer.sendRaw(b);
    expect(await peer.nextPdu()).toMatchObject({
      command: 'generic_nack',
      command_status: S.ESME_RINVCMDLEN,
      sequence_number: 11,
    });
    peer.send({ command: 'enquire_link', sequence_number: 12 });
    expect(await peer.nextPdu()).toMatchObject({ command: 'enquire_link_resp', sequence_number: 12 });
  });

  it('impossible command_length: generic_nack ESME_RINVCMDLEN and this session is closed', async () => {
    const { port } = await startServer();
    const peer = await rawBound(port);
    const b = Buffer.alloc(16);
    b.writeUInt32BE(8, 0);
    b.writeUInt32BE(0x00000015, 4);
    b.writeUInt32BE(13, 12);
    peer.sendRaw(b);
    expect(await peer.nextPdu()).toMatchObject({
      command: 'generic_nack',
      command_status: S.ESME_RINVCMDLEN,
      sequence_number: 13,
    });
    await peer.closed;
  });
});

describe('link management', () => {
  it('answers enquire_link and sends them on the client interval', async () => {
    const seen: string[] = [];
    const { port } = await startServer({ onSession: (s) => s.on('pdu', (p) => seen.push(p.command)) });
    const peer = await RawPeer.connect(port);
    cleanups.push(() => peer.destroy());
    peer.send({ command: 'enquire_link', sequence_number: 5 });
    expect(await peer.nextPdu()).toMatchObject({
      command: 'enquire_link_resp',
      command_status: 0,
      sequence_number: 5,
    });
    const s = await client(port, { enquireLinkMs: 30 });
    await waitFor(() => seen.filter((c) => c === 'enquire_link').length >= 4, {
      what: 'periodic enquire_link',
    });
    expect(s.state).toBe('BOUND_TRX');
  });

  it('unbinds and closes an idle session', async () => {
    const { server, port } = await startServer({ idleTimeoutMs: 200 });
    const peer = await rawBound(port);
    const unbind = await peer.nextPdu();
    expect(unbind.command).toBe('unbind');
    peer.send({ command: 'unbind_resp', sequence_number: unbind.sequence_number });
    await peer.closed;
    await waitFor(() => server.sessions.size === 0, { what: 'server to drop the idle session' });
  });

  it('closes a connection that does not bind in time, even if it keeps the link alive', async () => {
    const { server, port } = await startServer({ bindTimeoutMs: 300 });
    const peer = await RawPeer.connect(port);
    cleanups.push(() => peer.destroy());
    let seq = 1;
    const keepAlive = setInterval(() => peer.send({ command: 'enquire_link', sequence_number: seq++ }), 50);
    cleanups.push(() => clearInterval(keepAlive));
    await peer.closed;
    await waitFor(() => server.sessions.size === 0, { what: 'server to drop the unbound session' });
  });

  it('unbinds from the client side and from the server side', async () => {
    const { server, port } = await startServer();
    const a = await client(port);
    const serverA = await waitFor(() => [...server.sessions][0], { what: 'server session' });
    const unbound = deferred();
    serverA.once('unbound', () => unbound.resolve());
    await a.unbind();
    await unbound.promise;
    expect(a.state).toBe('CLOSED');
    await serverA.waitClosed();

    const b = await client(port);
    const serverB = await waitFor(() => [...server.sessions].find((x) => x.state === 'BOUND_TRX'), {
      what: 'second server session',
    });
    await serverB.unbind();
    await b.waitClosed();
    expect(b.state).toBe('CLOSED');
  });
});

describe('window, timeouts, backpressure', () => {
  it('holds requests beyond the window until responses free a slot', async () => {
    const gate = deferred();
    let received = 0;
    const { port } = await startServer({
      handlers: {
        submit_sm: async () => {
          received++;
          await gate.promise;
          return { fields: { message_id: 'm' } };
        },
      },
    });
    const s = await client(port, { window: 3 });
    const all = Promise.all(Array.from({ length: 5 }, () => s.submit(submitFields)));
    await waitFor(() => received === 3, { what: 'three requests at the server' });
    expect(s.inflightOutbound).toBe(3);
    // One more round trip on the same socket proves the 4th and 5th were not sent.
    await s.enquireLink();
    expect(received).toBe(3);
    gate.resolve();
    const resps = await all;
    expect(resps.map((r) => r.message_id)).toEqual(['m', 'm', 'm', 'm', 'm']);
    expect(received).toBe(5);
  });

  it('server side rejects requests over its inbound window instead of queueing them', async () => {
    const gate = deferred();
    const { port } = await startServer({
      inboundWindow: 2,
      overWindowStatus: S.ESME_RMSGQFUL,
      handlers: {
        submit_sm: async () => {
          await gate.promise;
          return { fields: { message_id: 'x' } };
        },
      },
    });
    const peer = await rawBound(port);
    for (let i = 0; i < 4; i++)
      peer.send({ command: 'submit_sm', sequence_number: 100 + i, ...submitFields });
    const first = await peer.nextPdu();
    const second = await peer.nextPdu();
    expect([first.sequence_number, second.sequence_number]).toEqual([102, 103]);
    expect([first.command_status, second.command_status]).toEqual([S.ESME_RMSGQFUL, S.ESME_RMSGQFUL]);
    gate.resolve();
    const rest = [await peer.nextPdu(), await peer.nextPdu()];
    expect(rest.map((r) => [r.sequence_number, r.command_status])).toEqual([
      [100, 0],
      [101, 0],
    ]);
  });

  it('times out a request, frees its slot, and drops the late response', async () => {
    const gates = [deferred(), deferred()];
    let n = 0;
    const { port } = await startServer({
      handlers: {
        submit_sm: async () => {
          const i = n++;
          if (i === 0) await gates[0]!.promise;
          return { fields: { message_id: `id${i}` } };
        },
      },
    });
    const s = await client(port, { window: 1, responseTimeoutMs: 150 });
    const err = await s.submit(submitFields).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppTimeoutError);
    expect((err as SmppTimeoutError).retriable).toBe(true);
    expect(s.inflightOutbound).toBe(0);
    // The slot is free again: the next request goes through although the window is 1.
    const ok = await s.submit(submitFields);
    expect(ok.message_id).toBe('id1');
    gates[0]!.resolve(); // late response for the first request arrives and is dropped
    await s.enquireLink();
    expect(s.state).toBe('BOUND_TRX');
    expect(s.inflightOutbound).toBe(0);
  });

  it('honours a short per-request timeout sent after requests with a long one', async () => {
    const gate = deferred();
    let received = 0;
    const { port } = await startServer({
      handlers: {
        submit_sm: async () => {
          received++;
          await gate.promise;
          return { fields: { message_id: 'late' } };
        },
      },
    });
    const s = await client(port, { window: 10, responseTimeoutMs: 60_000 });
    const slow = [s.submit(submitFields), s.submit(submitFields)];
    const quick = s.submit(submitFields, { timeoutMs: 100 });
    await expect(quick).rejects.toBeInstanceOf(SmppTimeoutError);
    // The long ones are still waiting, and are answered once the server lets them go.
    expect(s.inflightOutbound).toBe(2);
    gate.resolve();
    const resps = await Promise.all(slow);
    expect(resps.map((r) => r.message_id)).toEqual(['late', 'late']);
    expect(received).toBe(3);
  });

  it('stops writing while the peer does not read, and resumes when it does', async () => {
    let received = 0;
    let serverSession: SmppSession | undefined;
    const { port } = await startServer({
      inboundWindow: 100_000,
      onSession: (s) => (serverSession = s),
      handlers: {
        submit_sm: () => {
          received++;
          return { fields: { message_id: 'q' } };
        },
      },
    });
    const s = await client(port, { window: 100_000, responseTimeoutMs: 60_000 });
    serverSession!.socket.pause(); // a slow reader
    const big = { ...submitFields, short_message: Buffer.alloc(250, 0x41) };
    const inflight: Array<Promise<Pdu>> = [];
    let issued = 0;
    // Issue requests until the socket asks us to wait (kernel buffers absorb the first few MB).
    while (s.writable && issued < 200_000) {
      for (let i = 0; i < 200; i++) {
        inflight.push(s.submit(big));
        issued++;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(s.writable).toBe(false);
    const written = s.inflightOutbound;
    const buffered = s.bufferedBytes;
    // Everything issued from now on waits instead of growing the socket buffer.
    for (let i = 0; i < 2000; i++) inflight.push(s.submit(big));
    await new Promise((r) => setImmediate(r));
    expect(s.inflightOutbound).toBe(written);
    expect(s.bufferedBytes).toBe(buffered);
    expect(buffered).toBeLessThan(s.socket.writableHighWaterMark + 2 * 300);
    // A caller is not left hanging on a peer that never reads again: drain waiting counts against its timeout.
    await expect(s.submit(big, { timeoutMs: 100 })).rejects.toBeInstanceOf(SmppTimeoutError);
    serverSession!.socket.resume();
    const all = await Promise.all(inflight);
    expect(all.length).toBe(issued + 2000);
    expect(received).toBe(issued + 2000);
  });
});

describe('message flow', () => {
  it('carries submit_sm and deliver_sm both ways with raw bytes and data_coding', async () => {
    const got: Pdu[] = [];
    const { server, port } = await startServer({
      handlers: {
        submit_sm: (p) => {
          got.push(p);
          return { fields: { message_id: 'abc' } };
        },
      },
    });
    const delivered: Pdu[] = [];
    const s = await client(port, {
      handlers: {
        deliver_sm: (p) => {
          delivered.push(p);
          return {};
        },
      },
    });
    const resp = await s.submit({
      ...submitFields,
      data_coding: 0x08,
      short_message: Buffer.from('0048', 'hex'),
      esm_class: 0x40,
    });
    expect(resp.message_id).toBe('abc');
    expect(got[0]).toMatchObject({ data_coding: 0x08, esm_class: 0x40 });
    expect(got[0]!.short_message!.toString('hex')).toBe('0048');
    const smsc = [...server.sessions][0]!;
    const dr = await smsc.deliver({
      source_addr: '2',
      destination_addr: '1',
      esm_class: 0x04,
      short_message: Buffer.from('id:abc stat:DELIVRD'),
      receipted_message_id: 'abc',
      message_state: 2,
    });
    expect(dr.command).toBe('deliver_sm_resp');
    expect(delivered[0]).toMatchObject({ esm_class: 0x04, receipted_message_id: 'abc', message_state: 2 });
  });

  it('answers the requests of one chunk with one socket write, in order', async () => {
    // The socket writes of the server session: each is a syscall, so the answers of a chunk share one.
    const writes: number[] = [];
    const { port } = await startServer({
      onSession: (session) => {
        const socket = session.socket as unknown as {
          _write: (...a: unknown[]) => void;
          _writev: (chunks: unknown[], cb: unknown) => void;
        };
        const write = socket._write.bind(socket);
        const writev = socket._writev.bind(socket);
        socket._write = (...a) => (writes.push(1), write(...a));
        socket._writev = (chunks, cb) => (writes.push(chunks.length), writev(chunks, cb));
      },
    });
    const peer = await rawBound(port);
    writes.length = 0; // the bind_resp
    const first = nextMessageId;
    peer.sendRaw(
      Buffer.concat(
        Array.from({ length: 20 }, (_, i) =>
          encodePdu({ command: 'submit_sm', sequence_number: 100 + i, ...submitFields }),
        ),
      ),
    );
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await peer.nextPdu());
    expect(answers.map((a) => [a.sequence_number, a.message_id])).toEqual(
      Array.from({ length: 20 }, (_, i) => [100 + i, String(first + i)]),
    );
    expect(writes).toEqual([20]);
  });

  it('turns a handler error into its command_status', async () => {
    const { port } = await startServer({
      handlers: {
        submit_sm: () => {
          throw new SmppError('queue full', { commandStatus: S.ESME_RTHROTTLED });
        },
      },
    });
    const s = await client(port);
    const err = (await s.submit(submitFields).catch((e: unknown) => e)) as SmppError;
    expect(err.commandStatus).toBe(S.ESME_RTHROTTLED);
    expect(err.retriable).toBe(true);
  });
});

describe('TLS', () => {
  const { key, cert } = selfSignedCert();

  it('binds over TLS when the client trusts the certificate', async () => {
    const { port } = await startServer({ tls: { key, cert } });
    const s = await client(port, { tls: { ca: cert } });
    expect(s.state).toBe('BOUND_TRX');
    expect((await s.submit(submitFields)).command_status).toBe(0);
  });

  it('verifies the server certificate by default', async () => {
    const { port } = await startServer({ tls: { key, cert } });
    const err = await client(port, { tls: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppError);
    expect(String((err as Error).message)).toMatch(/self-signed|certificate/i);
  });
});
