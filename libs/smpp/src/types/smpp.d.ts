// Minimal declarations for the parts of the `smpp` npm package (farhadi/node-smpp 0.5.1) that this lib
// uses: the command / TLV / error definition tables and the PDU encoder. Its Session, Server, decoder and
// text filters are deliberately not used (see ../../README.md).
declare module 'smpp' {
  import type { Buffer } from 'node:buffer';

  /** A field codec from defs.types (int8, int16, int32, cstring, string, buffer, arrays). */
  export interface FieldType {
    read(buffer: Buffer, offset: number, length?: number): unknown;
    write(value: unknown, buffer: Buffer, offset: number): void;
    size(value: unknown): number;
    default: unknown;
  }

  export interface ParamDef {
    type: FieldType;
    default?: unknown;
  }

  export interface CommandDef {
    id: number;
    command: string;
    params?: Record<string, ParamDef>;
    tlvMap?: Record<string, string>;
  }

  export interface TlvDef {
    id: number;
    tag: string;
    type: FieldType;
    multiple?: boolean;
    /** node-smpp's value filter (text, times, structured TLVs); the fast encoder leaves filtered TLVs to node-smpp. */
    filter?: unknown;
  }

  export class PDU {
    constructor(command: string, options?: Record<string, unknown>);
    command: string;
    command_length: number;
    command_id: number;
    command_status: number;
    sequence_number: number;
    toBuffer(): Buffer;
    static maxLength: number;
  }

  /** The package is CommonJS whose exports are assigned in a loop: use the default import in ESM. */
  const smpp: {
    PDU: typeof PDU;
    commands: Record<string, CommandDef>;
    commandsById: Record<number, CommandDef>;
    tlvs: Record<string, TlvDef>;
    tlvsById: Record<number, TlvDef>;
    errors: Record<string, number>;
    types: SmppTypes;
  };
  export default smpp;

  export interface SmppTypes {
    int8: FieldType;
    int16: FieldType;
    int32: FieldType;
    cstring: FieldType;
    string: FieldType;
    buffer: FieldType;
    dest_address_array: FieldType;
    unsuccess_sme_array: FieldType;
    tlv: {
      int8: FieldType;
      int16: FieldType;
      int32: FieldType;
      cstring: FieldType;
      string: FieldType;
      buffer: FieldType;
    };
  }
}
