import { describe, expect, it } from 'vitest';
import { ConcatMethod, TrafficType } from '@smshub/contracts';
import { CommandStatus as S, type Pdu } from '@smshub/smpp';
import { buildSubmitted, checkSubmit, ConcatGroups, dataCodingAccepted } from './submit.js';

const now = new Date('2026-11-22T07:00:00Z');
const account = {
  id: 'acc',
  systemId: 'acme',
  defaultValiditySeconds: 3600,
  defaultTrafficType: TrafficType.TRAFFIC_TYPE_OTP,
};
const pdu = (f: Partial<Pdu>): Pdu =>
  ({
    command: 'submit_sm',
    command_id: 4,
    command_status: 0,
    sequence_number: 1,
    source_addr: 'ACME',
    source_addr_ton: 5,
    destination_addr: '447700900123',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    short_message: Buffer.from('hi'),
    ...f,
  }) as Pdu;

describe('checkSubmit', () => {
  it('applies the account default validity and keeps a future schedule', () => {
    const r = checkSubmit(pdu({ schedule_delivery_time: '000000001000000R' }), account, 0x34, now);
    expect(r.ok && r.validityUntil.toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(r.ok && r.scheduleAt?.toISOString()).toBe('2026-11-22T07:10:00.000Z');
  });

  it('treats a schedule in the past as now', () => {
    const r = checkSubmit(pdu({ schedule_delivery_time: '200101000000000+' }), account, 0x34, now);
    expect(r.ok && r.scheduleAt).toBeUndefined();
  });

  it('gives each bad field its status', () => {
    const st = (f: Partial<Pdu>, iv = 0x34) => {
      const r = checkSubmit(pdu(f), account, iv, now);
      return r.ok ? 0 : r.status;
    };
    expect(st({ source_addr: '' })).toBe(S.ESME_RINVSRCADR);
    expect(st({ source_addr_ton: 1, source_addr: '+4477' })).toBe(0);
    expect(st({ dest_addr_ton: 5 })).toBe(S.ESME_RINVDSTTON);
    expect(st({ data_coding: 0x06 })).toBe(S.ESME_RSUBMITFAIL);
    expect(st({ data_coding: 0x06 }, 0x50)).toBe(S.ESME_RINVDCS);
    expect(st({ data_coding: 0xf5 })).toBe(0);
    expect(st({ esm_class: 0x40, short_message: Buffer.from('050003010300', 'hex') })).toBe(
      S.ESME_RINVESMCLASS,
    );
    expect(st({ validity_period: '261122065959000+' })).toBe(S.ESME_RINVEXPIRY);
  });

  it('accepts exactly the data codings the hub carries', () => {
    const ok = Array.from({ length: 256 }, (_, i) => i).filter(dataCodingAccepted);
    expect(ok).toEqual([0, 1, 2, 3, 4, 8, ...Array.from({ length: 16 }, (_, i) => 0xf0 + i)]);
  });
});

describe('buildSubmitted', () => {
  it('strips "+" from international numbers and carries concatenation with its group', () => {
    const p = pdu({
      destination_addr: '+447700900123',
      esm_class: 0x40,
      short_message: Buffer.from('0500037f0201414243', 'hex'),
    });
    const checked = checkSubmit(p, account, 0x34, now);
    if (!checked.ok) throw new Error('expected ok');
    const ev = buildSubmitted({
      pdu: p,
      checked,
      account,
      session: {
        replica: 'r',
        sessionId: 's',
        systemId: 'acme',
        bindType: 'transmitter',
        remoteAddress: '1.2.3.4:5',
        interfaceVersion: 0x34,
      },
      messageId: 'm1',
      groupId: 'g1',
      now,
    });
    expect(ev.destination).toEqual({ ton: 1, npi: 1, address: '447700900123' });
    expect(ev.concat).toEqual({
      reference: 0x7f,
      total: 2,
      partNumber: 1,
      method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
      groupId: 'g1',
    });
    expect(ev.shortMessage.toString('hex')).toBe('0500037f0201414243');
    // No service_type: the account's default traffic type.
    expect(ev.trafficType).toBe(TrafficType.TRAFFIC_TYPE_OTP);
    const session = ev.session!;
    const build = (serviceType: string) => {
      const q = { ...p, service_type: serviceType };
      const c = checkSubmit(q, account, 0x34, now);
      if (!c.ok) throw new Error('expected ok');
      return buildSubmitted({
        pdu: q,
        checked: c,
        account,
        session: { ...session, bindType: 'transmitter' },
        messageId: 'm2',
        groupId: undefined,
        now,
      });
    };
    // A keyword overrides the default and is not passed on; another service_type is passed on.
    expect(build('PROMO')).toMatchObject({
      trafficType: TrafficType.TRAFFIC_TYPE_MARKETING,
      serviceType: '',
    });
    expect(build('CMT')).toMatchObject({ trafficType: TrafficType.TRAFFIC_TYPE_OTP, serviceType: 'CMT' });
  });
});

describe('ConcatGroups', () => {
  it('gives the parts of one long message the first part id, within the ttl', () => {
    const g = new ConcatGroups(1000, 10);
    expect(g.groupId('k', 'm1', 0)).toBe('m1');
    expect(g.groupId('k', 'm2', 500)).toBe('m1');
    expect(g.groupId('k', 'm3', 2000)).toBe('m3');
  });
});
