import smpp, { type FieldType } from 'smpp';
import type { DecodeResult, DestAddress, Pdu, PduInit, UnsuccessSme } from './codec.js';
import { SmppError } from './errors.js';
import { CommandStatus } from './status.js';

/**
 * The codec as it was before the hand-written one in codec.ts, kept for two jobs:
 *
 * - `encodePduViaNodeSmpp`: node-smpp's `PDU#toBuffer` (driven by its command and TLV tables), with every
 *   string handed to it as a Buffer so that its text and time filters cannot rewrite values, plus unknown
 *   TLVs appended (node-smpp drops them). `encodePdu` falls back to it for what its fast path does not
 *   take (submit_multi's address lists, TLVs with node-smpp filters or repeated TLVs, values of unexpected
 *   types), so those keep their exact bytes and errors.
 * - `decodePduReference`: the table-driven bounded decoder, the reference the fast decoder is tested
 *   against (byte for byte and status for status).
 */

const HEADER_LENGTH = 16;

const T = smpp.types;

class DecodeFailure {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
}

function readCString(buf: Buffer, offset: number, end: number, name: string): [string, number] {
  const nul = buf.indexOf(0, offset);
  if (nul < 0 || nul >= end)
    throw new DecodeFailure(CommandStatus.ESME_RINVCMDLEN, `${name}: C-string not terminated within PDU`);
  return [buf.toString('latin1', offset, nul), nul + 1];
}

function need(end: number, offset: number, n: number, name: string): void {
  if (offset + n > end) throw new DecodeFailure(CommandStatus.ESME_RINVCMDLEN, `${name}: truncated`);
}

function readParam(
  type: FieldType,
  buf: Buffer,
  offset: number,
  end: number,
  name: string,
): [unknown, number] {
  if (type === T.int8) {
    need(end, offset, 1, name);
    return [buf.readUInt8(offset), offset + 1];
  }
  if (type === T.int16) {
    need(end, offset, 2, name);
    return [buf.readUInt16BE(offset), offset + 2];
  }
  if (type === T.int32) {
    need(end, offset, 4, name);
    return [buf.readUInt32BE(offset), offset + 4];
  }
  if (type === T.cstring) return readCString(buf, offset, end, name);
  if (type === T.buffer || type === T.string) {
    need(end, offset, 1, name);
    const len = buf.readUInt8(offset);
    if (offset + 1 + len > end) {
      throw new DecodeFailure(
        name === 'short_message' ? CommandStatus.ESME_RINVMSGLEN : CommandStatus.ESME_RINVCMDLEN,
        `${name}: length ${len} overruns PDU`,
      );
    }
    const bytes = Buffer.from(buf.subarray(offset + 1, offset + 1 + len));
    return [type === T.string ? bytes.toString('latin1') : bytes, offset + 1 + len];
  }
  if (type === T.dest_address_array) {
    need(end, offset, 1, name);
    let n = buf.readUInt8(offset++);
    const list: DestAddress[] = [];
    while (n-- > 0) {
      need(end, offset, 1, name);
      const flag = buf.readUInt8(offset++);
      if (flag === 1) {
        need(end, offset, 2, name);
        const ton = buf.readUInt8(offset);
        const npi = buf.readUInt8(offset + 1);
        const [addr, next] = readCString(buf, offset + 2, end, name);
        list.push({ dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: addr });
        offset = next;
      } else if (flag === 2) {
        const [dl, next] = readCString(buf, offset, end, name);
        list.push({ dl_name: dl });
        offset = next;
      } else {
        throw new DecodeFailure(CommandStatus.ESME_RINVDESTFLAG, `dest_flag ${flag}`);
      }
    }
    return [list, offset];
  }
  if (type === T.unsuccess_sme_array) {
    need(end, offset, 1, name);
    let n = buf.readUInt8(offset++);
    const list: UnsuccessSme[] = [];
    while (n-- > 0) {
      need(end, offset, 2, name);
      const ton = buf.readUInt8(offset);
      const npi = buf.readUInt8(offset + 1);
      const [addr, next] = readCString(buf, offset + 2, end, name);
      need(end, next, 4, name);
      list.push({
        dest_addr_ton: ton,
        dest_addr_npi: npi,
        destination_addr: addr,
        error_status_code: buf.readUInt32BE(next),
      });
      offset = next + 4;
    }
    return [list, offset];
  }
  throw new DecodeFailure(CommandStatus.ESME_RSYSERR, `${name}: unsupported field type`);
}

function defaultFor(type: FieldType): unknown {
  if (type === T.int8 || type === T.int16 || type === T.int32) return 0;
  if (type === T.cstring || type === T.string) return '';
  if (type === T.buffer) return Buffer.alloc(0);
  return [];
}

function readTlvValue(type: FieldType, data: Buffer, name: string): unknown {
  const TT = T.tlv;
  const fixed = type === TT.int8 ? 1 : type === TT.int16 ? 2 : type === TT.int32 ? 4 : 0;
  if (fixed > 0) {
    if (data.length !== fixed)
      throw new DecodeFailure(
        CommandStatus.ESME_RINVTLVLEN,
        `${name}: length ${data.length}, expected ${fixed}`,
      );
    return fixed === 1 ? data.readUInt8(0) : fixed === 2 ? data.readUInt16BE(0) : data.readUInt32BE(0);
  }
  if (type === TT.cstring) {
    const nul = data.indexOf(0);
    return data.toString('latin1', 0, nul < 0 ? data.length : nul);
  }
  if (type === TT.string) return data.toString('latin1');
  return Buffer.from(data);
}

/**
 * Decode one complete PDU (`buf.length` must equal its command_length, as the framer guarantees).
 * Never throws.
 */
export function decodePduReference(buf: Buffer): DecodeResult {
  if (buf.length < HEADER_LENGTH) {
    return {
      ok: false,
      status: CommandStatus.ESME_RINVCMDLEN,
      reason: 'shorter than a header',
      command: 'unknown',
      command_id: 0,
      sequence_number: 0,
    };
  }
  const commandLength = buf.readUInt32BE(0);
  const commandId = buf.readUInt32BE(4);
  const commandStatus = buf.readUInt32BE(8);
  const sequenceNumber = buf.readUInt32BE(12);
  const def = smpp.commandsById[commandId];
  const command = def?.command ?? 'unknown';
  const fail = (status: number, reason: string): DecodeResult => ({
    ok: false,
    status,
    reason,
    command,
    command_id: commandId,
    sequence_number: sequenceNumber,
  });
  if (commandLength !== buf.length)
    return fail(CommandStatus.ESME_RINVCMDLEN, `command_length ${commandLength} != ${buf.length}`);
  if (!def) return fail(CommandStatus.ESME_RINVCMDID, `unknown command_id 0x${commandId.toString(16)}`);
  const pdu: Pdu = {
    command,
    command_id: commandId,
    command_status: commandStatus,
    sequence_number: sequenceNumber,
  };
  const end = buf.length;
  let offset = HEADER_LENGTH;
  try {
    const params = def.params ?? {};
    // Responses may carry no body (SMPP 3.4 error responses): a response body that ends on a field
    // boundary is accepted and the missing fields take their defaults. Requests must be complete.
    const lenient = (commandId & 0x80000000) !== 0;
    for (const [name, p] of Object.entries(params)) {
      if (offset >= end) {
        if (!lenient) throw new DecodeFailure(CommandStatus.ESME_RINVCMDLEN, `body ends before ${name}`);
        pdu[name] = defaultFor(p.type);
        continue;
      }
      const [value, next] = readParam(p.type, buf, offset, end, name);
      pdu[name] = value;
      offset = next;
    }
    while (offset < end) {
      if (offset + 4 > end) throw new DecodeFailure(CommandStatus.ESME_RINVTLVSTREAM, 'truncated TLV header');
      const tag = buf.readUInt16BE(offset);
      const len = buf.readUInt16BE(offset + 2);
      offset += 4;
      if (offset + len > end)
        throw new DecodeFailure(
          CommandStatus.ESME_RINVTLVLEN,
          `TLV 0x${tag.toString(16)} length ${len} overruns PDU`,
        );
      const data = buf.subarray(offset, offset + len);
      offset += len;
      const tdef = smpp.tlvsById[tag];
      if (!tdef) {
        (pdu.tlvs ??= {})[tag] = Buffer.from(data);
        continue;
      }
      const name = def.tlvMap?.[tdef.tag] ?? tdef.tag;
      const value = readTlvValue(tdef.type, data, name);
      if (tdef.multiple) {
        const arr = (Array.isArray(pdu[name]) ? pdu[name] : (pdu[name] = [])) as unknown[];
        arr.push(value);
      } else if (name in (def.params ?? {})) {
        // A TLV that shares a mandatory field's name (message_state in query_sm_resp): keep the field.
        (pdu.tlvs ??= {})[tag] = Buffer.from(data);
      } else {
        pdu[name] = value;
      }
    }
  } catch (e) {
    if (e instanceof DecodeFailure) return fail(e.status, e.reason);
    return fail(CommandStatus.ESME_RSYSERR, `decoder error: ${(e as Error).message}`);
  }
  return { ok: true, pdu };
}

const CSTRING_TYPES = new Set<FieldType>([T.cstring, T.tlv.cstring, T.tlv.string]);

/**
 * Encode a PDU. Throws SmppError for an unknown command or a value that cannot be put on the wire
 * (short_message over 255 octets, a TLV over 65535 octets). Responses with a non-zero command_status
 * carry the header only (SMPP 3.4).
 */
export function encodePduViaNodeSmpp(init: PduInit): Buffer {
  const def = smpp.commands[init.command];
  if (!def)
    throw new SmppError(`cannot encode unknown command ${init.command}`, {
      commandStatus: CommandStatus.ESME_RINVCMDID,
    });
  const options: Record<string, unknown> = {
    command_status: init.command_status ?? 0,
    sequence_number: init.sequence_number ?? 0,
  };
  const params = def.params ?? {};
  for (const [key, value] of Object.entries(init)) {
    if (
      value === undefined ||
      key === 'command' ||
      key === 'tlvs' ||
      key === 'command_status' ||
      key === 'sequence_number'
    )
      continue;
    const type = params[key]?.type ?? smpp.tlvs[key]?.type;
    if (!type) continue; // not a field of this command nor a known TLV
    if (
      typeof value === 'string' &&
      (CSTRING_TYPES.has(type) || type === T.buffer || type === T.tlv.buffer)
    ) {
      // A Buffer bypasses node-smpp's time filter (which pads strings of 12 characters or fewer) and its ASCII conversion.
      options[key] = Buffer.from(value, 'latin1');
    } else {
      options[key] = value;
    }
  }
  const sm = options['short_message'];
  if (Buffer.isBuffer(sm) && sm.length > 255) {
    throw new SmppError(
      `short_message of ${sm.length} octets cannot be encoded (max 255; use message_payload)`,
      {
        commandStatus: CommandStatus.ESME_RINVMSGLEN,
      },
    );
  }
  if (params['data_coding'] && options['data_coding'] === undefined) options['data_coding'] = 0;
  let buf: Buffer;
  try {
    buf = new smpp.PDU(init.command, options).toBuffer();
  } catch (e) {
    throw new SmppError(`cannot encode ${init.command}: ${(e as Error).message}`, {
      commandStatus: CommandStatus.ESME_RSYSERR,
      cause: e,
    });
  }
  const extra = init.tlvs;
  if (extra && (init.command_status ?? 0) === 0) {
    const parts: Buffer[] = [buf];
    for (const [tagStr, value] of Object.entries(extra)) {
      const tag = Number(tagStr);
      if (value.length > 0xffff)
        throw new SmppError(`TLV 0x${tag.toString(16)} too long`, {
          commandStatus: CommandStatus.ESME_RINVTLVLEN,
        });
      const h = Buffer.alloc(4);
      h.writeUInt16BE(tag, 0);
      h.writeUInt16BE(value.length, 2);
      parts.push(h, value);
    }
    buf = Buffer.concat(parts);
    buf.writeUInt32BE(buf.length, 0);
  }
  return buf;
}
