// A cursor over protobuf wire format, for the readers that take a few fields of a hot topic's records
// without the generated decoder (routing's and webhooks' views of sms.delivery.v1).
//
// Rule: it reads only what such a reader needs cheaply: tags, lengths and small enums/booleans as varints
// of at most 35 bits (5 bytes), the bytes of a length-delimited field, and skipping a field of wire type 0
// (a varint of any length, as the generated decoder skips it), 1, 2 or 5. Anything else (a longer varint, a group, an invalid
// wire type, a field running past the end) throws WIRE_FALLBACK: the caller then lets the generated
// decoder take the whole record, so its answer and its errors stay the generated decoder's.

/** Thrown by WireReader where the generated decoder must take the record (one instance, no stack). */
export const WIRE_FALLBACK: Error = Object.freeze(new Error('wire format: use the generated decoder'));

const EMPTY = new Uint8Array(0);

/** A position in `buf` up to `end`; reset() points a reused reader at other bytes (no allocation). */
export class WireReader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array = EMPTY, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Reads `buf` from `start` to `end`. */
  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** A varint of at most 35 bits (5 bytes) as a non-negative number. */
  varint(): number {
    const b = this.buf;
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw WIRE_FALLBACK;
      const byte = b[this.pos++]!;
      result += (byte & 0x7f) * shift;
      if (byte < 0x80) return result;
      shift *= 128;
    }
    throw WIRE_FALLBACK;
  }

  /** The start of a length-delimited field's bytes; `pos` moves past them (to their end). */
  delimited(): number {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw WIRE_FALLBACK;
    return start;
  }

  /** Moves past the value of a field of wire type `wireType` (the tag's low 3 bits). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        for (;;) {
          if (this.pos >= this.end) throw WIRE_FALLBACK;
          if (this.buf[this.pos++]! < 0x80) return;
        }
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw WIRE_FALLBACK; // groups (3, 4) and invalid wire types
    }
    if (this.pos > this.end) throw WIRE_FALLBACK;
  }
}
