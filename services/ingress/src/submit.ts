import {
  BindType as ProtoBindType,
  ConcatMethod,
  HoldReason,
  SubmitChannel,
  type ConcatInfo as ProtoConcat,
  type SmsSubmitted,
} from '@smshub/contracts';
import {
  CommandStatus as S,
  messageContent,
  parseScheduleDeliveryTime,
  parseValidityPeriod,
  validateSubmitSm,
  type BindType,
  type MessageContent,
  type Pdu,
} from '@smshub/smpp';
import type { Account } from './accounts.js';
import { declaredTrafficType } from './traffic-type.js';

/**
 * Everything about one inbound submit_sm / data_sm that does not need I/O: the field checks (libs/smpp's
 * validateSubmitSm plus what a hub adds), then the SmsSubmitted event. Each bad field gets its own
 * command_status.
 */

/** data_coding values the hub carries: SMSC default GSM 03.38, IA5, 8-bit binary, Latin-1, UCS2, message class group. */
export function dataCodingAccepted(dcs: number): boolean {
  return (
    dcs === 0x00 ||
    dcs === 0x01 ||
    dcs === 0x02 ||
    dcs === 0x03 ||
    dcs === 0x04 ||
    dcs === 0x08 ||
    dcs >= 0xf0
  );
}

/** GSM 03.40 limits an alphanumeric sender to 11 characters. */
const ALPHANUMERIC_MAX = 11;
const DIGITS = /^\+?[0-9]{1,20}$/;
const E164 = /^\+?[0-9]{1,15}$/;

function sourceProblem(pdu: Pdu): number {
  const addr = pdu.source_addr ?? '';
  const ton = pdu.source_addr_ton ?? 0;
  if (addr === '') return S.ESME_RINVSRCADR;
  if (ton === 5)
    return addr.length <= ALPHANUMERIC_MAX && /^[\x20-\x7e]+$/.test(addr) ? 0 : S.ESME_RINVSRCADR;
  if (ton === 1) return E164.test(addr) ? 0 : S.ESME_RINVSRCADR;
  return DIGITS.test(addr) ? 0 : S.ESME_RINVSRCADR;
}

function destinationProblem(pdu: Pdu): number {
  const addr = pdu.destination_addr ?? '';
  const ton = pdu.dest_addr_ton ?? 0;
  // A handset number is never alphanumeric.
  if (ton === 5) return S.ESME_RINVDSTTON;
  if (ton === 1) return E164.test(addr) ? 0 : S.ESME_RINVDSTADR;
  return DIGITS.test(addr) ? 0 : S.ESME_RINVDSTADR;
}

export interface Checked {
  content: MessageContent;
  validityUntil: Date;
  scheduleAt: Date | undefined;
}

export type CheckResult = ({ ok: true } & Checked) | { ok: false; status: number; reason: string };

const fail = (status: number, reason: string): CheckResult => ({ ok: false, status, reason });

/** All field checks of a submit_sm / data_sm for `account`. */
export function checkSubmit(
  pdu: Pdu,
  account: Pick<Account, 'defaultValiditySeconds'>,
  interfaceVersion: number,
  now: Date,
): CheckResult {
  const base = validateSubmitSm(pdu, { interfaceVersion, now });
  if (base !== 0) return fail(base, 'field check');
  const src = sourceProblem(pdu);
  if (src) return fail(src, 'source address');
  const dst = destinationProblem(pdu);
  if (dst) return fail(dst, 'destination address');
  const dcs = pdu.data_coding ?? 0;
  if (!dataCodingAccepted(dcs))
    return fail(interfaceVersion >= 0x50 ? S.ESME_RINVDCS : S.ESME_RSUBMITFAIL, 'data_coding not carried');
  const c = messageContent(pdu);
  if (!c.ok) return fail(c.status, c.reason);
  if (c.concat) {
    const { total, seq } = c.concat;
    const status = c.concat.via === 'sar' ? S.ESME_RINVTLVVAL : S.ESME_RINVESMCLASS;
    if (total < 1 || seq < 1 || seq > total) return fail(status, 'concatenation numbers');
  }
  if (dcs === 0x08 && c.bytes.length % 2 !== 0) return fail(S.ESME_RINVMSGLEN, 'odd UCS2 length');

  const validity = parseValidityPeriod(pdu.validity_period, now);
  if (!validity.ok) return fail(validity.status, validity.reason);
  const validityUntil = validity.date ?? new Date(now.getTime() + account.defaultValiditySeconds * 1000);
  if (validityUntil.getTime() <= now.getTime()) return fail(S.ESME_RINVEXPIRY, 'validity already ended');
  const sched = parseScheduleDeliveryTime(pdu.schedule_delivery_time, now);
  if (!sched.ok) return fail(sched.status, sched.reason);
  // A schedule in the past means "now"; one after the validity end could never be delivered.
  const scheduleAt = sched.date && sched.date.getTime() > now.getTime() ? sched.date : undefined;
  if (scheduleAt && scheduleAt.getTime() >= validityUntil.getTime())
    return fail(S.ESME_RINVSCHED, 'scheduled after the validity end');
  return { ok: true, content: c, validityUntil, scheduleAt };
}

const BIND_TYPES: Record<BindType, ProtoBindType> = {
  transmitter: ProtoBindType.BIND_TYPE_TRANSMITTER,
  receiver: ProtoBindType.BIND_TYPE_RECEIVER,
  transceiver: ProtoBindType.BIND_TYPE_TRANSCEIVER,
};

function concatMethod(c: NonNullable<MessageContent['concat']>): ConcatMethod {
  if (c.via === 'sar') return ConcatMethod.CONCAT_METHOD_SAR;
  return c.refBits === 16 ? ConcatMethod.CONCAT_METHOD_UDH_16BIT : ConcatMethod.CONCAT_METHOD_UDH_8BIT;
}

/** TON 1 numbers travel as E.164 digits without "+". */
function address(ton: number | undefined, npi: number | undefined, addr: string | undefined) {
  const a = addr ?? '';
  return { ton: ton ?? 0, npi: npi ?? 0, address: ton === 1 && a.startsWith('+') ? a.slice(1) : a };
}

export interface SessionInfo {
  replica: string;
  sessionId: string;
  systemId: string;
  bindType: BindType;
  remoteAddress: string;
  interfaceVersion: number;
}

/** The sms.submitted.v1 event of an accepted message. `groupId` is the long message's group id, if any. */
export function buildSubmitted(args: {
  pdu: Pdu;
  checked: Checked;
  account: Pick<Account, 'id' | 'systemId' | 'defaultTrafficType'>;
  session: SessionInfo;
  messageId: string;
  /** The id the customer sees (account's message_id_format); the hub id when not given. */
  customerMessageId?: string;
  groupId: string | undefined;
  now: Date;
}): SmsSubmitted {
  const { pdu, checked, account, session, messageId, now } = args;
  const c = checked.content;
  const concat: ProtoConcat | undefined = c.concat
    ? {
        reference: c.concat.ref,
        total: c.concat.total,
        partNumber: c.concat.seq,
        method: concatMethod(c.concat),
        groupId: args.groupId ?? messageId,
      }
    : undefined;
  // The bytes are referenced, not copied: the event is encoded (which copies them) before the PDU goes.
  // A traffic type keyword in service_type is an instruction to the hub, not passed on to the supplier.
  const declared = declaredTrafficType(pdu.service_type);
  const raw = c.fromPayload ? (pdu.message_payload as Buffer) : (pdu.short_message ?? EMPTY);
  return {
    messageId,
    accountId: account.id,
    systemId: account.systemId,
    session: {
      replica: session.replica,
      sessionId: session.sessionId,
      systemId: session.systemId,
      bindType: BIND_TYPES[session.bindType],
      remoteAddress: session.remoteAddress,
      interfaceVersion: session.interfaceVersion,
    },
    source: address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr),
    destination: address(pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr),
    esmClass: pdu.esm_class ?? 0,
    protocolId: pdu.protocol_id ?? 0,
    priority: pdu.priority_flag ?? 0,
    registeredDelivery: pdu.registered_delivery ?? 0,
    dataCoding: pdu.data_coding ?? 0,
    shortMessage: raw,
    fromMessagePayload: c.fromPayload,
    concat,
    serviceType: declared === undefined ? (pdu.service_type ?? '') : '',
    validityUntil: checked.validityUntil,
    validityPeriodRaw: pdu.validity_period ?? '',
    scheduleAt: checked.scheduleAt,
    scheduleDeliveryTimeRaw: pdu.schedule_delivery_time ?? '',
    // The hub holds a scheduled message itself (services/scheduler) until this instant.
    holdUntil: checked.scheduleAt,
    holdReason: checked.scheduleAt ? HoldReason.HOLD_REASON_SCHEDULE : HoldReason.HOLD_REASON_UNSPECIFIED,
    releasedAt: undefined,
    tlvs: pdu.tlvs ? Object.entries(pdu.tlvs).map(([tag, value]) => ({ tag: Number(tag), value })) : [],
    receivedAt: now,
    customerMessageId: args.customerMessageId ?? messageId,
    trafficType: declared ?? account.defaultTrafficType,
    replaceIfPresent: pdu.replace_if_present_flag ?? 0,
    smDefaultMsgId: pdu.sm_default_msg_id ?? 0,
    channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    // HTTP API only (a7065a4): empty from SMPP. Unset, the encoder crashed on every submit.
    callbackUrl: '',
    clientReference: '',
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * Group ids of customer-split long messages: the hub id of the first part seen for (account, source,
 * destination, reference, total) within `ttlMs`. Best effort and bounded (oldest dropped first).
 */
export class ConcatGroups {
  private readonly groups = new Map<string, { id: string; at: number }>();
  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 100_000,
  ) {}

  groupId(key: string, messageId: string, now: number = Date.now()): string {
    const g = this.groups.get(key);
    if (g && now - g.at <= this.ttlMs) return g.id;
    this.groups.delete(key);
    this.groups.set(key, { id: messageId, at: now });
    while (this.groups.size > this.max) this.groups.delete(this.groups.keys().next().value as string);
    return messageId;
  }
}
