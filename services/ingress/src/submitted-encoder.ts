import { SmsSubmitted } from '@smshub/contracts';

/**
 * The sms.submitted.v1 bytes of an event, byte for byte what the topic's codec (ts-proto's generated
 * `SmsSubmitted.encode`) gives, written straight into one reused buffer.
 *
 * It runs once per accepted message, and the generated encoder was a quarter of ingress's JavaScript time:
 * a TextEncoder call per string, a fork/join per nested message (6 of them), and its `finish()` copies
 * the bytes into a new ArrayBuffer per message. Here strings go through Buffer's native UTF-8 writer, a
 * nested message reserves one length byte (moved only when it turns out longer than 127 bytes), and the
 * result is copied once into a pooled Buffer.
 *
 * Fields are written in field-number order with proto3's rules (a field at its default value is left
 * out), as the generated code does. Values the generated encoder treats specially (negative enum or
 * time values, which protobuf writes as 10-byte varints; numbers outside uint32; invalid dates) are
 * handed to it whole, so the bytes, and the errors, stay its own. `SUBMITTED_FIELDS` lists the fields
 * written here; the spec fails when the contract gains one, so this cannot silently drop it.
 */

export const SUBMITTED_FIELDS = [
  'messageId',
  'accountId',
  'systemId',
  'session',
  'source',
  'destination',
  'esmClass',
  'protocolId',
  'priority',
  'registeredDelivery',
  'dataCoding',
  'shortMessage',
  'fromMessagePayload',
  'concat',
  'serviceType',
  'validityUntil',
  'validityPeriodRaw',
  'scheduleAt',
  'scheduleDeliveryTimeRaw',
  'tlvs',
  'receivedAt',
  'customerMessageId',
  'trafficType',
  'replaceIfPresent',
  'smDefaultMsgId',
  'channel',
  'callbackUrl',
  'clientReference',
  'holdUntil',
  'holdReason',
  'releasedAt',
] as const;

/** A value this encoder leaves to the generated one. */
class Unusual extends Error {}
const UNUSUAL = new Unusual();

let buf = Buffer.allocUnsafe(1024);
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
  buf.copy(bigger, 0, 0, pos);
  buf = bigger;
}

/** A varint of a non-negative integer below 2^32. */
function varint(v: number): void {
  ensure(5);
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
}

function uint32(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw UNUSUAL;
  return v;
}

function uintField(tag: number, v: number): void {
  if (v === 0) return;
  varint(tag);
  varint(uint32(v));
}

/** int32 enum values: negative ones are 10-byte varints, left to the generated encoder. */
function enumField(tag: number, v: number): void {
  if (v === 0) return;
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw UNUSUAL;
  varint(tag);
  varint(v);
}

function stringField(tag: number, s: string): void {
  if (s === '') return;
  varint(tag);
  const n = Buffer.byteLength(s, 'utf8');
  varint(n);
  ensure(n);
  pos += buf.write(s, pos, n, 'utf8');
}

function bytesField(tag: number, b: Uint8Array): void {
  if (b.length === 0) return;
  varint(tag);
  varint(b.length);
  ensure(b.length);
  buf.set(b, pos);
  pos += b.length;
}

/** Starts a nested message: its tag and one byte reserved for its length. Returns where that byte is. */
function begin(tag: number): number {
  varint(tag);
  ensure(1);
  return pos++;
}

/** Ends a nested message begun at `at`: writes its length, moving the body when it needs more bytes. */
function end(at: number): void {
  const len = pos - at - 1;
  if (len < 0x80) {
    buf[at] = len;
    return;
  }
  const size = len < 0x4000 ? 2 : len < 0x200000 ? 3 : len < 0x10000000 ? 4 : 5;
  ensure(size - 1);
  buf.copy(buf, at + size, at + 1, pos);
  pos += size - 1;
  const bodyEnd = pos;
  pos = at;
  varint(len);
  pos = bodyEnd;
}

/** google.protobuf.Timestamp of a Date, as ts-proto's toTimestamp makes it (dates before 1970 excluded). */
function timestampField(tag: number, d: Date | undefined): void {
  if (d === undefined) return;
  const ms = d.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw UNUSUAL;
  const at = begin(tag);
  const seconds = Math.trunc(ms / 1000);
  if (seconds !== 0) {
    varint(8);
    varintWide(seconds);
  }
  const nanos = (ms % 1000) * 1_000_000;
  if (nanos !== 0) {
    varint(16);
    varint(nanos);
  }
  end(at);
}

/** A varint of a non-negative safe integer (int64 seconds). */
function varintWide(v: number): void {
  ensure(10);
  while (v > 0x7f) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
}

function addressField(tag: number, a: SmsSubmitted['source']): void {
  if (a === undefined) return;
  const at = begin(tag);
  uintField(8, a.ton);
  uintField(16, a.npi);
  stringField(26, a.address);
  end(at);
}

function write(m: SmsSubmitted): void {
  stringField(10, m.messageId);
  stringField(18, m.accountId);
  stringField(26, m.systemId);
  if (m.session !== undefined) {
    const s = m.session;
    const at = begin(34);
    stringField(10, s.replica);
    stringField(18, s.sessionId);
    stringField(26, s.systemId);
    enumField(32, s.bindType);
    stringField(42, s.remoteAddress);
    uintField(48, s.interfaceVersion);
    end(at);
  }
  addressField(42, m.source);
  addressField(50, m.destination);
  uintField(56, m.esmClass);
  uintField(64, m.protocolId);
  uintField(72, m.priority);
  uintField(80, m.registeredDelivery);
  uintField(88, m.dataCoding);
  bytesField(98, m.shortMessage);
  if (m.fromMessagePayload !== false) {
    varint(104);
    varint(1);
  }
  if (m.concat !== undefined) {
    const c = m.concat;
    const at = begin(114);
    uintField(8, c.reference);
    uintField(16, c.total);
    uintField(24, c.partNumber);
    enumField(32, c.method);
    stringField(42, c.groupId);
    end(at);
  }
  stringField(122, m.serviceType);
  timestampField(130, m.validityUntil);
  stringField(138, m.validityPeriodRaw);
  timestampField(146, m.scheduleAt);
  stringField(154, m.scheduleDeliveryTimeRaw);
  for (const t of m.tlvs) {
    const at = begin(162);
    uintField(8, t.tag);
    bytesField(18, t.value);
    end(at);
  }
  timestampField(170, m.receivedAt);
  stringField(178, m.customerMessageId);
  enumField(184, m.trafficType);
  uintField(192, m.replaceIfPresent);
  uintField(200, m.smDefaultMsgId);
  enumField(208, m.channel);
  // HTTP-only fields (services/http-api); empty from SMPP, so nothing is written.
  stringField(218, m.callbackUrl);
  stringField(226, m.clientReference);
  // Held messages (services/scheduler): the release time and why; released_at is the scheduler's.
  timestampField(234, m.holdUntil);
  enumField(240, m.holdReason);
  timestampField(250, m.releasedAt);
}

/** The sms.submitted.v1 record value of `event`, in a Buffer of its own. */
export function encodeSubmitted(event: SmsSubmitted): Buffer {
  pos = 0;
  try {
    write(event);
  } catch (err) {
    if (err !== UNUSUAL) throw err;
    return Buffer.from(SmsSubmitted.encode(event).finish());
  }
  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  return out;
}
