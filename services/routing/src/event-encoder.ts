// The fields of SmsRouted and SmsRejected that routing adds around the consumed SmsSubmitted (field 1),
// written straight into a reused buffer.
//
// The generated encoder (@bufbuild/protobuf's BinaryWriter) keeps a list of chunks per nested message,
// encodes each string through a TextEncoder into a fresh array, turns each timestamp into a BigInt, and
// joins the chunks at the end: about 6 % of the routing process for a few dozen bytes per event. This
// writer puts every field in one scratch buffer (a nested message's length is reserved as one byte and the
// bytes moved in the rare case it needs more), then copies header, consumed bytes and fields into one
// Buffer. Rule: the result is byte for byte the generated encoder's (fields in number order, proto3
// defaults left out); a value this writer does not write cheaply (a negative or non-finite number where a
// varint goes, a time before 1970) is encoded by the generated encoder instead.

import {
  SmsRejected,
  SmsRouted,
  type CustomerError,
  type Money,
  type NumberInfo,
  type RerouteTerms,
  type RouteCandidate,
} from '@smshub/contracts';

/** Thrown inside the writer when the generated encoder must take the value. */
class Fallback extends Error {}
const FALLBACK = new Fallback('fallback');

class Writer {
  buf = Buffer.allocUnsafe(16 * 1024);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned varint of a non-negative integer below 2^53. */
  varint(v: number): void {
    if (!(v >= 0) || !Number.isSafeInteger(v)) throw FALLBACK;
    this.ensure(8);
    const b = this.buf;
    while (v > 0x7f) {
      b[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }

  string(tag: number, s: string): void {
    if (s === '') return;
    this.varint(tag);
    this.ensure(s.length * 3 + 5);
    const start = this.pos;
    const n = this.buf.write(s, start + 1, 'utf8');
    this.pos = start + 1 + n;
    this.close(start);
  }

  uint32(tag: number, v: number): void {
    if (v === 0) return;
    if (!(v > 0 && v <= 0xffffffff && Number.isInteger(v))) throw FALLBACK;
    this.varint(tag);
    this.varint(v);
  }

  /** int32 and enum fields (negative ones: the generated encoder). */
  int32(tag: number, v: number): void {
    if (v === 0) return;
    if (!(v > 0 && v <= 0x7fffffff && Number.isInteger(v))) throw FALLBACK;
    this.varint(tag);
    this.varint(v);
  }

  /** Starts a nested message: its tag and one byte reserved for its length; returns where that byte is. */
  open(tag: number): number {
    this.varint(tag);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the nested message whose length byte is at `start` (moving its bytes when the length needs more). */
  close(start: number): void {
    const len = this.pos - start - 1;
    if (len < 0x80) {
      this.buf[start] = len;
      return;
    }
    let k = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) k++;
    this.ensure(k - 1);
    this.buf.copyWithin(start + k, start + 1, this.pos);
    this.pos += k - 1;
    let v = len;
    let p = start;
    while (v > 0x7f) {
      this.buf[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[p] = v;
  }

  timestamp(tag: number, d: Date): void {
    const ms = d.getTime();
    if (!(ms >= 0)) throw FALLBACK;
    const at = this.open(tag);
    const seconds = Math.trunc(ms / 1_000);
    const nanos = (ms % 1_000) * 1_000_000;
    if (seconds !== 0) {
      this.varint(8);
      this.varint(seconds);
    }
    this.int32(16, nanos);
    this.close(at);
  }

  numberInfo(tag: number, n: NumberInfo): void {
    const at = this.open(tag);
    this.string(10, n.countryCode);
    this.string(18, n.mcc);
    this.string(26, n.mnc);
    this.string(34, n.matchedPrefix);
    if (n.ported) {
      this.varint(40);
      this.varint(1);
    }
    this.int32(48, n.source);
    this.close(at);
  }

  money(tag: number, m: Money): void {
    const at = this.open(tag);
    this.string(10, m.currencyCode);
    if (m.minorUnits !== 0n) {
      if (m.minorUnits < 0n || m.minorUnits > BigInt(Number.MAX_SAFE_INTEGER)) throw FALLBACK;
      this.varint(16);
      this.varint(Number(m.minorUnits));
    }
    this.uint32(24, m.scale);
    this.close(at);
  }

  candidate(c: RouteCandidate): void {
    const at = this.open(18);
    this.string(10, c.connectorId);
    this.string(18, c.ruleId);
    this.string(26, c.reason);
    if (c.expectedCost !== undefined) this.money(34, c.expectedCost);
    this.string(42, c.buyRateId);
    this.close(at);
  }

  reroute(r: RerouteTerms): void {
    const at = this.open(50);
    for (const f of r.failures) this.repeatedString(10, f);
    for (const e of r.exceptErrors) this.repeatedString(18, e);
    this.uint32(24, r.windowMs);
    this.string(34, r.ruleId);
    this.close(at);
  }

  /** An element of a repeated string field: written even when empty. */
  repeatedString(tag: number, s: string): void {
    if (s !== '') return this.string(tag, s);
    this.varint(tag);
    this.varint(0);
  }

  customerError(e: CustomerError): void {
    const at = this.open(34);
    this.string(10, e.code);
    this.uint32(16, e.receiptError);
    this.string(26, e.message);
    this.close(at);
  }
}

const writer = new Writer();

/** Protobuf key of field 1 (`message`, length-delimited) in SmsRouted and SmsRejected. */
const MESSAGE_FIELD_KEY = 0x0a;

/** Field 1 with `submitted` as its bytes, then the fields `write` put in the scratch buffer, as one Buffer. */
function assemble(submitted: Uint8Array): Buffer {
  const restLen = writer.pos;
  let header = 2;
  for (let v = submitted.length; v > 0x7f; v = Math.floor(v / 128)) header++;
  const out = Buffer.allocUnsafe(header + submitted.length + restLen);
  out[0] = MESSAGE_FIELD_KEY;
  let p = 1;
  let v = submitted.length;
  while (v > 0x7f) {
    out[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  out.set(submitted, p);
  writer.buf.copy(out, p + submitted.length, 0, restLen);
  return out;
}

function routedFields(value: SmsRouted): void {
  for (const c of value.candidates) writer.candidate(c);
  writer.int32(24, value.strategy);
  if (value.destinationInfo !== undefined) writer.numberInfo(34, value.destinationInfo);
  if (value.routedAt !== undefined) writer.timestamp(42, value.routedAt);
  if (value.reroute !== undefined) writer.reroute(value.reroute);
}

function rejectedFields(value: SmsRejected): void {
  writer.string(18, value.ruleId);
  writer.string(26, value.reason);
  if (value.error !== undefined) writer.customerError(value.error);
  if (value.destinationInfo !== undefined) writer.numberInfo(42, value.destinationInfo);
  if (value.rejectedAt !== undefined) writer.timestamp(50, value.rejectedAt);
}

function encode<T extends SmsRouted | SmsRejected>(
  codec: { encode(value: T): { finish(): Uint8Array } },
  fields: (value: T) => void,
  value: T,
  submitted: Uint8Array,
): Buffer {
  writer.pos = 0;
  try {
    fields(value);
  } catch (err) {
    if (err !== FALLBACK) throw err;
    const rest = codec.encode({ ...value, message: undefined }).finish();
    writer.pos = 0;
    writer.ensure(rest.length);
    writer.buf.set(rest, 0);
    writer.pos = rest.length;
  }
  return assemble(submitted);
}

/**
 * SmsRouted whose `message` is the SmsSubmitted encoded as `submitted` (the consumed bytes): the
 * generated encoding of `value` with `submitted` as field 1 (`value.message` is not read).
 */
export const encodeRoutedWith = (value: SmsRouted, submitted: Uint8Array): Buffer =>
  encode(SmsRouted, routedFields, value, submitted);

/** SmsRejected likewise. */
export const encodeRejectedWith = (value: SmsRejected, submitted: Uint8Array): Buffer =>
  encode(SmsRejected, rejectedFields, value, submitted);
