import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchOutcome, MessageState } from '@smshub/contracts';
import { CommandStatus, decodeGsm7, formatReceipt, parseUdh } from '@smshub/smpp';
import { waitFor } from '@smshub/testing';
import { metricsRegistry } from '@smshub/telemetry';
import type { EgressCore } from '../src/core.js';
import { randomBytes } from 'node:crypto';
import { ConnectorStore } from '../src/connector-store.js';
import { FakeSmsc, maxInAnySecond, maxPerSecond } from './fake-smsc.js';
import { Harness } from './harness.js';

describe('egress: sending, receipts, segmentation, TPS', () => {
  const h = new Harness();
  const smsc = new FakeSmsc();
  let core: EgressCore;

  beforeAll(async () => {
    await h.setup();
    const port = await smsc.listen();
    await h.addConnector({ id: 'con_plain', port, sessions: 2 });
    await h.addConnector({ id: 'con_sar', port, segmentation: 'sar', dataCodings: [0] });
    await h.addConnector({ id: 'con_payload', port, segmentation: 'payload', dataCodings: [0] });
    await h.addConnector({
      id: 'con_packed',
      port,
      gsm7Packed: true,
      dataCodings: [0],
      segmentation: 'udh16',
    });
    await h.addConnector({ id: 'con_tps', port, sessions: 2, maxSubmitRate: 20, windowSize: 5 });
    core = await h.startCore();
    await waitFor(
      () =>
        ['con_plain', 'con_sar', 'con_payload', 'con_packed', 'con_tps'].every(
          (id) => core.connectors.get(id)?.healthy,
        ),
      {
        what: 'all connectors bound',
      },
    );
  });
  afterAll(async () => {
    await h.teardown();
    await smsc.close();
  });

  it('sends a message and publishes its dispatch keyed like its receipts; receipts and MO are published', async () => {
    const id = await h.route(['con_plain'], 'Hello from the hub');
    const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'dispatch' });
    expect(d.outcome).toBe(DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED);
    expect(d.connectorId).toBe('con_plain');
    expect([d.partNumber, d.partTotal, d.attempt, d.finalFailure]).toEqual([1, 1, 1, false]);
    expect(d.session?.systemId).toBe('hub');
    const sent = smsc.accepted().find((r) => r.messageId === d.supplierMessageId)!;
    // GSM7-encodable UCS2 text is sent in UCS2, the customer's own coding, which the connector takes.
    expect(sent.pdu.data_coding).toBe(8);
    expect(sent.pdu.source_addr_ton).toBe(5);
    expect(sent.pdu.registered_delivery).toBe(1);
    // Hex id in submit_sm_resp, decimal in the receipt text: both normalise to the same key.
    const decimal = BigInt(`0x${d.supplierMessageId}`).toString(10);
    expect(d.supplierMessageIdNormalised).toBe(decimal);
    const text = formatReceipt({
      id: decimal.padStart(10, '0'),
      sub: 1,
      dlvrd: 1,
      submitDate: new Date(),
      doneDate: new Date(),
      stat: 'DELIVRD',
      err: '000',
      text: 'Hello',
    });
    expect(
      await smsc.deliver(
        {
          esm_class: 4,
          source_addr: sent.pdu.destination_addr,
          destination_addr: 'ACME',
          short_message: Buffer.from(text),
        },
        sent.sessionId,
      ),
    ).toBe(0);
    const receipt = await waitFor(() => h.receipts.find((r) => r.supplierMessageIdNormalised === decimal), {
      what: 'receipt',
    });
    expect(receipt.connectorId).toBe('con_plain');
    expect(receipt.parsed?.stat).toBe('DELIVRD');
    expect(receipt.parseError).toBe('');
    expect(h.topics.receiptRaw.key(receipt)).toBe(h.topics.dispatched.key(d));

    // TLV-only receipt (receipted_message_id in hex, message_state).
    expect(
      await smsc.deliver(
        {
          esm_class: 4,
          source_addr: '1',
          destination_addr: '2',
          short_message: Buffer.alloc(0),
          receipted_message_id: d.supplierMessageId,
          message_state: 5,
        },
        sent.sessionId,
      ),
    ).toBe(0);
    await waitFor(
      () =>
        h.receipts.find(
          (r) =>
            r.messageState === MessageState.MESSAGE_STATE_UNDELIVERABLE &&
            r.supplierMessageIdNormalised === decimal,
        ),
      { what: 'TLV receipt' },
    );

    // MO.
    expect(
      await smsc.deliver({
        esm_class: 0,
        source_addr: '447700900999',
        destination_addr: '12345',
        short_message: Buffer.from('STOP'),
      }),
    ).toBe(0);
    const mo = await waitFor(() => h.mo.find((m) => m.source?.address === '447700900999'), { what: 'MO' });
    expect(mo.shortMessage.toString()).toBe('STOP');
    expect(mo.connectorId).toBeTruthy();
  });

  it('answers an unparseable receipt with ESME_ROK and publishes it raw with its problems', async () => {
    const garbage = Buffer.from('this is no receipt \u0001 at all', 'latin1');
    expect(
      await smsc.deliver({ esm_class: 4, source_addr: '1', destination_addr: '2', short_message: garbage }),
    ).toBe(0);
    const r = await waitFor(() => h.receipts.find((x) => x.rawText.equals(garbage)), { what: 'raw receipt' });
    expect(r.parsed).toBeUndefined();
    expect(r.parseError).toMatch(/no supplier message id/);
    expect(r.supplierMessageIdNormalised).toBe('');
    // A receipt inside message_payload is read too.
    const payload = Buffer.from(
      'id:77 sub:001 dlvrd:001 submit date:2611220700 done date:2611220701 stat:EXPIRED err:000',
    );
    expect(
      await smsc.deliver({
        esm_class: 4,
        source_addr: '1',
        destination_addr: '2',
        short_message: Buffer.alloc(0),
        message_payload: payload,
      }),
    ).toBe(0);
    await waitFor(
      () => h.receipts.find((x) => x.parsed?.stat === 'EXPIRED' && x.supplierMessageIdNormalised === '77'),
      { what: 'payload receipt' },
    );
  });

  it('segments long messages by each connector method, one dispatch per part', async () => {
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(8); // 360 GSM7 characters: 3 parts of <= 153
    // Sent by the customer in one submit_sm (message_payload), GSM7 unpacked (same octets as ASCII here).
    const gsm = { dataCoding: 0, shortMessage: Buffer.from(long, 'latin1'), fromMessagePayload: true };
    const udh8 = await h.route(['con_plain'], '', gsm);
    const sar = await h.route(['con_sar'], '', gsm);
    const payload = await h.route(['con_payload'], '', gsm);
    const packed = await h.route(['con_packed'], '', gsm);
    await waitFor(
      () =>
        h.dispatchesOf(udh8).length === 3 &&
        h.dispatchesOf(sar).length === 3 &&
        h.dispatchesOf(payload).length === 1 &&
        h.dispatchesOf(packed).length === 3,
      {
        what: 'all parts dispatched',
      },
    );
    for (const id of [udh8, sar, packed]) {
      const ds = h.dispatchesOf(id).sort((a, b) => a.partNumber - b.partNumber);
      expect(ds.map((d) => [d.partNumber, d.partTotal, d.partId])).toEqual(
        [1, 2, 3].map((n) => [n, 3, `${id}-${n}`]),
      );
      expect(ds.every((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED)).toBe(true);
      expect(new Set(ds.map((d) => d.supplierMessageId)).size).toBe(3);
    }
    const pdusOf = (id: string) =>
      h.dispatchesOf(id).map((d) => smsc.accepted().find((r) => r.messageId === d.supplierMessageId)!.pdu);
    const plain = pdusOf(udh8).sort((a, b) => a.short_message![5]! - b.short_message![5]!);
    expect(
      plain.every(
        (p) =>
          ((p.esm_class ?? 0) & 0x40) !== 0 && p.short_message!.subarray(0, 3).equals(Buffer.from([5, 0, 3])),
      ),
    ).toBe(true);
    expect(new Set(plain.map((p) => p.short_message![3])).size).toBe(1);
    expect(plain.map((p) => decodeGsm7(p.short_message!.subarray(6))).join('')).toBe(long);
    const sarPdus = pdusOf(sar);
    expect(sarPdus.map((p) => p.sar_segment_seqnum).sort()).toEqual([1, 2, 3]);
    expect(new Set(sarPdus.map((p) => p.sar_msg_ref_num)).size).toBe(1);
    expect(
      [...sarPdus]
        .sort((a, b) => a.sar_segment_seqnum! - b.sar_segment_seqnum!)
        .map((p) => decodeGsm7(p.short_message!))
        .join(''),
    ).toBe(long);
    const [pl] = pdusOf(payload);
    expect(pl!.short_message!.length).toBe(0);
    expect(pl!.message_payload!.length).toBe(long.length);
    const packedPdus = pdusOf(packed);
    expect(packedPdus.every((p) => p.short_message!.subarray(0, 3).equals(Buffer.from([6, 8, 4])))).toBe(
      true,
    );
    // 152 septets packed after the 7-octet UDH fit in 140 octets.
    expect(packedPdus.every((p) => p.short_message!.length <= 140)).toBe(true);
    const u = parseUdh(packedPdus[0]!.short_message!);
    expect(u.ok).toBe(true);
  });

  it('never submits more than the connector TPS in any second, across its binds', async () => {
    const before = smsc.received.length;
    const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => h.route(['con_tps'], `tps ${i}`)));
    await waitFor(() => ids.every((id) => h.dispatchesOf(id).length === 1), {
      what: '60 dispatches',
      timeoutMs: 20_000,
    });
    const got = smsc.received.slice(before);
    expect(got.length).toBe(60);
    expect(new Set(got.map((r) => r.sessionId)).size).toBe(2);
    const times = got.map((r) => r.at);
    console.log(
      `TPS limit 20: max per calendar second ${maxPerSecond(times)}, max in any 1 s window ${maxInAnySecond(times)}, 60 submits over ${Math.max(...times) - Math.min(...times)} ms`,
    );
    expect(maxPerSecond(times)).toBeLessThanOrEqual(20);
    expect(maxInAnySecond(times)).toBeLessThanOrEqual(20);
    const m = await metricsRegistry.getSingleMetricAsString('smshub_egress_binds_bound');
    expect(m).toMatch(/smshub_egress_binds_bound\{connector="con_tps"\} 2/);
  });

  it('submits over the transmitter and reads receipts from the receiver of a TX+RX connector', async () => {
    const pair = new FakeSmsc();
    try {
      await h.addConnector({ id: 'con_pair', port: await pair.listen(), bindMode: 'transmitter_receiver' });
      await core.reload('con_pair');
      await waitFor(() => core.connectors.get('con_pair')?.healthy && pair.boundSessions().length === 1, {
        what: 'TX and RX bound',
      });
      expect([...pair.binds].sort()).toEqual(['receiver', 'transmitter']);
      const id = await h.route(['con_pair'], 'pair');
      const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'dispatch' });
      const [rx] = pair.boundSessions();
      expect(rx!.state).toBe('BOUND_RX');
      expect(pair.received[0]!.sessionId).not.toBe(rx!.id);
      const decimal = BigInt(`0x${d.supplierMessageId}`).toString(10);
      const receipt = formatReceipt({
        id: decimal,
        sub: 1,
        dlvrd: 1,
        submitDate: new Date(),
        doneDate: new Date(),
        stat: 'DELIVRD',
        err: '000',
      });
      expect(
        await pair.deliver({
          esm_class: 4,
          source_addr: '1',
          destination_addr: '2',
          short_message: Buffer.from(receipt),
        }),
      ).toBe(0);
      await waitFor(
        () =>
          h.receipts.find((r) => r.connectorId === 'con_pair' && r.supplierMessageIdNormalised === decimal),
        { what: 'receipt via RX' },
      );
    } finally {
      await core.connectors.apply('con_pair', undefined);
      await pair.close();
    }
  });

  it('skips a connector whose password does not open with the key, and sends on the next candidate', async () => {
    const otherKey = new ConnectorStore(h.pool, randomBytes(32));
    await otherKey.upsert({
      id: 'con_badkey',
      name: 'bad',
      enabled: true,
      host: '127.0.0.1',
      port: smsc.port,
      tls: false,
      systemId: 'hub',
      password: 'secret',
      systemType: '',
      interfaceVersion: 0x34,
      bindMode: 'transceiver',
      sessions: 1,
      windowSize: 1,
      maxSubmitRate: 10,
      responseTimeoutMs: 1000,
      enquireLinkMs: 0,
      dataCodings: [0],
      gsm7Packed: false,
      segmentation: 'udh8',
      messageIdFormat: 'verbatim',
      receiptTimeZone: 'UTC',
      defaultSourceTon: 0,
      defaultSourceNpi: 0,
    });
    const { rows } = await h.pool.query<{ p: Buffer }>(
      `SELECT password_sealed AS p FROM egress_connectors WHERE id = 'con_badkey'`,
    );
    expect(rows[0]!.p.includes(Buffer.from('secret'))).toBe(false);
    await core.reload('con_badkey');
    expect(core.connectors.get('con_badkey')).toBeUndefined();
    const id = await h.route(['con_badkey', 'con_plain'], 'hi');
    const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'dispatch' });
    expect(d.connectorId).toBe('con_plain');
    expect(d.candidateIndex).toBe(1);
    expect(CommandStatus.ESME_ROK).toBe(d.commandStatus);
  });
});
