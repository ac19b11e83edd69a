import { afterAll, describe, expect, it } from 'vitest';
import {
  CommandId,
  CommandStatus as S,
  connectSmpp,
  createSmppServer,
  encodePdu,
  validateSubmitSm,
  type PduInit,
  type SmppSession,
} from '../src/index.js';
import { waitFor } from '@smshub/testing';
import { RawPeer, prng } from './helpers.js';

// Reproduce a failure with SMPP_FUZZ_SEED=<seed printed in the test name>.
const SEED = Number(process.env.SMPP_FUZZ_SEED ?? 20261122);
const TOTAL = 3000;
const PER_CONNECTION = 10;
// After its fuzz, each connection gets this many zero bytes: whatever PDU the server is still waiting for
// completes, then a command_length of 0 follows, which the server must answer with generic_nack and a close.
// So every fuzz connection ends in a known way, and the test can wait for it instead of sleeping.
const TRAILER = Buffer.alloc(70_016);

const submit = {
  source_addr: 'Shop',
  destination_addr: '447700900123',
  short_message: Buffer.from('hello'),
  data_coding: 0,
};

const valid: PduInit[] = [
  { command: 'bind_transceiver', system_id: 'fuzz', password: 'secret', interface_version: 0x34 },
  { command: 'bind_transmitter', system_id: 'fuzz', password: 'wrong' },
  { command: 'submit_sm', ...submit },
  { command: 'submit_sm', ...submit, esm_class: 0x40, short_message: Buffer.from('050003010201', 'hex') },
  {
    command: 'submit_sm',
    ...submit,
    short_message: Buffer.alloc(0),
    message_payload: Buffer.alloc(400, 0x41),
  },
  { command: 'submit_sm', ...submit, sar_msg_ref_num: 1, sar_total_segments: 2, sar_segment_seqnum: 1 },
  { command: 'data_sm', source_addr: '1', destination_addr: '2', message_payload: Buffer.from('x') },
  { command: 'query_sm', message_id: 'abc', source_addr: '1' },
  { command: 'deliver_sm', ...submit },
  { command: 'enquire_link' },
  { command: 'enquire_link_resp' },
  { command: 'submit_sm_resp', message_id: 'x' },
  { command: 'generic_nack', command_status: S.ESME_RINVCMDID },
  { command: 'unbind' },
  { command: 'cancel_sm', message_id: 'abc', source_addr: '1', destination_addr: '2' },
  { command: 'replace_sm', message_id: 'abc', source_addr: '1', short_message: Buffer.from('y') },
  {
    command: 'submit_multi',
    ...submit,
    dest_address: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '1' }, { dl_name: 'list' }],
  },
  { command: 'outbind', system_id: 'x', password: 'y' },
  { command: 'alert_notification', source_addr: '1', esme_addr: '2' },
];
const knownIds = Object.values(CommandId);

function makeFuzzer(rand: () => number) {
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const pick = <T>(a: readonly T[]): T => a[int(a.length)] as T;
  const validPdu = (): Buffer => encodePdu({ ...pick(valid), sequence_number: 1 + int(0x7ffffffe) });
  return (): { kind: string; buf: Buffer } => {
    switch (int(9)) {
      case 0:
        return { kind: 'garbage', buf: bytes(1 + int(200)) };
      case 1: {
        const len = 16 + int(300);
        const b = Buffer.concat([Buffer.alloc(16), bytes(len - 16)]);
        b.writeUInt32BE(len, 0);
        b.writeUInt32BE(rand() < 0.8 ? (pick(knownIds) as number) : int(0x100000000), 4);
        b.writeUInt32BE(int(0x100000000), 12);
        return { kind: 'header+garbage', buf: b };
      }
      case 2: {
        const v = validPdu();
        const cut = Buffer.from(v.subarray(0, 16 + int(Math.max(1, v.length - 16))));
        if (rand() < 0.5) cut.writeUInt32BE(cut.length, 0); // consistent length, truncated body
        return { kind: 'truncated', buf: cut };
      }
      case 3: {
        const v = Buffer.from(validPdu());
        v.writeUInt32BE(Math.max(0, v.length + int(41) - 20), 0);
        return { kind: 'wrong-length', buf: v };
      }
      case 4: {
        const v = validPdu();
        const tlv = Buffer.concat([Buffer.from([int(256), int(256), int(256), int(256)]), bytes(int(12))]);
        const b = Buffer.concat([v, tlv.subarray(0, int(tlv.length + 1))]);
        b.writeUInt32BE(b.length, 0);
        return { kind: 'bad-tlv', buf: b };
      }
      case 5: {
        const v = Buffer.from(validPdu());
        const flips = 1 + int(5);
        for (let i = 0; i < flips; i++) v[int(v.length)] = int(256);
        return { kind: 'mutated', buf: v };
      }
      case 6: {
        const b = Buffer.alloc(16);
        b.writeUInt32BE(rand() < 0.5 ? int(16) : 0x10000000 + int(0x7fffffff), 0);
        b.writeUInt32BE(pick(knownIds) as number, 4);
        return { kind: 'impossible-length', buf: b };
      }
      default:
        return { kind: 'valid', buf: validPdu() };
    }
  };
}

describe(`fuzz (seed ${SEED})`, () => {
  const crashes: unknown[] = [];
  const onCrash = (e: unknown): void => void crashes.push(e);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  afterAll(() => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  });

  it(`survives ${TOTAL} random and mutated PDUs without disturbing other sessions`, async () => {
    let protocolErrors = 0;
    const server = createSmppServer({
      onBind: (_s, p) => ({ status: p.password === 'secret' ? S.ESME_ROK : S.ESME_RINVPASWD }),
      onSession: (s) => s.on('protocolError', () => protocolErrors++),
      idleTimeoutMs: 10_000,
      handlers: {
        submit_sm: (p) => {
          const status = validateSubmitSm(p);
          return status ? { status } : { fields: { message_id: String(p.sequence_number) } };
        },
        data_sm: () => ({ fields: { message_id: 'd' } }),
        query_sm: (p) => ({
          fields: { message_id: p.message_id, final_date: '', message_state: 2, error_code: 0 },
        }),
      },
    });
    const { port } = await server.listen(0);
    const bystander: SmppSession = await connectSmpp({
      host: '127.0.0.1',
      port,
      systemId: 'good',
      password: 'secret',
      bindType: 'transceiver',
      enquireLinkMs: 20,
      responseTimeoutMs: 5000,
    });
    let enquireLinksAnswered = 0;
    bystander.on('pdu', (p) => {
      if (p.command === 'enquire_link_resp') enquireLinksAnswered++;
    });

    // The bystander keeps submitting during the whole fuzz run.
    let fuzzing = true;
    let bystanderOk = 0;
    const bystanderFailures: unknown[] = [];
    const bystanderLoop = (async () => {
      while (fuzzing) {
        try {
          const r = await bystander.submit(submit);
          if (r.command_status === 0) bystanderOk++;
        } catch (e) {
          bystanderFailures.push(e);
        }
      }
    })();

    const next = makeFuzzer(prng(SEED));
    const kinds = new Map<string, number>();
    const peers: RawPeer[] = [];
    let sent = 0;
    while (sent < TOTAL) {
      const peer = await RawPeer.connect(port);
      peers.push(peer);
      if (sent % 2 === 0)
        peer.send({ command: 'bind_transceiver', sequence_number: 1, system_id: 'fuzz', password: 'secret' });
      for (let i = 0; i < PER_CONNECTION && sent < TOTAL; i++, sent++) {
        const { kind, buf } = next();
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (!peer.isClosed) peer.sendRaw(buf);
      }
      if (!peer.isClosed) peer.sendRaw(TRAILER);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        peer.closed,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`server did not close fuzz connection ${peers.length}`)),
            5000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
    const enquireDuringFuzz = enquireLinksAnswered;
    fuzzing = false;
    await bystanderLoop;

    await waitFor(() => server.sessions.size === 1, { what: 'fuzz sessions to be closed on the server' });
    expect([...server.sessions][0]).toBe([...server.sessions].find((s) => s.peerSystemId === 'good'));

    // The fuzz reached the error paths...
    expect(protocolErrors).toBeGreaterThan(100);
    // Whatever the server answered was well-formed, and error answers (generic_nack / *_resp) were among it.
    const answers = peers.flatMap((p) => p.received);
    if (process.env.SMPP_FUZZ_STATS)
      console.log({
        connections: peers.length,
        protocolErrors,
        answers: answers.length,
        kinds: Object.fromEntries(kinds),
      });
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(answers.filter((a) => a.ok && a.pdu.command_status !== 0).length).toBeGreaterThan(0);
    expect([...kinds.keys()].length).toBe(8);
    // ...and the bystander never noticed.
    expect(bystanderFailures).toEqual([]);
    expect(bystanderOk).toBeGreaterThan(10);
    expect(enquireDuringFuzz).toBeGreaterThan(0);
    expect(bystander.state).toBe('BOUND_TRX');
    expect((await bystander.submit(submit)).command_status).toBe(0);

    // A new, well-behaved client binds and submits.
    const fresh = await connectSmpp({
      host: '127.0.0.1',
      port,
      systemId: 'new',
      password: 'secret',
      bindType: 'transmitter',
      enquireLinkMs: 0,
    });
    expect((await fresh.submit(submit)).message_id).toMatch(/^\d+$/);
    expect(crashes).toEqual([]);

    await fresh.unbind();
    await bystander.unbind();
    await server.close({ graceMs: 500 });
  });
});
