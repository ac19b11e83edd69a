import type { Pdu } from './codec.js';
import { CommandStatus } from './status.js';
import { parseScheduleDeliveryTime, parseValidityPeriod } from './time.js';

/**
 * Checks of inbound PDUs against SMPP 3.4 field limits and values, returning the command_status to answer
 * with (ESME_ROK when the PDU is acceptable). Limits are C-octet string sizes including the NUL.
 *
 * data_coding: SMPP 3.4 has no "invalid data_coding" status (ESME_RINVDCS 0x104 exists only in 5.0), so for
 * 3.4 binds a reserved data_coding (0x80-0xBF in GSM 03.38 terms) is refused with ESME_RSUBMITFAIL 0x45 ("submit
 * failed", not retriable for the same content); for 5.0 binds (interfaceVersion >= 0x50) with ESME_RINVDCS.
 */
export const FieldLimits = {
  system_id: 16,
  password: 9,
  system_type: 13,
  service_type: 6,
  address: 21,
  address_range: 41,
  message_id: 65,
  time: 17,
  short_message: 254,
} as const;

/** True when a C-string of this content fits a field of `max` octets (NUL included). */
function fits(value: string | undefined, max: number): boolean {
  return (value ?? '').length <= max - 1;
}

const VALID_TON = new Set([0, 1, 2, 3, 4, 5, 6]);
const VALID_NPI = new Set([0, 1, 3, 4, 6, 8, 9, 10, 14, 18]);

export interface ValidateOptions {
  /** interface_version of the bind (0x34 default, 0x50 enables 5.0 statuses). */
  interfaceVersion?: number;
  /** Reference time for relative schedule/validity. */
  now?: Date;
}

/** bind_*: system_id 16, password 9, system_type 13, address_range 41. */
export function validateBind(pdu: Pdu): number {
  if (!fits(pdu.system_id, FieldLimits.system_id)) return CommandStatus.ESME_RINVSYSID;
  if (!fits(pdu.password, FieldLimits.password)) return CommandStatus.ESME_RINVPASWD;
  if (!fits(pdu.system_type, FieldLimits.system_type)) return CommandStatus.ESME_RINVSYSTYP;
  if (!fits(pdu.address_range, FieldLimits.address_range)) return CommandStatus.ESME_RBINDFAIL;
  return CommandStatus.ESME_ROK;
}

/**
 * submit_sm (and the same fields of deliver_sm / data_sm): lengths, TON/NPI, esm_class, priority,
 * registered_delivery, data_coding, sm_length vs message_payload, schedule and validity times.
 */
export function validateSubmitSm(pdu: Pdu, options: ValidateOptions = {}): number {
  const isData = pdu.command === 'data_sm';
  if (!fits(pdu.service_type, FieldLimits.service_type)) return CommandStatus.ESME_RINVSERTYP;
  if (!fits(pdu.source_addr, FieldLimits.address)) return CommandStatus.ESME_RINVSRCADR;
  if (!fits(pdu.destination_addr, FieldLimits.address) || (pdu.destination_addr ?? '') === '')
    return CommandStatus.ESME_RINVDSTADR;
  if (!VALID_TON.has(pdu.source_addr_ton ?? 0)) return CommandStatus.ESME_RINVSRCTON;
  if (!VALID_NPI.has(pdu.source_addr_npi ?? 0)) return CommandStatus.ESME_RINVSRCNPI;
  if (!VALID_TON.has(pdu.dest_addr_ton ?? 0)) return CommandStatus.ESME_RINVDSTTON;
  if (!VALID_NPI.has(pdu.dest_addr_npi ?? 0)) return CommandStatus.ESME_RINVDSTNPI;
  const esm = pdu.esm_class ?? 0;
  // Message type bits 2-5: for an ESME's submit only default (0), delivery ack (0x08) and manual ack (0x10).
  const msgType = esm & 0x3c;
  if (pdu.command === 'submit_sm' && msgType !== 0 && msgType !== 0x08 && msgType !== 0x10)
    return CommandStatus.ESME_RINVESMCLASS;
  if (!isData) {
    if ((pdu.priority_flag ?? 0) > 3) return CommandStatus.ESME_RINVPRTFLG;
    if ((pdu.replace_if_present_flag ?? 0) > 1) return CommandStatus.ESME_RINVREPFLAG;
  }
  if (((pdu.registered_delivery ?? 0) & 0x03) === 0x03) return CommandStatus.ESME_RINVREGDLVFLG;
  const dcs = pdu.data_coding ?? 0;
  if (dcs >= 0x80 && dcs <= 0xbf) {
    return (options.interfaceVersion ?? 0x34) >= 0x50
      ? CommandStatus.ESME_RINVDCS
      : CommandStatus.ESME_RSUBMITFAIL;
  }

  const sm = pdu.short_message;
  if (sm && sm.length > FieldLimits.short_message) return CommandStatus.ESME_RINVMSGLEN;
  if (sm && sm.length > 0 && pdu.message_payload !== undefined) return CommandStatus.ESME_RINVMSGLEN;
  if (!isData) {
    const sched = parseScheduleDeliveryTime(pdu.schedule_delivery_time, options.now);
    if (!fits(pdu.schedule_delivery_time, FieldLimits.time) || !sched.ok) return CommandStatus.ESME_RINVSCHED;
    const valid = parseValidityPeriod(pdu.validity_period, options.now);
    if (!fits(pdu.validity_period, FieldLimits.time) || !valid.ok) return CommandStatus.ESME_RINVEXPIRY;
  }
  const sar = [pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum];
  const sarCount = sar.filter((v) => v !== undefined).length;
  if (sarCount > 0 && sarCount < 3) return CommandStatus.ESME_RMISSINGTLV;
  if (sarCount === 3) {
    const total = pdu.sar_total_segments as number;
    const seq = pdu.sar_segment_seqnum as number;
    if (total < 1 || seq < 1 || seq > total) return CommandStatus.ESME_RINVTLVVAL;
  }
  return CommandStatus.ESME_ROK;
}

/** query_sm / cancel_sm: message_id 65, source_addr 21. */
export function validateQuerySm(pdu: Pdu): number {
  if (!fits(pdu.message_id, FieldLimits.message_id)) return CommandStatus.ESME_RINVMSGID;
  if (!fits(pdu.source_addr, FieldLimits.address)) return CommandStatus.ESME_RINVSRCADR;
  if (!VALID_TON.has(pdu.source_addr_ton ?? 0)) return CommandStatus.ESME_RINVSRCTON;
  if (!VALID_NPI.has(pdu.source_addr_npi ?? 0)) return CommandStatus.ESME_RINVSRCNPI;
  return CommandStatus.ESME_ROK;
}
