import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel } from '@smshub/contracts';
import { TypedProducer } from '@smshub/kafka';
import {
  CommandId,
  CommandStatus as S,
  connectSmpp,
  encodePdu,
  type Pdu,
  type PduInit,
  type SmppSession,
} from '@smshub/smpp';
import { selfSignedCert, waitFor } from '@smshub/testing';
import { Harness, type Replica } from './harness.js';
import { prng, RawPeer } from '@smshub/smpp/testing';

// Reproduce a fuzz failure with INGRESS_FUZZ_SEED=<seed printed in the test name>.
const SEED = Number(process.env.INGRESS_FUZZ_SEED ?? 20261122);
const TOTAL = 2000;
const PER_CONNECTION = 10;
// Completes whatever PDU the server still waits for, then a command_length of 0 makes it close the connection.
const TRAILER = Buffer.alloc(70_016);

const submit = {
  source_addr: 'Shop',
  source_addr_ton: 5,
  destination_addr: '447700900123',
  short_message: Buffer.from('hello'),
  data_coding: 0,
};
const templates: PduInit[] = [
  { command: 'bind_transceiver', system_id: 'fuzz', password: 'secret', interface_version: 0x34 },
  { command: 'bind_transmitter', system_id: 'fuzz', password: 'wrong' },
  { command: 'bind_receiver', system_id: 'fuzz', password: 'secret', interface_version: 0x50 },
  { command: 'submit_sm', ...submit },
  { command: 'submit_sm', ...submit, esm_class: 0x40, short_message: Buffer.from('0500030102016869', 'hex') },
  {
    command: 'submit_sm',
    ...submit,
    short_message: Buffer.alloc(0),
    message_payload: Buffer.alloc(400, 0x41),
  },
  { command: 'submit_sm', ...submit, sar_msg_ref_num: 1, sar_total_segments: 2, sar_segment_seqnum: 1 },
  {
    command: 'submit_sm',
    ...submit,
    data_coding: 8,
    short_message: Buffer.from('00680069', 'hex'),
    validity_period: '000001000000000R',
  },
  { command: 'data_sm', source_addr: '1', destination_addr: '2', message_payload: Buffer.from('x') },
  { command: 'query_sm', message_id: 'abc', source_addr: '1' },
  { command: 'deliver_sm', ...submit },
  { command: 'enquire_link' },
  { command: 'enquire_link_resp' },
  { command: 'deliver_sm_resp', message_id: '' },
  { command: 'generic_nack', command_status: S.ESME_RINVCMDID },
  { command: 'unbind' },
  { command: 'cancel_sm', message_id: 'abc', source_addr: '1', destination_addr: '2' },
  { command: 'replace_sm', message_id: 'abc', source_addr: '1', short_message: Buffer.from('y') },
  {
    command: 'submit_multi',
    ...submit,
    dest_address: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '1' }],
  },
  { command: 'outbind', system_id: 'x', password: 'y' },
];
const knownIds = Object.values(CommandId);

function makeFuzzer(rand: () => number) {
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const pick = <T>(a: readonly T[]): T => a[int(a.length)] as T;
  const validPdu = (): Buffer => encodePdu({ ...pick(templates), sequence_number: 1 + int(0x7ffffffe) });
  return (): { kind: string; buf: Buffer } => {
    switch (int(8)) {
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
        if (rand() < 0.5) cut.writeUInt32BE(cut.length, 0);
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
        // Never the length field: that case is covered above; here the body is mutated.
        for (let i = 0; i < flips; i++) v[4 + int(v.length - 4)] = int(256);
        return { kind: 'mutated', buf: v };
      }
      default:
        return { kind: 'valid', buf: validPdu() };
    }
  };
}

function tlsCert(): { cert: string; key: string } {
  const { cert, key } = selfSignedCert();
  return { cert: cert.toString('utf8'), key: key.toString('utf8') };
}

describe('ingress: TLS listener and fuzzing', () => {
  const h = new Harness();
  let r: Replica;
  let cert: string;

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    const tls = tlsCert();
    cert = tls.cert;
    // The fuzz sends wrong passwords from 127.0.0.1 on purpose: the failed-bind guard must not lock the
    // well-behaved clients of this test out (it has its own test).
    r = await h.startReplica({
      tls: { port: 0, ...tls },
      idleTimeoutMs: 10_000,
      bindGuard: { slowAfter: 100_000, blockAfter: 100_000 },
    });
    await h.addAccount({
      systemId: 'fuzz',
      password: 'secret',
      maxBinds: 1000,
      tpsLimit: 100_000,
      maxWindow: 100,
    });
    await h.addAccount({ systemId: 'good', password: 'secret', maxBinds: 10, tpsLimit: 100_000 });
  });
  afterAll(() => h.teardown());

  it('binds and submits over TLS (certificate trusted via ca), and refuses an untrusted certificate', async () => {
    const s = await h.bind(r.tlsPort!, {
      systemId: 'good',
      password: 'secret',
      tls: { ca: cert, servername: 'localhost' },
    });
    const resp = await s.submit(submit);
    await h.waitSubmitted(resp.message_id as string);
    await s.unbind();
    await expect(
      connectSmpp({
        host: '127.0.0.1',
        port: r.tlsPort!,
        tls: true,
        systemId: 'good',
        password: 'secret',
        bindType: 'transmitter',
      }),
    ).rejects.toThrow();
  });

  it(`survives ${TOTAL} random and mutated PDUs (seed ${SEED}) without disturbing other sessions`, async () => {
    const crashes: unknown[] = [];
    const onCrash = (e: unknown): void => void crashes.push(e);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    try {
      const receipts: Pdu[] = [];
      const bystander: SmppSession = await h.bind(r.port, {
        systemId: 'good',
        password: 'secret',
        bindType: 'transceiver',
        enquireLinkMs: 50,
        handlers: { deliver_sm: (p) => void receipts.push(p) },
      });
      let fuzzing = true;
      let ok = 0;
      const failures: unknown[] = [];
      const loop = (async () => {
        while (fuzzing) {
          try {
            if ((await bystander.submit(submit)).message_id) ok++;
          } catch (e) {
            failures.push(e);
          }
        }
      })();

      const next = makeFuzzer(prng(SEED));
      const kinds = new Map<string, number>();
      const peers: RawPeer[] = [];
      let sent = 0;
      while (sent < TOTAL) {
        const peer = await RawPeer.connect(r.port);
        peers.push(peer);
        if (sent % 2 === 0)
          peer.send({
            command: 'bind_transceiver',
            sequence_number: 1,
            system_id: 'fuzz',
            password: 'secret',
          });
        for (let i = 0; i < PER_CONNECTION && sent < TOTAL; i++, sent++) {
          const { kind, buf } = next();
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          if (!peer.isClosed) peer.sendRaw(buf);
        }
        if (!peer.isClosed) peer.sendRaw(TRAILER);
        await Promise.race([
          peer.closed,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`fuzz connection ${peers.length} not closed`)), 10_000).unref(),
          ),
        ]);
      }
      fuzzing = false;
      await loop;

      // The bystander kept working all along and still receives receipts.
      expect(failures).toEqual([]);
      expect(ok).toBeGreaterThan(10);
      expect(bystander.state).toBe('BOUND_TRX');
      const last = await bystander.submit({ ...submit, registered_delivery: 1 });
      const id = last.message_id as string;
      await h.producer.produce(
        h.topics.delivery,
        SmsDelivery.fromPartial({
          context: {
            messageId: id,
            systemId: 'good',
            customerMessageId: id,
            registeredDelivery: 1,
            receivedAt: new Date(),
            channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
            source: { ton: 5, address: 'Shop' },
            destination: { ton: 1, npi: 1, address: '447700900123' },
          },
          status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
          final: true,
          revision: 1,
          doneAt: new Date(),
        }),
      );
      await waitFor(() => receipts.some((p) => p.receipted_message_id === id), {
        what: 'the bystander receipt',
      });

      // Every answer the server gave was well-formed; error answers were among them.
      const answers = peers.flatMap((p) => p.received);
      expect(answers.every((a) => a.ok)).toBe(true);
      expect(answers.filter((a) => a.ok && a.pdu.command_status !== 0).length).toBeGreaterThan(50);
      expect(kinds.size).toBe(7);
      await waitFor(() => r.ingress.servers[0]!.sessions.size === 1, { what: 'fuzz sessions to be closed' });

      // A new, well-behaved client binds and submits.
      const fresh = await h.bind(r.port, { systemId: 'good', password: 'secret', bindType: 'transmitter' });
      const resp = await fresh.submit(submit);
      await h.waitSubmitted(resp.message_id as string);
      expect(crashes).toEqual([]);
      await fresh.unbind();
      await bystander.unbind();
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    }
  });

  it('on shutdown answers in-flight submits, unbinds its clients and refuses new connections', async () => {
    // A producer that lingers 400 ms keeps the submit in flight long enough to stop the replica under it.
    const slow = new TypedProducer(h.kafka, h.logger, { lingerMs: 400 });
    await slow.connect();
    const replica = await h.startReplica({}, { producer: slow });
    const s = await h.bind(replica.port, { systemId: 'good', password: 'secret', bindType: 'transceiver' });
    const inflight = s.submit(submit);
    await waitFor(() => [...replica.ingress.servers[0]!.sessions].some((x) => x.inflightInbound > 0), {
      what: 'the submit to reach the server',
      intervalMs: 5,
    });
    await replica.ingress.stop();
    const resp = await inflight;
    await h.waitSubmitted(resp.message_id as string);
    await waitFor(() => s.state === 'CLOSED', { what: 'the client to be unbound' });
    await expect(h.bind(replica.port, { systemId: 'good', password: 'secret' })).rejects.toThrow();
    await slow.close();
  });
});
