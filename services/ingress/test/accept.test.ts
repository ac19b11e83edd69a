import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcatMethod, HoldReason, SubmitChannel } from '@smshub/contracts';
import { CommandStatus as S, encodeText, SmppError, type SmppSession } from '@smshub/smpp';
import { Harness, type Replica } from './harness.js';
import { RawPeer } from '@smshub/smpp/testing';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof SmppError) return e.commandStatus;
    throw e;
  }
}

describe('ingress: binds, accept path, validation', () => {
  const h = new Harness();
  let r: Replica;
  let tx: SmppSession;

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    r = await h.startReplica();
    await h.addAccount({ systemId: 'acme', password: 'secret1', maxBinds: 3 });
    await h.addAccount({ systemId: 'disabled', password: 'pw', enabled: false });
    await h.addAccount({ systemId: 'fromfar', password: 'pw', allowedCidrs: ['10.1.0.0/16'] });
    await h.addAccount({ systemId: 'rxonly', password: 'pw', allowedBindTypes: ['receiver'] });
    await h.addAccount({ systemId: 'onebind', password: 'pw', maxBinds: 1 });
    await h.addAccount({ systemId: 'local', password: 'pw', allowedCidrs: ['127.0.0.0/8'] });
    tx = await h.bind(r.port, { systemId: 'acme', password: 'secret1', bindType: 'transmitter' });
  });
  afterAll(() => h.teardown());

  it('binds each bind type, with 3.4 and 5.0 interface versions', async () => {
    const trx = await h.bind(r.port, {
      systemId: 'local',
      password: 'pw',
      bindType: 'transceiver',
      interfaceVersion: 0x50,
    });
    expect(trx.state).toBe('BOUND_TRX');
    expect(trx.peerInterfaceVersion).toBe(0x50);
    const rx = await h.bind(r.port, { systemId: 'rxonly', password: 'pw', bindType: 'receiver' });
    expect(rx.state).toBe('BOUND_RX');
    expect(tx.state).toBe('BOUND_TX');
    expect(tx.peerInterfaceVersion).toBe(0x34);
    await trx.unbind();
    await rx.unbind();
    expect(trx.state).toBe('CLOSED');
  });

  it('refuses each wrong bind with its status', async () => {
    const bind = (
      systemId: string,
      password: string,
      bindType: 'transmitter' | 'receiver' | 'transceiver' = 'transmitter',
    ) => status(h.bind(r.port, { systemId, password, bindType }));
    // An unknown system_id gets the answer of a wrong password: binds do not tell which system_ids exist.
    expect(await bind('nobody', 'x')).toBe(S.ESME_RINVPASWD);
    expect(await bind('acme', 'wrong')).toBe(S.ESME_RINVPASWD);
    expect(await bind('disabled', 'pw')).toBe(S.ESME_RBINDFAIL);
    expect(await bind('fromfar', 'pw')).toBe(S.ESME_RBINDFAIL);
    expect(await bind('rxonly', 'pw', 'transmitter')).toBe(S.ESME_RBINDFAIL);
    const first = await h.bind(r.port, { systemId: 'onebind', password: 'pw', bindType: 'transmitter' });
    expect(await bind('onebind', 'pw')).toBe(S.ESME_RBINDFAIL);
    await first.unbind();
    // The slot is free again once the first session has gone.
    const again = await h.bind(r.port, { systemId: 'onebind', password: 'pw', bindType: 'transmitter' });
    await again.unbind();
  });

  it('answers a second bind with RALYBND, a submit before bind and on a receiver with RINVBNDSTS', async () => {
    const peer = await RawPeer.connect(r.port);
    peer.send({
      command: 'submit_sm',
      sequence_number: 1,
      source_addr: 'Shop',
      destination_addr: '447700900123',
      short_message: Buffer.from('x'),
    });
    expect((await peer.nextPdu()).command_status).toBe(S.ESME_RINVBNDSTS);
    peer.send({
      command: 'bind_transmitter',
      sequence_number: 2,
      system_id: 'acme',
      password: 'secret1',
      interface_version: 0x34,
    });
    expect((await peer.nextPdu()).command_status).toBe(0);
    peer.send({
      command: 'bind_transmitter',
      sequence_number: 3,
      system_id: 'acme',
      password: 'secret1',
      interface_version: 0x34,
    });
    const second = await peer.nextPdu();
    expect(second.command).toBe('bind_transmitter_resp');
    expect(second.command_status).toBe(S.ESME_RALYBND);
    peer.send({ command: 'enquire_link', sequence_number: 4 });
    expect((await peer.nextPdu()).command).toBe('enquire_link_resp');
    // Unknown command id: generic_nack RINVCMDID.
    const unknown = Buffer.alloc(16);
    unknown.writeUInt32BE(16, 0);
    unknown.writeUInt32BE(0x00000077, 4);
    unknown.writeUInt32BE(5, 12);
    peer.sendRaw(unknown);
    const nack = await peer.nextPdu();
    expect([nack.command, nack.command_status, nack.sequence_number]).toEqual([
      'generic_nack',
      S.ESME_RINVCMDID,
      5,
    ]);
    peer.send({ command: 'unbind', sequence_number: 6 });
    expect((await peer.nextPdu()).command).toBe('unbind_resp');
    await peer.closed;

    const rx = await h.bind(r.port, { systemId: 'rxonly', password: 'pw', bindType: 'receiver' });
    const rxPeer = await RawPeer.connect(r.port);
    rxPeer.send({
      command: 'bind_receiver',
      sequence_number: 1,
      system_id: 'acme',
      password: 'secret1',
      interface_version: 0x34,
    });
    expect((await rxPeer.nextPdu()).command_status).toBe(0);
    rxPeer.send({
      command: 'submit_sm',
      sequence_number: 2,
      source_addr: 'Shop',
      destination_addr: '447700900123',
      short_message: Buffer.from('x'),
    });
    expect((await rxPeer.nextPdu()).command_status).toBe(S.ESME_RINVBNDSTS);
    rxPeer.destroy();
    await rx.unbind();
  });

  it('accepts a submit only after Kafka has it, and the event carries every field', async () => {
    const resp = await tx.submit({
      service_type: 'CMT',
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'ACME',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '+447700900123',
      esm_class: 0,
      protocol_id: 0x7f,
      priority_flag: 2,
      registered_delivery: 1,
      replace_if_present_flag: 1,
      sm_default_msg_id: 3,
      data_coding: 0,
      validity_period: '000001000000000R',
      short_message: Buffer.from('Your code is 1234'),
      tlvs: { 0x1501: Buffer.from('vendor') },
    });
    expect(resp.message_id).toMatch(UUID_V7);
    const ev = await h.waitSubmitted(resp.message_id as string);
    expect(ev.messageId).toBe(resp.message_id);
    expect(ev.systemId).toBe('acme');
    expect(ev.accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ev.session).toMatchObject({
      replica: r.replicaId,
      systemId: 'acme',
      bindType: 1,
      interfaceVersion: 0x34,
    });
    expect(ev.session?.sessionId).toMatch(UUID_V7);
    expect(ev.source).toEqual({ ton: 5, npi: 0, address: 'ACME' });
    expect(ev.destination).toEqual({ ton: 1, npi: 1, address: '447700900123' });
    expect([ev.esmClass, ev.protocolId, ev.priority, ev.registeredDelivery, ev.dataCoding]).toEqual([
      0, 0x7f, 2, 1, 0,
    ]);
    expect([ev.replaceIfPresent, ev.smDefaultMsgId, ev.serviceType]).toEqual([1, 3, 'CMT']);
    expect(ev.shortMessage.toString()).toBe('Your code is 1234');
    expect(ev.fromMessagePayload).toBe(false);
    expect(ev.concat).toBeUndefined();
    expect(ev.validityPeriodRaw).toBe('000001000000000R');
    const validFor = ev.validityUntil!.getTime() - ev.receivedAt!.getTime();
    expect(Math.round(validFor / 3600_000)).toBe(24);
    expect(ev.scheduleAt).toBeUndefined();
    expect(ev.tlvs).toEqual([{ tag: 0x1501, value: Buffer.from('vendor') }]);
    expect(ev.customerMessageId).toBe(resp.message_id);
    expect(ev.channel).toBe(SubmitChannel.SUBMIT_CHANNEL_SMPP);
  });

  it('takes data_sm, absolute times and the account default validity', async () => {
    const d = await tx.dataSm({
      source_addr: '4420',
      destination_addr: '447700900124',
      message_payload: Buffer.from('data'),
      data_coding: 1,
    });
    const ev = await h.waitSubmitted(d.message_id as string);
    expect(ev.fromMessagePayload).toBe(true);
    expect(ev.shortMessage.toString()).toBe('data');
    expect(ev.dataCoding).toBe(1);
    expect(Math.round((ev.validityUntil!.getTime() - ev.receivedAt!.getTime()) / 3600_000)).toBe(48);

    const year = (new Date().getUTCFullYear() + 1) % 100;
    const s = await tx.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900125',
      short_message: Buffer.from('later'),
      schedule_delivery_time: `${year}0101120000004+`,
      validity_period: `${year}0102120000000+`,
    });
    // A scheduled message is held by the hub (services/scheduler), not routed now: sms.scheduled.v1.
    const e2 = await h.waitScheduled(s.message_id as string);
    expect(e2.scheduleAt?.toISOString()).toBe(`20${year}-01-01T11:00:00.000Z`);
    expect(e2.holdUntil?.toISOString()).toBe(`20${year}-01-01T11:00:00.000Z`);
    expect(e2.holdReason).toBe(HoldReason.HOLD_REASON_SCHEDULE);
    expect(e2.validityUntil?.toISOString()).toBe(`20${year}-01-02T12:00:00.000Z`);
    expect(e2.scheduleDeliveryTimeRaw).toBe(`${year}0101120000004+`);

    // Relative: counted from acceptance (received_at), 3 minutes 30 seconds later.
    const rel = await tx.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900125',
      short_message: Buffer.from('in 3.5 min'),
      schedule_delivery_time: '000000000330000R',
    });
    const e3 = await h.waitScheduled(rel.message_id as string);
    expect(e3.holdUntil!.getTime() - e3.receivedAt!.getTime()).toBe(210_000);
  });

  it('keeps long messages intact: UDH 8/16-bit, SAR, message_payload and UCS2', async () => {
    const ucs2 = encodeText('Привет, мир! 😀 long', 'ucs2').bytes;
    const udh8 = Buffer.concat([Buffer.from('0500030a0201', 'hex'), ucs2]);
    const a = await tx.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900126',
      esm_class: 0x40,
      data_coding: 8,
      short_message: udh8,
    });
    const b = await tx.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900126',
      esm_class: 0x40,
      data_coding: 8,
      short_message: Buffer.concat([Buffer.from('0500030a0202', 'hex'), ucs2]),
    });
    const udh16 = Buffer.concat([Buffer.from('06080412340302', 'hex'), Buffer.from('part two')]);
    const c = await tx.submit({
      source_addr: '4420',
      destination_addr: '447700900127',
      esm_class: 0x40,
      data_coding: 0,
      short_message: udh16,
    });
    const sar = await tx.submit({
      source_addr: '4420',
      destination_addr: '447700900128',
      data_coding: 0,
      short_message: Buffer.from('sar part'),
      sar_msg_ref_num: 0xbeef,
      sar_total_segments: 2,
      sar_segment_seqnum: 2,
    });
    const payload = Buffer.alloc(1200, 0x41);
    const p = await tx.submit({
      source_addr: '4420',
      destination_addr: '447700900129',
      short_message: Buffer.alloc(0),
      message_payload: payload,
    });

    const ea = await h.waitSubmitted(a.message_id as string);
    const eb = await h.waitSubmitted(b.message_id as string);
    expect(ea.shortMessage.equals(udh8)).toBe(true);
    expect(ea.concat).toMatchObject({
      reference: 10,
      total: 2,
      partNumber: 1,
      method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
    });
    expect(eb.concat).toMatchObject({ reference: 10, total: 2, partNumber: 2 });
    // Parts of one long message share the group id: the first part's hub id.
    expect(ea.concat?.groupId).toBe(ea.messageId);
    expect(eb.concat?.groupId).toBe(ea.messageId);
    expect(eb.messageId).not.toBe(ea.messageId);
    const ec = await h.waitSubmitted(c.message_id as string);
    expect(ec.concat).toMatchObject({
      reference: 0x1234,
      total: 3,
      partNumber: 2,
      method: ConcatMethod.CONCAT_METHOD_UDH_16BIT,
    });
    expect(ec.shortMessage.equals(udh16)).toBe(true);
    const es = await h.waitSubmitted(sar.message_id as string);
    expect(es.concat).toMatchObject({
      reference: 0xbeef,
      total: 2,
      partNumber: 2,
      method: ConcatMethod.CONCAT_METHOD_SAR,
    });
    const ep = await h.waitSubmitted(p.message_id as string);
    expect(ep.fromMessagePayload).toBe(true);
    expect(ep.shortMessage.equals(payload)).toBe(true);
    expect(ep.concat).toBeUndefined();
  });

  it('answers each bad field with its own status', async () => {
    const ok = {
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900123',
      short_message: Buffer.from('hi'),
    };
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['service_type too long', { service_type: 'ABCDEFG' }, S.ESME_RINVSERTYP],
      ['empty source', { source_addr: '' }, S.ESME_RINVSRCADR],
      ['alphanumeric sender over 11', { source_addr: 'ABCDEFGHIJKL' }, S.ESME_RINVSRCADR],
      ['international sender with letters', { source_addr_ton: 1, source_addr: '44abc' }, S.ESME_RINVSRCADR],
      ['bad source TON', { source_addr_ton: 9 }, S.ESME_RINVSRCTON],
      ['bad source NPI', { source_addr_npi: 7 }, S.ESME_RINVSRCNPI],
      ['empty destination', { destination_addr: '' }, S.ESME_RINVDSTADR],
      ['destination with letters', { destination_addr: '4477abc' }, S.ESME_RINVDSTADR],
      [
        'international destination over 15 digits',
        { dest_addr_ton: 1, destination_addr: '4477009001234567' },
        S.ESME_RINVDSTADR,
      ],
      ['alphanumeric destination', { dest_addr_ton: 5, destination_addr: '447700900123' }, S.ESME_RINVDSTTON],
      ['bad destination TON', { dest_addr_ton: 8 }, S.ESME_RINVDSTTON],
      ['bad destination NPI', { dest_addr_npi: 2 }, S.ESME_RINVDSTNPI],
      ['esm_class message type', { esm_class: 0x04 }, S.ESME_RINVESMCLASS],
      [
        'UDHI with a broken UDH',
        { esm_class: 0x40, short_message: Buffer.from('0a0003', 'hex') },
        S.ESME_RINVESMCLASS,
      ],
      [
        'UDH part beyond total',
        { esm_class: 0x40, short_message: Buffer.from('050003010203', 'hex') },
        S.ESME_RINVESMCLASS,
      ],
      ['priority 4', { priority_flag: 4 }, S.ESME_RINVPRTFLG],
      ['registered_delivery 3', { registered_delivery: 3 }, S.ESME_RINVREGDLVFLG],
      ['replace_if_present 2', { replace_if_present_flag: 2 }, S.ESME_RINVREPFLAG],
      ['reserved data_coding', { data_coding: 0x90 }, S.ESME_RSUBMITFAIL],
      ['data_coding the hub does not carry', { data_coding: 0x05 }, S.ESME_RSUBMITFAIL],
      ['odd UCS2 length', { data_coding: 8, short_message: Buffer.from([0, 0x41, 0]) }, S.ESME_RINVMSGLEN],
      ['short_message and message_payload', { message_payload: Buffer.from('x') }, S.ESME_RINVMSGLEN],
      ['bad schedule', { schedule_delivery_time: '991399000000000+' }, S.ESME_RINVSCHED],
      ['relative schedule not ending 000R', { schedule_delivery_time: '000000000010001R' }, S.ESME_RINVSCHED],
      ['schedule offset over 48 quarters', { schedule_delivery_time: '990101120000049+' }, S.ESME_RINVSCHED],
      ['schedule without its offset sign', { schedule_delivery_time: '9901011200000000' }, S.ESME_RINVSCHED],
      ['schedule too short', { schedule_delivery_time: '990101120000' }, S.ESME_RINVSCHED],
      ['no such day', { schedule_delivery_time: '990230120000000+' }, S.ESME_RINVSCHED],
      ['bad validity', { validity_period: 'tomorrow' }, S.ESME_RINVEXPIRY],
      ['validity in the past', { validity_period: '200101000000000+' }, S.ESME_RINVEXPIRY],
      [
        'schedule after validity',
        { schedule_delivery_time: '000002000000000R', validity_period: '000001000000000R' },
        S.ESME_RINVSCHED,
      ],
      ['SAR incomplete', { sar_msg_ref_num: 1, sar_total_segments: 2 }, S.ESME_RMISSINGTLV],
      [
        'SAR seq beyond total',
        { sar_msg_ref_num: 1, sar_total_segments: 2, sar_segment_seqnum: 3 },
        S.ESME_RINVTLVVAL,
      ],
    ];
    const got: Array<[string, number]> = [];
    for (const [name, fields] of cases) got.push([name, await status(tx.submit({ ...ok, ...fields }))]);
    expect(got).toEqual(cases.map(([name, , st]) => [name, st]));
    // 5.0 binds get ESME_RINVDCS for a data_coding the hub does not carry.
    const v5 = await h.bind(r.port, {
      systemId: 'acme',
      password: 'secret1',
      bindType: 'transmitter',
      interfaceVersion: 0x50,
    });
    expect(await status(v5.submit({ ...ok, data_coding: 0x05 }))).toBe(S.ESME_RINVDCS);
    await v5.unbind();
  });

  it('answers query_sm of an unknown message with RQUERYFAIL', async () => {
    expect(
      await status(tx.query({ message_id: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', source_addr: 'ACME' })),
    ).toBe(S.ESME_RQUERYFAIL);
  });
});
