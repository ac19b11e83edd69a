// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- ambient types for the untyped `smpp` package, so any tsconfig that compiles this lib finds them
/// <reference path="./types/smpp.d.ts" />
import smpp, { type FieldType } from 'smpp';
import { encodePduViaNodeSmpp } from './codec-node-smpp.js';
import { SmppError } from './errors.js';
import { CommandStatus } from './status.js';

/**
 * PDU codec.
 *
 * Both directions are hand-written and allocation-light, driven by tables compiled once from node-smpp's
 * command and TLV definitions (so field order, names and TLV tags stay node-smpp's):
 *
 * - `encodePdu` sizes the PDU, allocates it once and writes every field in place. Its output is byte for
 *   byte what node-smpp's `PDU#toBuffer` gives for the same fields with strings passed as Latin-1 bytes
 *   (see codec-node-smpp.ts, and the parity tests over thousands of random PDUs). What the fast path does
 *   not take (submit_multi's address lists, TLVs that node-smpp filters or repeats, values of unexpected
 *   types, anything that would not fit) goes through node-smpp as before, so it keeps its exact bytes and
 *   errors.
 * - `decodePdu` is bounded and never throws: it keeps short_message/message_payload as raw bytes and times
 *   as strings, and says which command_status to answer with when the PDU is malformed. node-smpp's own
 *   decoder reads C-strings past the end of the PDU, throws on truncated bodies (which wedges its Session
 *   parser), decodes text with a data_coding masked to 4 bits and turns times into host-time Dates.
 */

export const HEADER_LENGTH = 16;
export const GENERIC_NACK = 0x80000000;

/** command_id values by name, from node-smpp's table (SMPP 3.4 and 5.0). */
export const CommandId: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(smpp.commands).map(([name, def]) => [name, def.id])),
);

export interface DestAddress {
  dest_addr_ton?: number;
  dest_addr_npi?: number;
  destination_addr?: string;
  dl_name?: string;
}

export interface UnsuccessSme {
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
  error_status_code: number;
}

/**
 * Body fields and TLVs, named as in the SMPP specification (snake_case). Strings are C-octet strings decoded
 * as Latin-1; short_message and message_payload are always raw bytes (use decodeText with data_coding).
 * Times are the raw SMPP time strings (use parseSmppTime).
 */
export interface PduFields {
  // bind / outbind
  system_id?: string;
  password?: string;
  system_type?: string;
  interface_version?: number;
  addr_ton?: number;
  addr_npi?: number;
  address_range?: string;
  // message PDUs
  service_type?: string;
  source_addr_ton?: number;
  source_addr_npi?: number;
  source_addr?: string;
  dest_addr_ton?: number;
  dest_addr_npi?: number;
  destination_addr?: string;
  esm_class?: number;
  protocol_id?: number;
  priority_flag?: number;
  schedule_delivery_time?: string;
  validity_period?: string;
  registered_delivery?: number;
  replace_if_present_flag?: number;
  data_coding?: number;
  sm_default_msg_id?: number;
  short_message?: Buffer;
  message_id?: string;
  final_date?: string;
  message_state?: number;
  error_code?: number;
  dest_address?: DestAddress[];
  unsuccess_sme?: UnsuccessSme[];
  // common TLVs
  message_payload?: Buffer;
  sar_msg_ref_num?: number;
  sar_total_segments?: number;
  sar_segment_seqnum?: number;
  receipted_message_id?: string;
  network_error_code?: Buffer;
  sc_interface_version?: number;
  user_message_reference?: number;
  more_messages_to_send?: number;
  /** Unknown TLVs by tag number, kept on decode and written on encode. */
  tlvs?: Record<number, Buffer>;
  [field: string]: unknown;
}

export interface PduHeader {
  /** node-smpp command name ('submit_sm', 'bind_transceiver_resp', ...), or 'unknown'. */
  command: string;
  command_id: number;
  command_status: number;
  sequence_number: number;
}

export type Pdu = PduHeader & PduFields;

/** What `encodePdu` accepts: a command name and fields; command_status and sequence_number default to 0. */
export type PduInit = { command: string; command_status?: number; sequence_number?: number } & PduFields;

export type DecodeResult =
  | { ok: true; pdu: Pdu }
  | {
      ok: false;
      /** command_status to answer with. */
      status: number;
      reason: string;
      command: string;
      command_id: number;
      sequence_number: number;
    };

export function isResponseId(commandId: number): boolean {
  return (commandId & 0x80000000) !== 0;
}

const T = smpp.types;

// ------------------------------------------------------------------ tables compiled from node-smpp's defs

// Body field kinds.
const F_INT8 = 1;
const F_INT16 = 2;
const F_INT32 = 3;
/** NUL-terminated octets. */
const F_CSTRING = 4;
/** One length octet, then that many octets (short_message). */
const F_OCTETS = 5;
/** One length octet, then that many octets read as Latin-1 text. No command uses it today. */
const F_STRING = 6;
/** submit_multi's address lists: decoded by the generic reader, encoded by node-smpp. */
const F_LIST = 7;

// TLV value kinds.
const V_INT8 = 1;
const V_INT16 = 2;
const V_INT32 = 3;
const V_CSTRING = 4;
const V_STRING = 5;
const V_OCTETS = 6;

interface FieldSpec {
  readonly name: string;
  readonly kind: number;
  readonly type: FieldType;
  /** What node-smpp writes when the field is not given (interface_version 0x50; data_coding 0, as encodePdu always set it). */
  readonly encodeDefault: number;
}

interface CommandSpec {
  readonly name: string;
  readonly id: number;
  readonly isResponse: boolean;
  readonly fields: readonly FieldSpec[];
  readonly paramNames: ReadonlySet<string>;
  /** Known TLVs by name, minus this command's body fields (which take those names). */
  readonly tlvsByName: ReadonlyMap<string, TlvSpec>;
  /** Every field has a kind the fast encoder writes. */
  readonly fastEncode: boolean;
  readonly hasShortMessage: boolean;
  /** submit_sm / deliver_sm: decoded by decodeSm. */
  readonly smLayout: boolean;
  /** TLV name -> the name this command gives it (broadcast_sm_resp's failed_broadcast_area_identifier). */
  readonly tlvMap: Readonly<Record<string, string>> | undefined;
}

interface TlvSpec {
  readonly tag: number;
  readonly name: string;
  readonly kind: number;
  readonly multiple: boolean;
  /** Neither repeated nor filtered by node-smpp (message_payload's filter passes bytes through). */
  readonly fastEncode: boolean;
}

function fieldKind(type: FieldType): number {
  if (type === T.int8) return F_INT8;
  if (type === T.int16) return F_INT16;
  if (type === T.int32) return F_INT32;
  if (type === T.cstring) return F_CSTRING;
  if (type === T.buffer) return F_OCTETS;
  if (type === T.string) return F_STRING;
  return F_LIST;
}

function tlvKind(type: FieldType): number {
  const TT = T.tlv;
  if (type === TT.int8) return V_INT8;
  if (type === TT.int16) return V_INT16;
  if (type === TT.int32) return V_INT32;
  if (type === TT.cstring) return V_CSTRING;
  if (type === TT.string) return V_STRING;
  return V_OCTETS;
}

const TLVS_BY_NAME = new Map<string, TlvSpec>();
const TLVS_BY_TAG = new Map<number, TlvSpec>();
for (const def of Object.values(smpp.tlvs)) {
  const spec: TlvSpec = {
    tag: def.id,
    name: def.tag,
    kind: tlvKind(def.type),
    multiple: def.multiple === true,
    fastEncode: def.multiple !== true && (def.filter === undefined || def.tag === 'message_payload'),
  };
  TLVS_BY_NAME.set(def.tag, spec);
  TLVS_BY_TAG.set(def.id, spec);
}

const COMMANDS_BY_NAME = new Map<string, CommandSpec>();
const COMMANDS_BY_ID = new Map<number, CommandSpec>();
for (const [name, def] of Object.entries(smpp.commands)) {
  const fields: FieldSpec[] = Object.entries(def.params ?? {}).map(([fname, p]) => ({
    name: fname,
    kind: fieldKind(p.type),
    type: p.type,
    encodeDefault: typeof p.default === 'number' ? p.default : 0,
  }));
  const spec: CommandSpec = {
    name,
    id: def.id,
    isResponse: isResponseId(def.id),
    fields,
    paramNames: new Set(fields.map((f) => f.name)),
    tlvsByName: new Map([...TLVS_BY_NAME].filter(([n]) => !fields.some((f) => f.name === n))),
    fastEncode: fields.every((f) => f.kind !== F_LIST && f.kind !== F_STRING),
    hasShortMessage: fields.some((f) => f.name === 'short_message'),
    smLayout: name === 'submit_sm' || name === 'deliver_sm',
    tlvMap: def.tlvMap,
  };
  COMMANDS_BY_NAME.set(name, spec);
  COMMANDS_BY_ID.set(def.id, spec);
}

// ------------------------------------------------------------------ decoding

class DecodeFailure {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
}

/** Read position of the field readers below (decodePdu is synchronous, so one cursor serves every call). */
let pos = 0;

function readCString(buf: Buffer, end: number, name: string): string {
  const start = pos;
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  if (nul >= end)
    throw new DecodeFailure(CommandStatus.ESME_RINVCMDLEN, `${name}: C-string not terminated within PDU`);
  pos = nul + 1;
  return nul === start ? '' : buf.toString('latin1', start, nul);
}

function need(end: number, n: number, name: string): void {
  if (pos + n > end) throw new DecodeFailure(CommandStatus.ESME_RINVCMDLEN, `${name}: truncated`);
}

/** submit_multi's dest_address and submit_multi_resp's unsuccess_sme. */
function readList(type: FieldType, buf: Buffer, end: number, name: string): DestAddress[] | UnsuccessSme[] {
  need(end, 1, name);
  let n = buf[pos++] as number;
  if (type === T.dest_address_array) {
    const list: DestAddress[] = [];
    while (n-- > 0) {
      need(end, 1, name);
      const flag = buf[pos++];
      if (flag === 1) {
        need(end, 2, name);
        const ton = buf[pos] as number;
        const npi = buf[pos + 1] as number;
        pos += 2;
        list.push({ dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: readCString(buf, end, name) });
      } else if (flag === 2) {
        list.push({ dl_name: readCString(buf, end, name) });
      } else {
        throw new DecodeFailure(CommandStatus.ESME_RINVDESTFLAG, `dest_flag ${flag}`);
      }
    }
    return list;
  }
  if (type === T.unsuccess_sme_array) {
    const list: UnsuccessSme[] = [];
    while (n-- > 0) {
      need(end, 2, name);
      const ton = buf[pos] as number;
      const npi = buf[pos + 1] as number;
      pos += 2;
      const addr = readCString(buf, end, name);
      need(end, 4, name);
      list.push({
        dest_addr_ton: ton,
        dest_addr_npi: npi,
        destination_addr: addr,
        error_status_code: buf.readUInt32BE(pos),
      });
      pos += 4;
    }
    return list;
  }
  throw new DecodeFailure(CommandStatus.ESME_RSYSERR, `${name}: unsupported field type`);
}

function readField(f: FieldSpec, buf: Buffer, end: number): unknown {
  switch (f.kind) {
    case F_INT8:
      need(end, 1, f.name);
      return buf[pos++];
    case F_INT16: {
      need(end, 2, f.name);
      const v = buf.readUInt16BE(pos);
      pos += 2;
      return v;
    }
    case F_INT32: {
      need(end, 4, f.name);
      const v = buf.readUInt32BE(pos);
      pos += 4;
      return v;
    }
    case F_CSTRING:
      return readCString(buf, end, f.name);
    case F_OCTETS:
    case F_STRING: {
      need(end, 1, f.name);
      const len = buf[pos] as number;
      const start = pos + 1;
      if (start + len > end) {
        throw new DecodeFailure(
          f.name === 'short_message' ? CommandStatus.ESME_RINVMSGLEN : CommandStatus.ESME_RINVCMDLEN,
          `${f.name}: length ${len} overruns PDU`,
        );
      }
      pos = start + len;
      // A copy: the PDU may outlive the socket chunk it came in, which must not stay pinned.
      const bytes = Buffer.from(buf.subarray(start, start + len));
      return f.kind === F_STRING ? bytes.toString('latin1') : bytes;
    }
    default:
      return readList(f.type, buf, end, f.name);
  }
}

function fieldDefault(f: FieldSpec): unknown {
  switch (f.kind) {
    case F_INT8:
    case F_INT16:
    case F_INT32:
      return 0;
    case F_CSTRING:
    case F_STRING:
      return '';
    case F_OCTETS:
      return Buffer.alloc(0);
    default:
      return [];
  }
}

function readTlvValue(t: TlvSpec, buf: Buffer, start: number, len: number, name: string): unknown {
  switch (t.kind) {
    case V_INT8:
    case V_INT16:
    case V_INT32: {
      const fixed = t.kind === V_INT8 ? 1 : t.kind === V_INT16 ? 2 : 4;
      if (len !== fixed)
        throw new DecodeFailure(CommandStatus.ESME_RINVTLVLEN, `${name}: length ${len}, expected ${fixed}`);
      return fixed === 1 ? buf[start] : fixed === 2 ? buf.readUInt16BE(start) : buf.readUInt32BE(start);
    }
    case V_CSTRING: {
      const end = start + len;
      let nul = start;
      while (nul < end && buf[nul] !== 0) nul++;
      return nul === start ? '' : buf.toString('latin1', start, nul);
    }
    case V_STRING:
      return len === 0 ? '' : buf.toString('latin1', start, start + len);
    default:
      return Buffer.from(buf.subarray(start, start + len));
  }
}

function readTlvs(spec: CommandSpec, buf: Buffer, end: number, pdu: Pdu): void {
  while (pos < end) {
    if (pos + 4 > end) throw new DecodeFailure(CommandStatus.ESME_RINVTLVSTREAM, 'truncated TLV header');
    const tag = buf.readUInt16BE(pos);
    const len = buf.readUInt16BE(pos + 2);
    const start = pos + 4;
    if (start + len > end)
      throw new DecodeFailure(
        CommandStatus.ESME_RINVTLVLEN,
        `TLV 0x${tag.toString(16)} length ${len} overruns PDU`,
      );
    pos = start + len;
    const t = TLVS_BY_TAG.get(tag);
    if (t === undefined) {
      (pdu.tlvs ??= {})[tag] = Buffer.from(buf.subarray(start, start + len));
      continue;
    }
    const name = spec.tlvMap?.[t.name] ?? t.name;
    const value = readTlvValue(t, buf, start, len, name);
    if (t.multiple) {
      const arr = (Array.isArray(pdu[name]) ? pdu[name] : (pdu[name] = [])) as unknown[];
      arr.push(value);
    } else if (spec.paramNames.has(name)) {
      // A TLV that shares a mandatory field's name (message_state in query_sm_resp): keep the field.
      (pdu.tlvs ??= {})[tag] = Buffer.from(buf.subarray(start, start + len));
    } else {
      pdu[name] = value;
    }
  }
}

/** A C-string at pos, or undefined when it is not terminated before end (the caller then takes the slow path). */
function tryCString(buf: Buffer, end: number): string | undefined {
  const start = pos;
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  if (nul >= end) return undefined;
  pos = nul + 1;
  return nul === start ? '' : buf.toString('latin1', start, nul);
}

/**
 * submit_sm and deliver_sm (the same body), read straight into one object literal. Returns undefined for
 * a body that is not complete; decodePdu's table-driven loop then gives the exact failure.
 */
function decodeSm(
  spec: CommandSpec,
  buf: Buffer,
  commandStatus: number,
  sequenceNumber: number,
): Pdu | undefined {
  const end = buf.length;
  pos = HEADER_LENGTH;
  const serviceType = tryCString(buf, end);
  if (serviceType === undefined || pos + 2 > end) return undefined;
  const sourceTon = buf[pos] as number;
  const sourceNpi = buf[pos + 1] as number;
  pos += 2;
  const sourceAddr = tryCString(buf, end);
  if (sourceAddr === undefined || pos + 2 > end) return undefined;
  const destTon = buf[pos] as number;
  const destNpi = buf[pos + 1] as number;
  pos += 2;
  const destAddr = tryCString(buf, end);
  if (destAddr === undefined || pos + 3 > end) return undefined;
  const esmClass = buf[pos] as number;
  const protocolId = buf[pos + 1] as number;
  const priority = buf[pos + 2] as number;
  pos += 3;
  const schedule = tryCString(buf, end);
  if (schedule === undefined) return undefined;
  const validity = tryCString(buf, end);
  if (validity === undefined || pos + 5 > end) return undefined;
  const registered = buf[pos] as number;
  const replace = buf[pos + 1] as number;
  const dataCoding = buf[pos + 2] as number;
  const defaultMsgId = buf[pos + 3] as number;
  const smLength = buf[pos + 4] as number;
  const smStart = pos + 5;
  if (smStart + smLength > end) return undefined;
  pos = smStart + smLength;
  return {
    command: spec.name,
    command_id: spec.id,
    command_status: commandStatus,
    sequence_number: sequenceNumber,
    service_type: serviceType,
    source_addr_ton: sourceTon,
    source_addr_npi: sourceNpi,
    source_addr: sourceAddr,
    dest_addr_ton: destTon,
    dest_addr_npi: destNpi,
    destination_addr: destAddr,
    esm_class: esmClass,
    protocol_id: protocolId,
    priority_flag: priority,
    schedule_delivery_time: schedule,
    validity_period: validity,
    registered_delivery: registered,
    replace_if_present_flag: replace,
    data_coding: dataCoding,
    sm_default_msg_id: defaultMsgId,
    // A copy: the PDU may outlive the socket chunk it came in, which must not stay pinned.
    short_message: Buffer.from(buf.subarray(smStart, smStart + smLength)),
  };
}

function failure(
  status: number,
  reason: string,
  command: string,
  commandId: number,
  sequenceNumber: number,
): DecodeResult {
  return { ok: false, status, reason, command, command_id: commandId, sequence_number: sequenceNumber };
}

/**
 * Decode one complete PDU (`buf.length` must equal its command_length, as the framer guarantees).
 * Never throws.
 */
export function decodePdu(buf: Buffer): DecodeResult {
  if (buf.length < HEADER_LENGTH)
    return failure(CommandStatus.ESME_RINVCMDLEN, 'shorter than a header', 'unknown', 0, 0);
  const commandLength = buf.readUInt32BE(0);
  const commandId = buf.readUInt32BE(4);
  const commandStatus = buf.readUInt32BE(8);
  const sequenceNumber = buf.readUInt32BE(12);
  const spec = COMMANDS_BY_ID.get(commandId);
  const command = spec?.name ?? 'unknown';
  if (commandLength !== buf.length)
    return failure(
      CommandStatus.ESME_RINVCMDLEN,
      `command_length ${commandLength} != ${buf.length}`,
      command,
      commandId,
      sequenceNumber,
    );
  if (spec === undefined)
    return failure(
      CommandStatus.ESME_RINVCMDID,
      `unknown command_id 0x${commandId.toString(16)}`,
      command,
      commandId,
      sequenceNumber,
    );
  const end = buf.length;
  if (spec.smLayout) {
    const sm = decodeSm(spec, buf, commandStatus, sequenceNumber);
    if (sm !== undefined) {
      if (pos === end) return { ok: true, pdu: sm };
      try {
        readTlvs(spec, buf, end, sm);
        return { ok: true, pdu: sm };
      } catch {
        // the table-driven pass below reports it
      }
    }
  }
  const pdu: Pdu = {
    command,
    command_id: commandId,
    command_status: commandStatus,
    sequence_number: sequenceNumber,
  };
  pos = HEADER_LENGTH;
  try {
    const fields = spec.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as FieldSpec;
      if (pos >= end) {
        // Responses may carry no body (SMPP 3.4 error responses): a response body that ends on a field
        // boundary is accepted and the missing fields take their defaults. Requests must be complete.
        if (!spec.isResponse)
          throw new DecodeFailure(CommandStatus.ESME_RINVCMDLEN, `body ends before ${f.name}`);
        pdu[f.name] = fieldDefault(f);
        continue;
      }
      pdu[f.name] = readField(f, buf, end);
    }
    if (pos < end) readTlvs(spec, buf, end, pdu);
  } catch (e) {
    if (e instanceof DecodeFailure) return failure(e.status, e.reason, command, commandId, sequenceNumber);
    return failure(
      CommandStatus.ESME_RSYSERR,
      `decoder error: ${(e as Error).message}`,
      command,
      commandId,
      sequenceNumber,
    );
  }
  return { ok: true, pdu };
}

// ------------------------------------------------------------------ encoding

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/**
 * Octets of a string (Latin-1: the low byte of each UTF-16 unit, as Buffer.from(s, 'latin1')) or a Buffer;
 * -1 for anything else (node-smpp would fail on a bare Uint8Array: it calls Buffer#copy).
 */
function octetLength(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (Buffer.isBuffer(v)) return v.length;
  return -1;
}

function writeOctets(buf: Buffer, o: number, v: string | Uint8Array): number {
  const n = v.length;
  if (typeof v === 'string') {
    if (n > 48) return o + buf.write(v, o, 'latin1');
    for (let i = 0; i < n; i++) buf[o + i] = v.charCodeAt(i);
  } else if (n > 48) {
    buf.set(v, o);
  } else {
    for (let i = 0; i < n; i++) buf[o + i] = v[i] as number;
  }
  return o + n;
}

function writeUint32(buf: Buffer, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = v >>> 16;
  buf[o + 2] = v >>> 8;
  buf[o + 3] = v;
}

// TLVs of the PDU being encoded (encodePdu is synchronous, so these are reused call after call).
const tlvSpecs: TlvSpec[] = [];
const tlvValues: unknown[] = [];
let ntlv = 0;

/** Bytes of the TLVs of `init` (known ones, then `tlvs`), noted for writeTlvs; -1 when the fast path cannot take them. */
function sizeTlvs(spec: CommandSpec, init: PduFields): number {
  ntlv = 0;
  let size = 0;
  for (const key in init) {
    const t = spec.tlvsByName.get(key);
    if (t === undefined) continue;
    const v = init[key];
    if (v === undefined) continue;
    if (!t.fastEncode) return -1;
    let n: number;
    switch (t.kind) {
      case V_INT8:
        if (!isUint(v, 0xff)) return -1;
        n = 1;
        break;
      case V_INT16:
        if (!isUint(v, 0xffff)) return -1;
        n = 2;
        break;
      case V_INT32:
        if (!isUint(v, 0xffffffff)) return -1;
        n = 4;
        break;
      case V_CSTRING:
        n = octetLength(v);
        if (n < 0) return -1;
        n += 1;
        break;
      default:
        n = octetLength(v);
        if (n < 0) return -1;
    }
    if (n > 0xffff) return -1;
    size += 4 + n;
    tlvSpecs[ntlv] = t;
    tlvValues[ntlv++] = v;
  }
  const extra = init.tlvs;
  if (extra) {
    const proto = Object.getPrototypeOf(extra) as unknown;
    if (proto !== Object.prototype && proto !== null) return -1;
    for (const k in extra) {
      const tag = Number(k);
      const v: unknown = extra[tag];
      if (!isUint(tag, 0xffff) || !(v instanceof Uint8Array) || v.length > 0xffff) return -1;
      size += 4 + v.length;
    }
  }
  return size;
}

/** Writes what sizeTlvs noted, from `o` to the end of `buf`. */
function writeTlvs(buf: Buffer, o: number, init: PduFields): void {
  for (let i = 0; i < ntlv; i++) {
    const t = tlvSpecs[i] as TlvSpec;
    const v = tlvValues[i] as number | string | Uint8Array;
    tlvValues[i] = undefined;
    buf[o] = t.tag >>> 8;
    buf[o + 1] = t.tag;
    switch (t.kind) {
      case V_INT8:
        buf[o + 2] = 0;
        buf[o + 3] = 1;
        buf[o + 4] = v as number;
        o += 5;
        break;
      case V_INT16:
        buf[o + 2] = 0;
        buf[o + 3] = 2;
        buf[o + 4] = (v as number) >>> 8;
        buf[o + 5] = v as number;
        o += 6;
        break;
      case V_INT32:
        buf[o + 2] = 0;
        buf[o + 3] = 4;
        writeUint32(buf, o + 4, v as number);
        o += 8;
        break;
      default: {
        const s = v as string | Uint8Array;
        const n = t.kind === V_CSTRING ? s.length + 1 : s.length;
        buf[o + 2] = n >>> 8;
        buf[o + 3] = n;
        o = writeOctets(buf, o + 4, s);
        if (t.kind === V_CSTRING) buf[o++] = 0;
      }
    }
  }
  const extra = init.tlvs;
  if (extra) {
    for (const k in extra) {
      const tag = Number(k);
      const v = extra[tag] as Uint8Array;
      buf[o] = tag >>> 8;
      buf[o + 1] = tag;
      buf[o + 2] = v.length >>> 8;
      buf[o + 3] = v.length;
      o = writeOctets(buf, o + 4, v);
    }
  }
}

/** Octets of an optional C-string field without its NUL, or -1 when the fast path cannot take the value. */
function cstringLength(v: unknown): number {
  return v === undefined ? 0 : octetLength(v);
}

/** An optional int8 field's value (its default when absent), or -1 when the fast path cannot take it. */
function int8(v: unknown): number {
  return v === undefined ? 0 : isUint(v, 0xff) ? v : -1;
}

/**
 * submit_sm / deliver_sm (the same body) with named reads of each field: the generic loop's `init[name]`
 * lookups go megamorphic when one process encodes several commands, this does not. Same bytes.
 */
function encodeSm(spec: CommandSpec, seq: number, f: PduFields): Buffer | undefined {
  const serviceType = f.service_type;
  const sourceAddr = f.source_addr;
  const destAddr = f.destination_addr;
  const schedule = f.schedule_delivery_time;
  const validity = f.validity_period;
  const sm = f.short_message;
  const nService = cstringLength(serviceType);
  const nSource = cstringLength(sourceAddr);
  const nDest = cstringLength(destAddr);
  const nSchedule = cstringLength(schedule);
  const nValidity = cstringLength(validity);
  const nSm = sm === undefined ? 0 : octetLength(sm);
  const sourceTon = int8(f.source_addr_ton);
  const sourceNpi = int8(f.source_addr_npi);
  const destTon = int8(f.dest_addr_ton);
  const destNpi = int8(f.dest_addr_npi);
  const esmClass = int8(f.esm_class);
  const protocolId = int8(f.protocol_id);
  const priority = int8(f.priority_flag);
  const registered = int8(f.registered_delivery);
  const replace = int8(f.replace_if_present_flag);
  const dataCoding = int8(f.data_coding);
  const defaultMsgId = int8(f.sm_default_msg_id);
  if (
    (nService | nSource | nDest | nSchedule | nValidity | nSm) < 0 ||
    nSm > 255 ||
    (sourceTon | sourceNpi | destTon | destNpi | esmClass | protocolId | priority) < 0 ||
    (registered | replace | dataCoding | defaultMsgId) < 0
  )
    return undefined;
  const tlvSize = sizeTlvs(spec, f);
  if (tlvSize < 0) return undefined;
  // 11 one-octet fields, 5 NULs, sm_length.
  const size = HEADER_LENGTH + 17 + nService + nSource + nDest + nSchedule + nValidity + nSm + tlvSize;
  const buf = Buffer.allocUnsafe(size);
  writeUint32(buf, 0, size);
  writeUint32(buf, 4, spec.id);
  writeUint32(buf, 8, 0);
  writeUint32(buf, 12, seq);
  let o = HEADER_LENGTH;
  if (nService > 0) o = writeOctets(buf, o, serviceType as string | Uint8Array);
  buf[o++] = 0;
  buf[o++] = sourceTon;
  buf[o++] = sourceNpi;
  if (nSource > 0) o = writeOctets(buf, o, sourceAddr as string | Uint8Array);
  buf[o++] = 0;
  buf[o++] = destTon;
  buf[o++] = destNpi;
  if (nDest > 0) o = writeOctets(buf, o, destAddr as string | Uint8Array);
  buf[o++] = 0;
  buf[o++] = esmClass;
  buf[o++] = protocolId;
  buf[o++] = priority;
  if (nSchedule > 0) o = writeOctets(buf, o, schedule as string | Uint8Array);
  buf[o++] = 0;
  if (nValidity > 0) o = writeOctets(buf, o, validity as string | Uint8Array);
  buf[o++] = 0;
  buf[o++] = registered;
  buf[o++] = replace;
  buf[o++] = dataCoding;
  buf[o++] = defaultMsgId;
  buf[o++] = nSm;
  if (nSm > 0) o = writeOctets(buf, o, sm as string | Uint8Array);
  writeTlvs(buf, o, f);
  return buf;
}

/**
 * The fast encoder. Returns undefined for anything it does not take, or that would not fit or would
 * fail; encodePdu then goes through node-smpp, which gives those their usual bytes or error.
 */
function encodeFast(spec: CommandSpec, status: unknown, seq: unknown, init: PduFields): Buffer | undefined {
  if (!isUint(status, 0xffffffff) || !isUint(seq, 0xffffffff)) return undefined;
  if (status !== 0) {
    // Header only (SMPP 3.4 error response); only an oversized short_message is refused before that.
    if (spec.hasShortMessage && octetLength(init.short_message) > 255) return undefined;
    return encodeHeaderOnly(spec.id, status, seq);
  }
  if (spec.smLayout) return encodeSm(spec, seq, init);
  const fields = spec.fields;
  let size = HEADER_LENGTH;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as FieldSpec;
    const v = init[f.name];
    switch (f.kind) {
      case F_INT8:
        if (v !== undefined && !isUint(v, 0xff)) return undefined;
        size += 1;
        break;
      case F_INT16:
        if (v !== undefined && !isUint(v, 0xffff)) return undefined;
        size += 2;
        break;
      case F_INT32:
        if (v !== undefined && !isUint(v, 0xffffffff)) return undefined;
        size += 4;
        break;
      case F_CSTRING: {
        const n = v === undefined ? 0 : octetLength(v);
        if (n < 0) return undefined;
        size += n + 1;
        break;
      }
      default: {
        // F_OCTETS (the fast path takes no other kind)
        const n = v === undefined ? 0 : octetLength(v);
        if (n < 0 || n > 255) return undefined;
        size += n + 1;
      }
    }
  }
  const tlvSize = sizeTlvs(spec, init);
  if (tlvSize < 0) return undefined;
  size += tlvSize;

  const buf = Buffer.allocUnsafe(size);
  writeUint32(buf, 0, size);
  writeUint32(buf, 4, spec.id);
  writeUint32(buf, 8, 0);
  writeUint32(buf, 12, seq);
  let o = HEADER_LENGTH;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as FieldSpec;
    const v = init[f.name] as number | string | Uint8Array | undefined;
    switch (f.kind) {
      case F_INT8:
        buf[o++] = v === undefined ? f.encodeDefault : (v as number);
        break;
      case F_INT16: {
        const n = v === undefined ? f.encodeDefault : (v as number);
        buf[o] = n >>> 8;
        buf[o + 1] = n;
        o += 2;
        break;
      }
      case F_INT32:
        writeUint32(buf, o, v === undefined ? f.encodeDefault : (v as number));
        o += 4;
        break;
      case F_CSTRING:
        if (v !== undefined) o = writeOctets(buf, o, v as string | Uint8Array);
        buf[o++] = 0;
        break;
      default:
        if (v === undefined) buf[o++] = 0;
        else {
          buf[o++] = (v as string | Uint8Array).length;
          o = writeOctets(buf, o, v as string | Uint8Array);
        }
    }
  }
  writeTlvs(buf, o, init);
  return buf;
}

/**
 * Encode a PDU. Throws SmppError for an unknown command or a value that cannot be put on the wire
 * (short_message over 255 octets, a TLV over 65535 octets). Responses with a non-zero command_status
 * carry the header only (SMPP 3.4).
 */
export function encodePdu(init: PduInit): Buffer {
  const spec = COMMANDS_BY_NAME.get(init.command);
  if (spec === undefined)
    throw new SmppError(`cannot encode unknown command ${init.command}`, {
      commandStatus: CommandStatus.ESME_RINVCMDID,
    });
  const status = init.command_status ?? 0;
  const seq = init.sequence_number ?? 0;
  return (spec.fastEncode ? encodeFast(spec, status, seq, init) : undefined) ?? encodePduViaNodeSmpp(init);
}

/**
 * `encodePdu({ ...fields, command, command_status, sequence_number })` without building that object
 * (the session's hot path): `fields` is read as it is.
 */
export function encodePduFields(
  command: string,
  commandStatus: number,
  sequenceNumber: number,
  fields: PduFields,
): Buffer {
  const spec = COMMANDS_BY_NAME.get(command);
  const fast = spec?.fastEncode ? encodeFast(spec, commandStatus, sequenceNumber, fields) : undefined;
  return (
    fast ?? encodePdu({ ...fields, command, command_status: commandStatus, sequence_number: sequenceNumber })
  );
}

/** Header-only PDU (generic_nack, or an error *_resp), without going through node-smpp. */
export function encodeHeaderOnly(commandId: number, status: number, sequenceNumber: number): Buffer {
  const b = Buffer.alloc(HEADER_LENGTH);
  b.writeUInt32BE(HEADER_LENGTH, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequenceNumber >>> 0, 12);
  return b;
}
