import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@smshub/testing';
import {
  CommandStatus,
  SmppError,
  connectSmpp,
  decodeNetworkErrorCode,
  decodePdu,
  encodePdu,
  normalizeMessageId,
  parseReceipt,
  segmentText,
  partFields,
  type BindType,
  type Pdu,
  type SmppSession,
} from '@smshub/smpp';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/index.js';

const sims: Simulator[] = [];
const sessions: SmppSession[] = [];
const sockets: net.Socket[] = [];

async function start(opts: SimulatorOptions = {}): Promise<{ sim: Simulator; port: number }> {
  const sim = createSimulator({ seed: 42, ...opts });
  sims.push(sim);
  const { port } = await sim.listen(0);
  return { sim, port };
}

interface Client {
  session: SmppSession;
  delivered: Pdu[];
}

async function bind(
  port: number,
  bindType: BindType = 'transceiver',
  systemId = 'hub',
  password = 'pw',
): Promise<Client> {
  const delivered: Pdu[] = [];
  const session = await connectSmpp({
    host: '127.0.0.1',
    port,
    systemId,
    password,
    bindType,
    window: 100,
    enquireLinkMs: 0,
    handlers: {
      deliver_sm: (pdu) => {
        delivered.push(pdu);
      },
    },
  });
  sessions.push(session);
  return { session, delivered };
}

const msg = (i: number, registered_delivery = 1) => ({
  source_addr: 'ACME',
  destination_addr: `4477009${String(i).padStart(5, '0')}`,
  data_coding: 0,
  short_message: Buffer.from(`hello number ${i}`),
  registered_delivery,
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

describe('binds', () => {
  it('checks system_id and password when configured, accepts any when not', async () => {
    const { sim, port } = await start({ systemId: 'hub', password: 'secret' });
    await expect(bind(port, 'transceiver', 'hub', 'wrong')).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RINVPASWD,
    });
    await expect(bind(port, 'transceiver', 'other', 'secret')).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RINVSYSID,
    });
    await bind(port, 'transmitter', 'hub', 'secret');
    expect(sim.counters.binds).toBe(1);

    const open = await start();
    await bind(open.port, 'receiver', 'anyone', 'x');
    expect(open.sim.counters.binds).toBe(1);
  });
});

describe('submit_sm and receipts', () => {
  it('answers with a hex id and sends a receipt that carries it in text and TLVs', async () => {
    const { sim, port } = await start();
    const c = await bind(port);
    const resp = await c.session.submit(msg(1));
    const id = resp.message_id as string;
    expect(id).toMatch(/^[0-9a-f]+$/);
    const r = await waitFor(() => c.delivered[0], { what: 'receipt' });
    expect(r.esm_class).toBe(0x04);
    expect(r.source_addr).toBe('447700900001');
    expect(r.destination_addr).toBe('ACME');
    expect(r.receipted_message_id).toBe(id);
    expect(r.message_state).toBe(2);
    const parsed = parseReceipt(r.short_message as Buffer);
    expect(parsed).toMatchObject({ ok: true, id, stat: 'DELIVRD', sub: 1, dlvrd: 1, text: 'hello number 1' });
    await waitFor(() => sim.counters.receiptsAcked === 1, { what: 'receipt ack' });
    expect(sim.counters).toMatchObject({ submits: 1, accepted: 1, receiptsSent: 1, duplicates: 0 });
    const rec = sim.received();
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({
      sourceAddr: 'ACME',
      destinationAddr: '447700900001',
      registeredDelivery: 1,
      dataCoding: 0,
      messageId: id,
      systemId: 'hub',
      duplicate: false,
    });
    expect(rec[0]?.shortMessage.toString()).toBe('hello number 1');
  });

  it.each([
    ['hex', 'both', 'standard'],
    ['decimal', 'both', 'standard'],
    ['decimal', 'text', 'seconds'],
    ['hex', 'text', 'capitalText'],
    ['decimal', 'text', 'noText'],
    ['hex', 'tlv', 'standard'],
  ] as const)('idStyle %s, carrier %s, text %s', async (idStyle, carrier, textVariant) => {
    const { port } = await start({ receipts: { idStyle, carrier, textVariant, pad: 12 } });
    const c = await bind(port);
    const id = (await c.session.submit(msg(2))).message_id as string;
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    const r = await waitFor(() => c.delivered[0], { what: 'receipt' });
    const text = (r.short_message as Buffer).toString('latin1');
    if (carrier === 'tlv') {
      expect(text).toBe('');
    } else {
      const parsed = parseReceipt(text);
      expect(parsed.ok).toBe(true);
      expect(parsed.stat).toBe('DELIVRD');
      expect(parsed.id).toHaveLength(12);
      // The receipt text id in decimal is the same number as the hex id in submit_sm_resp.
      expect(normalizeMessageId(parsed.id as string, idStyle === 'decimal' ? 'dec' : 'hex')).toBe(
        normalizeMessageId(id, 'hex'),
      );
      if (idStyle === 'decimal') expect(parsed.id).not.toBe(id);
      if (textVariant === 'seconds') expect(parsed.doneDateRaw).toMatch(/^\d{12}$/);
      else expect(parsed.doneDateRaw).toMatch(/^\d{10}$/);
      if (textVariant === 'capitalText') expect(text).toContain(' Text:hello number 2');
      if (textVariant === 'noText') expect(text).not.toMatch(/text:/i);
    }
    if (carrier === 'text') {
      expect(r.receipted_message_id).toBeUndefined();
      expect(r.message_state).toBeUndefined();
    } else {
      expect(r.receipted_message_id).toBe(id);
      expect(r.message_state).toBe(2);
    }
  });

  it('draws the final stat from the mix and adds the network error code', async () => {
    const { port } = await start({ receipts: { mix: { UNDELIV: 1 } } });
    const c = await bind(port);
    await c.session.submit(msg(3));
    const r = await waitFor(() => c.delivered[0], { what: 'receipt' });
    expect(parseReceipt(r.short_message as Buffer)).toMatchObject({ stat: 'UNDELIV', dlvrd: 0, err: '001' });
    expect(r.message_state).toBe(5);
    expect(decodeNetworkErrorCode(r.network_error_code)).toEqual({ networkType: 3, errorCode: 1 });
  });

  it('follows a weighted mix with a seed', async () => {
    const { sim, port } = await start({ seed: 7, receipts: { mix: { DELIVRD: 3, EXPIRED: 1 } } });
    const c = await bind(port);
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.session.submit(msg(i))));
    await waitFor(() => c.delivered.length === 200, { what: '200 receipts' });
    const expired = c.delivered.filter((p) => p.message_state === 3).length;
    const delivered = c.delivered.filter((p) => p.message_state === 2).length;
    expect(expired + delivered).toBe(200);
    expect(expired).toBeGreaterThan(20);
    expect(expired).toBeLessThan(80);
    expect(sim.counters.receiptsSent).toBe(200);
  });

  it('honours registered_delivery (none, failure only) and sends intermediate receipts', async () => {
    const { sim, port } = await start({ receipts: { intermediate: true } });
    const c = await bind(port);
    await c.session.submit(msg(10, 0));
    await c.session.submit(msg(11, 2)); // failure only: the message is delivered, so nothing
    const id = (await c.session.submit(msg(12, 1))).message_id as string;
    await waitFor(() => c.delivered.length >= 2, { what: 'intermediate and final receipt' });
    await waitFor(() => sim.counters.receiptsAcked === 2, { what: 'acks' });
    expect(c.delivered.map((p) => [p.receipted_message_id, p.message_state])).toEqual([
      [id, 1],
      [id, 2],
    ]);
    expect(parseReceipt(c.delivered[0]?.short_message as Buffer).stat).toBe('ENROUTE');
    expect(sim.counters.accepted).toBe(3);
    expect(sim.counters.receiptsSent).toBe(2);
  });

  it('sends receipts on another bind of the same system_id and queues them while none is bound', async () => {
    const { sim, port } = await start({ receipts: { delayMs: 0 } });
    const tx = await bind(port, 'transmitter');
    const other = await bind(port, 'receiver', 'someone-else');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await tx.session.submit(msg(20 + i))).message_id as string);
    await waitFor(() => sim.pendingReceipts === 3, { what: 'three queued receipts' });
    expect(sim.counters.receiptsSent).toBe(0);
    const rx = await bind(port, 'receiver');
    await waitFor(() => rx.delivered.length === 3, { what: 'queued receipts after bind' });
    expect(rx.delivered.map((p) => p.receipted_message_id)).toEqual(ids);
    expect(other.delivered).toHaveLength(0);
    expect(sim.pendingReceipts).toBe(0);
  });

  it('keeps a receipt that falls due while its only bind is unbinding, and sends it on the next bind', async () => {
    // An ESME that sends unbind and keeps its socket open: the simulator's session stays "unbinding" (it
    // refuses deliver_sm) until the socket closes. A receipt due meanwhile used to be re-sent to that session
    // in a microtask loop that froze the process (the routing-sim bench hung so when the hub stopped).
    const { sim, port } = await start({ receipts: { delayMs: 300 } });
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(socket);
    let rx = Buffer.alloc(0);
    const pdus: Pdu[] = [];
    socket.on('data', (chunk: Buffer) => {
      rx = Buffer.concat([rx, chunk]);
      while (rx.length >= 4 && rx.length >= rx.readUInt32BE(0)) {
        const decoded = decodePdu(rx.subarray(0, rx.readUInt32BE(0)));
        rx = rx.subarray(rx.readUInt32BE(0));
        if (decoded.ok) pdus.push(decoded.pdu);
      }
    });
    const answer = (command: string) =>
      waitFor(() => pdus.find((p) => p.command === command), { what: command });
    socket.write(
      encodePdu({ command: 'bind_transceiver', sequence_number: 1, system_id: 'hub', password: 'pw' }),
    );
    expect((await answer('bind_transceiver_resp')).command_status).toBe(0);
    socket.write(encodePdu({ command: 'submit_sm', sequence_number: 2, ...msg(30) }));
    const id = (await answer('submit_sm_resp')).message_id as string;
    const dueAt = Date.now() + 300;
    socket.write(encodePdu({ command: 'unbind', sequence_number: 3 }));
    await answer('unbind_resp');
    // The receipt falls due while the session is unbinding (the socket still open) ...
    await waitFor(() => Date.now() > dueAt + 200, { what: 'the receipt due' });
    expect(sim.pendingReceipts).toBe(1);
    // ... and reaches the ESME's next bind.
    const c = await bind(port, 'receiver');
    const r = await waitFor(() => c.delivered[0], { what: 'receipt on the next bind' });
    expect(r.receipted_message_id).toBe(id);
    expect(pdus.some((p) => p.command === 'deliver_sm')).toBe(false);
  });

  it('answers late when configured with accept latency', async () => {
    const { sim, port } = await start({ acceptLatencyMs: { min: 5, max: 30 } });
    const c = await bind(port);
    const resps = await Promise.all(Array.from({ length: 50 }, (_, i) => c.session.submit(msg(i))));
    expect(new Set(resps.map((r) => r.message_id)).size).toBe(50);
    expect(sim.counters.accepted).toBe(50);
  });
});

describe('faults', () => {
  it('answers ESME_RTHROTTLED beyond the TPS cap, across sessions', async () => {
    const { sim, port } = await start({ tpsCap: 5 });
    const a = await bind(port);
    const b = await bind(port);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).session.submit(msg(i, 0))),
    );
    const throttled = results.filter(
      (r) =>
        r.status === 'rejected' && (r.reason as SmppError).commandStatus === CommandStatus.ESME_RTHROTTLED,
    ).length;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok + throttled).toBe(60);
    expect(throttled).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(sim.counters).toMatchObject({ submits: 60, accepted: ok, throttled });
  });

  it('injects errors at the configured rates', async () => {
    const { sim, port } = await start({ errorRates: { [CommandStatus.ESME_RSUBMITFAIL]: 1 } });
    const c = await bind(port);
    await expect(c.session.submit(msg(1))).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RSUBMITFAIL,
    });
    sim.setBehaviour({
      errorRates: { [CommandStatus.ESME_RMSGQFUL]: 0.3, [CommandStatus.ESME_RSYSERR]: 0.2 },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => c.session.submit(msg(i, 0))),
    );
    const byStatus: Record<number, number> = {};
    for (const r of results) {
      const s = r.status === 'fulfilled' ? 0 : (r.reason as SmppError).commandStatus;
      byStatus[s] = (byStatus[s] ?? 0) + 1;
    }
    expect(byStatus[CommandStatus.ESME_RMSGQFUL]).toBeGreaterThan(30);
    expect(byStatus[CommandStatus.ESME_RSYSERR]).toBeGreaterThan(15);
    expect(byStatus[0]).toBeGreaterThan(60);
    expect(sim.counters.rejectedByStatus).toEqual({
      [CommandStatus.ESME_RSUBMITFAIL]: 1,
      [CommandStatus.ESME_RMSGQFUL]: byStatus[CommandStatus.ESME_RMSGQFUL],
      [CommandStatus.ESME_RSYSERR]: byStatus[CommandStatus.ESME_RSYSERR],
    });
    expect(sim.counters.accepted).toBe(byStatus[0]);
    expect(() => sim.setBehaviour({ errorRates: { 8: 0.7, 0x14: 0.7 } })).toThrow(/more than 1/);
  });

  it('rejects invalid submits like an SMSC does', async () => {
    const { sim, port } = await start();
    const c = await bind(port);
    await expect(c.session.submit({ ...msg(1), destination_addr: '' })).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RINVDSTADR,
    });
    expect(sim.counters.accepted).toBe(0);
  });

  it('drops a session after every N submits', async () => {
    const { sim, port } = await start({ disconnectEvery: 5 });
    const c = await bind(port);
    for (let i = 0; i < 5; i++) await c.session.submit(msg(i, 0));
    await c.session.waitClosed();
    expect(sim.counters.disconnects).toBe(1);
    await waitFor(() => sim.boundSessions === 0, { what: 'session gone' });
    const again = await bind(port);
    await again.session.submit(msg(9, 0));
    expect(sim.counters.binds).toBe(2);
  });
});

describe('duplicates', () => {
  it('counts the same content to the same destination and part, not other parts', async () => {
    const { sim, port } = await start({ receipts: { mix: { DELIVRD: 1 } } });
    const c = await bind(port);
    await c.session.submit(msg(1, 0));
    await c.session.submit(msg(1, 0));
    await c.session.submit(msg(2, 0));
    const long = segmentText('x'.repeat(300), { method: 'udh8', reference: 77 });
    for (const part of long.parts)
      await c.session.submit({
        source_addr: 'ACME',
        destination_addr: '447700900001',
        ...partFields(long, part),
      });
    await c.session.submit({
      source_addr: 'ACME',
      destination_addr: '447700900001',
      ...partFields(long, long.parts[1]!),
    });
    expect(sim.counters.duplicates).toBe(2);
    const rec = sim.received();
    expect(rec.map((r) => r.duplicate)).toEqual([false, true, false, false, false, true]);
    expect(rec[3]?.concat).toMatchObject({ ref: 77, total: 2, seq: 1, via: 'udh' });
  });
});

describe('TLS', () => {
  it('serves binds and receipts over TLS with the given certificate', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(path.join(dir, 'cert.pem'));
      const { port } = await start({ tls: { cert, key: readFileSync(path.join(dir, 'key.pem')) } });
      const delivered: Pdu[] = [];
      const session = await connectSmpp({
        host: '127.0.0.1',
        port,
        tls: { ca: cert },
        systemId: 'hub',
        password: 'pw',
        bindType: 'transceiver',
        enquireLinkMs: 0,
        handlers: { deliver_sm: (pdu) => void delivered.push(pdu) },
      });
      sessions.push(session);
      const id = (await session.submit(msg(1))).message_id;
      await waitFor(() => delivered[0], { what: 'receipt over TLS' });
      expect(delivered[0]?.receipted_message_id).toBe(id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('networks: handsets, fake receipts, late delivery', () => {
  const probe = (to: string, token: string) => ({
    source_addr: '447700900999',
    source_addr_ton: 1,
    source_addr_npi: 1,
    destination_addr: to,
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    data_coding: 0,
    short_message: Buffer.from(`smshub probe ${token}`),
    registered_delivery: 1,
  });
  const isMo = (p: Pdu) => ((p.esm_class ?? 0) & 0x04) === 0;
  const isReceipt = (p: Pdu) => !isMo(p);

  it('a handset confirms a really delivered probe with an MO carrying its token; no token, no MO', async () => {
    const { sim, port } = await start({ handsets: { numbers: ['+447700900001'] } });
    const c = await bind(port);
    await c.session.submit(probe('447700900001', 'PRB-abc123'));
    await c.session.submit(probe('447700900001', 'no token here'));
    await c.session.submit(probe('447700900002', 'PRB-notahandset'));
    const mo = await waitFor(() => c.delivered.find(isMo), { what: 'handset MO' });
    expect(mo.source_addr).toBe('447700900001');
    expect(mo.destination_addr).toBe('447700900999');
    expect((mo.short_message as Buffer).toString('latin1')).toBe('ACK PRB-abc123');
    await waitFor(() => c.delivered.filter(isReceipt).length === 3, { what: 'three receipts' });
    await waitFor(() => sim.counters.handsetDeliveries === 2, { what: 'both handset deliveries' });
    expect(c.delivered.filter(isMo)).toHaveLength(1);
    expect(sim.counters.handsetConfirmations).toBe(1);
  });

  it('fakeReceipts: DELIVRD for messages never delivered, only to the chosen prefixes', async () => {
    const { sim, port } = await start({
      receipts: { mix: { UNDELIV: 1 } },
      handsets: { numbers: ['447700900001', '447800900001'] },
      fakeReceipts: { prefixes: ['4477'] },
    });
    const c = await bind(port);
    await c.session.submit(probe('447700900001', 'PRB-fake1'));
    await c.session.submit(probe('447800900001', 'PRB-honest1'));
    await waitFor(() => c.delivered.filter(isReceipt).length === 2, { what: 'two receipts' });
    const stats = c.delivered.filter(isReceipt).map((p) => [p.source_addr, p.message_state]);
    // The faked one says delivered (2); the other follows the mix (UNDELIV 5) and reaches no handset.
    expect(stats).toEqual(
      expect.arrayContaining([
        ['447700900001', 2],
        ['447800900001', 5],
      ]),
    );
    expect(sim.counters.fakeReceipts).toBe(1);
    // A later honest delivery to a handset is confirmed; the fake one never was.
    sim.setBehaviour({ receipts: { mix: { DELIVRD: 1 } }, fakeReceipts: undefined });
    await c.session.submit(probe('447700900001', 'PRB-after'));
    const mo = await waitFor(() => c.delivered.find(isMo), { what: 'MO after the switch' });
    expect((mo.short_message as Buffer).toString('latin1')).toBe('ACK PRB-after');
    expect(c.delivered.filter(isMo)).toHaveLength(1);
    expect(sim.counters.handsetDeliveries).toBe(1);
  });

  it('lateDelivery: the receipt at once, the handset (and its MO) only after the delay', async () => {
    const { sim, port } = await start({
      handsets: { numbers: ['447700900001'] },
      lateDelivery: { delayMs: 1500 },
    });
    const c = await bind(port);
    const handsets: Array<{ late: boolean; deliveredAt: number; submitTime: number }> = [];
    sim.on('handset', (h) => handsets.push(h));
    await c.session.submit(probe('447700900001', 'PRB-late'));
    const receipt = await waitFor(() => c.delivered.find(isReceipt), { what: 'receipt' });
    expect(receipt.message_state).toBe(2);
    expect(c.delivered.filter(isMo)).toHaveLength(0); // the receipt came first: the MO is 1.5 s behind
    const mo = await waitFor(() => c.delivered.find(isMo), { what: 'late MO', timeoutMs: 5000 });
    expect((mo.short_message as Buffer).toString('latin1')).toBe('ACK PRB-late');
    expect(handsets[0]?.late).toBe(true);
    expect((handsets[0]?.deliveredAt ?? 0) - (handsets[0]?.submitTime ?? 0)).toBeGreaterThanOrEqual(1400);
    expect(sim.counters.lateDeliveries).toBe(1);
  });

  it('refuses bad network options', () => {
    expect(() => createSimulator({ fakeReceipts: { share: 2 } })).toThrow(/fakeReceipts.share/);
    expect(() => createSimulator({ lateDelivery: { delayMs: -1 } })).toThrow(/lateDelivery.delayMs/);
    expect(() => createSimulator({ handsets: { numbers: ['abc'] } })).toThrow(/handsets.numbers/);
    expect(() => createSimulator({ handsets: { numbers: [], replyTemplate: 'x' } })).toThrow(/\{token\}/);
  });
});
