import { describe, expect, it } from 'vitest';
import type { Pdu } from './codec.js';
import { CommandStatus as S } from './status.js';
import { validateBind, validateQuerySm, validateSubmitSm } from './validate.js';

const base: Pdu = {
  command: 'submit_sm',
  command_id: 4,
  command_status: 0,
  sequence_number: 1,
  service_type: '',
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '447700900123',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900456',
  esm_class: 0,
  priority_flag: 0,
  schedule_delivery_time: '',
  validity_period: '',
  registered_delivery: 1,
  replace_if_present_flag: 0,
  data_coding: 0,
  short_message: Buffer.from('hi'),
};

const v = (over: Partial<Pdu>, iv?: number): number =>
  validateSubmitSm({ ...base, ...over } as Pdu, iv === undefined ? {} : { interfaceVersion: iv });

describe('inbound field validation', () => {
  it('accepts a well-formed submit_sm', () => {
    expect(v({})).toBe(S.ESME_ROK);
  });

  it('returns the specific status per field', () => {
    expect(v({ source_addr: '1'.repeat(21) })).toBe(S.ESME_RINVSRCADR);
    expect(v({ source_addr: '1'.repeat(20) })).toBe(S.ESME_ROK);
    expect(v({ destination_addr: '' })).toBe(S.ESME_RINVDSTADR);
    expect(v({ destination_addr: '9'.repeat(25) })).toBe(S.ESME_RINVDSTADR);
    expect(v({ service_type: 'ABCDEF' })).toBe(S.ESME_RINVSERTYP);
    expect(v({ source_addr_ton: 7 })).toBe(S.ESME_RINVSRCTON);
    expect(v({ source_addr_npi: 2 })).toBe(S.ESME_RINVSRCNPI);
    expect(v({ dest_addr_ton: 9 })).toBe(S.ESME_RINVDSTTON);
    expect(v({ dest_addr_npi: 5 })).toBe(S.ESME_RINVDSTNPI);
    expect(v({ esm_class: 0x04 })).toBe(S.ESME_RINVESMCLASS);
    expect(v({ esm_class: 0x40 })).toBe(S.ESME_ROK);
    expect(v({ priority_flag: 4 })).toBe(S.ESME_RINVPRTFLG);
    expect(v({ registered_delivery: 3 })).toBe(S.ESME_RINVREGDLVFLG);
    expect(v({ short_message: Buffer.alloc(255) })).toBe(S.ESME_RINVMSGLEN);
    expect(v({ message_payload: Buffer.from('x') })).toBe(S.ESME_RINVMSGLEN);
    expect(v({ short_message: Buffer.alloc(0), message_payload: Buffer.from('x') })).toBe(S.ESME_ROK);
    expect(v({ schedule_delivery_time: 'tomorrow' })).toBe(S.ESME_RINVSCHED);
    expect(v({ validity_period: '241315123000000+' })).toBe(S.ESME_RINVEXPIRY);
    expect(v({ sar_msg_ref_num: 1, sar_total_segments: 2 })).toBe(S.ESME_RMISSINGTLV);
    expect(v({ sar_msg_ref_num: 1, sar_total_segments: 2, sar_segment_seqnum: 3 })).toBe(S.ESME_RINVTLVVAL);
  });

  it('refuses reserved data_coding with a 3.4 or a 5.0 status', () => {
    expect(v({ data_coding: 0x90 })).toBe(S.ESME_RSUBMITFAIL);
    expect(v({ data_coding: 0x90 }, 0x50)).toBe(S.ESME_RINVDCS);
    expect(v({ data_coding: 0xf1 })).toBe(S.ESME_ROK);
  });

  it('checks bind and query fields', () => {
    const bind = { command: 'bind_transmitter', command_id: 2, command_status: 0, sequence_number: 1 };
    expect(validateBind({ ...bind, system_id: 'x'.repeat(15), password: 'p'.repeat(8) })).toBe(S.ESME_ROK);
    expect(validateBind({ ...bind, system_id: 'x'.repeat(16) })).toBe(S.ESME_RINVSYSID);
    expect(validateBind({ ...bind, password: 'p'.repeat(9) })).toBe(S.ESME_RINVPASWD);
    expect(validateBind({ ...bind, system_type: 's'.repeat(13) })).toBe(S.ESME_RINVSYSTYP);
    const q = { command: 'query_sm', command_id: 3, command_status: 0, sequence_number: 1 };
    expect(validateQuerySm({ ...q, message_id: 'm'.repeat(64) })).toBe(S.ESME_ROK);
    expect(validateQuerySm({ ...q, message_id: 'm'.repeat(65) })).toBe(S.ESME_RINVMSGID);
  });
});
