import { isDeepStrictEqual } from 'node:util';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { decodePduReference, encodePduViaNodeSmpp } from './codec-node-smpp.js';
import { decodePdu, encodePdu, type PduInit } from './codec.js';
import { SmppError } from './errors.js';

// Byte-exact parity of the hand-written codec with node-smpp's encoder (through the wrapper the lib used
// before, which is also the fallback) and with the table-driven decoder it replaced, over seeded random
// PDUs. Reproduce a failure with SMPP_PARITY_SEED=<seed in the test name>.
const SEED = Number(process.env.SMPP_PARITY_SEED ?? 20261129);

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const HOT = [
  'submit_sm',
  'submit_sm_resp',
  'deliver_sm',
  'deliver_sm_resp',
  'enquire_link',
  'enquire_link_resp',
  'generic_nack',
];
const OTHERS = [
  'data_sm',
  'data_sm_resp',
  'query_sm',
  'query_sm_resp',
  'bind_transceiver',
  'bind_transmitter_resp',
  'unbind',
  'cancel_sm',
  'replace_sm',
  'alert_notification',
  'submit_multi',
  'broadcast_sm_resp',
];
const T = smpp.types;
// Known TLVs a hub sends, plus a few node-smpp filters or repeats (those take the fallback).
const TLV_NAMES = [
  'receipted_message_id',
  'message_state',
  'network_error_code',
  'message_payload',
  'sar_msg_ref_num',
  'sar_total_segments',
  'sar_segment_seqnum',
  'user_message_reference',
  'source_port',
  'dest_port',
  'more_messages_to_send',
  'payload_type',
  'qos_time_to_live',
  'additional_status_info_text',
  'delivery_failure_reason',
  'sc_interface_version',
  'billing_identification',
  'source_network_id',
  'dest_addr_np_information',
  'dest_addr_np_country',
  'ms_validity',
  'callback_num_pres_ind',
  'broadcast_end_time',
];
const UNEXPECTED: unknown[] = [null, -1, 256, 1.5, '7', true, new Uint8Array([1, 2]), { a: 1 }, NaN];

function generator(seed: number) {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <V>(xs: readonly V[]): V => xs[int(xs.length)] as V;
  const chance = (p: number): boolean => rnd() < p;
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const text = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = rnd();
      // ASCII mostly; Latin-1, and UTF-16 units above 0xFF (written as their low byte, like Buffer.from(s, 'latin1')).
      s += String.fromCharCode(
        r < 0.8 ? 0x20 + int(0x5f) : r < 0.95 ? 0xa0 + int(0x60) : 0x100 + int(0x3000),
      );
    }
    return s;
  };
  const cstring = (max: number): string | Buffer => {
    const n = chance(0.15) ? 0 : chance(0.15) ? max : int(max + 1);
    if (chance(0.2)) return Buffer.from(text(n).replace(/\0/g, ''), 'latin1');
    return text(n);
  };
  const shortMessage = (): Buffer | string => {
    const r = rnd();
    if (r < 0.1) return Buffer.alloc(0);
    if (r < 0.2) return bytes(chance(0.5) ? 254 : 255); // max lengths
    if (r < 0.35) return Buffer.concat([Buffer.from([5, 0, 3, int(256), 3, 1 + int(3)]), bytes(int(140))]); // UDH
    if (r < 0.35) return Buffer.concat([Buffer.from([6, 8, 4, int(256), int(256), 3, 2]), bytes(int(130))]);
    if (r < 0.55) return Buffer.from(text(int(70)), 'utf16le').swap16(); // UCS2
    if (r < 0.65) return text(int(160));
    return bytes(int(200));
  };
  const fieldValue = (name: string, kind: unknown): unknown => {
    if (chance(0.02)) return pick(UNEXPECTED);
    if (kind === T.int8) return chance(0.3) ? 0 : int(256);
    if (kind === T.int16) return int(0x10000);
    if (kind === T.int32) return chance(0.5) ? int(0x10000) : Math.floor(rnd() * 0x100000000);
    if (name === 'short_message') return chance(0.02) ? bytes(256 + int(40)) : shortMessage();
    if (kind === T.cstring) {
      if (name.endsWith('_addr')) return cstring(20);
      if (name === 'message_id') return cstring(64);
      if (name === 'schedule_delivery_time' || name === 'validity_period' || name === 'final_date')
        return pick(['', '000001000000000R', '261129170000000+', '000001', cstring(16)]);
      return cstring(15);
    }
    if (kind === T.dest_address_array)
      return [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123' }, { dl_name: 'x' }];
    if (kind === T.unsuccess_sme_array)
      return [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4477', error_status_code: 11 }];
    return undefined;
  };
  const tlvValue = (name: string): unknown => {
    const def = smpp.tlvs[name];
    if (!def) return undefined;
    if (chance(0.02)) return pick(UNEXPECTED);
    const TT = T.tlv;
    if (def.type === TT.int8) return int(256);
    if (def.type === TT.int16) return int(0x10000);
    if (def.type === TT.int32) return Math.floor(rnd() * 0x100000000);
    if (name === 'message_payload') return chance(0.1) ? bytes(1000 + int(3000)) : shortMessage();
    if (name === 'network_error_code') return bytes(3);
    if (def.type === TT.cstring) return cstring(64);
    if (def.type === TT.string) return text(int(20));
    return bytes(int(30));
  };
  return (): PduInit => {
    const command = chance(0.75) ? pick(HOT) : pick(OTHERS);
    const init: PduInit = { command };
    if (chance(0.9)) init.sequence_number = chance(0.1) ? 0x7fffffff : int(0x7fffffff);
    if (chance(0.08)) init.command_status = pick([0, 0x58, 0x0b, 0xfe, 0x400]);
    if (chance(0.01)) init.sequence_number = -5;
    // Body fields in a shuffled order, some left out.
    const params = Object.entries(smpp.commands[command]?.params ?? {});
    for (const [name, p] of params.sort(() => rnd() - 0.5)) {
      if (chance(0.75)) init[name] = fieldValue(name, p.type);
    }
    const tlvCount = command.endsWith('_resp') && chance(0.7) ? 0 : int(5);
    for (let i = 0; i < tlvCount; i++) {
      const name = pick(TLV_NAMES);
      init[name] = tlvValue(name);
    }
    if (chance(0.15)) {
      const tlvs: Record<number, Buffer> = {};
      for (let i = int(3); i >= 0; i--) tlvs[0x1400 + int(0x100)] = bytes(int(10));
      if (chance(0.05)) tlvs[0x1500] = bytes(0x10000);
      init.tlvs = tlvs;
    }
    return init;
  };
}

type Outcome = { bytes: string } | { error: string; status: number | undefined };

function outcome(encode: (init: PduInit) => Buffer, init: PduInit): Outcome {
  try {
    return { bytes: encode(init).toString('hex') };
  } catch (e) {
    return { error: (e as Error).message, status: e instanceof SmppError ? e.commandStatus : undefined };
  }
}

/** node-smpp's own decoder without its text/time filters (it must not be given malformed PDUs). */
function nodeSmppDecode(buf: Buffer): Record<string, unknown> {
  const raw = Object.create(smpp.PDU.prototype) as Record<string, unknown> & {
    fromBuffer(b: Buffer): void;
    _filter(): void;
  };
  raw._filter = () => undefined;
  raw.fromBuffer(buf);
  return raw;
}

// Thousands of PDUs: generous timeouts for a busy machine (nothing here measures time).
describe(`hand-written codec parity (seed ${SEED})`, { timeout: 60_000 }, () => {
  const next = generator(SEED);
  const samples = Array.from({ length: 6000 }, next);

  it('encodes every random PDU to the same bytes as node-smpp, or fails with the same error', () => {
    let fast = 0;
    let failures = 0;
    for (const init of samples) {
      const want = outcome(encodePduViaNodeSmpp, init);
      const got = outcome(encodePdu, init);
      if (got.toString() !== want.toString() || JSON.stringify(got) !== JSON.stringify(want)) {
        expect({ init, got }).toEqual({ init, got: want });
      }
      if ('bytes' in want) fast++;
      else failures++;
    }
    // The sample covers both what encodes and what is refused.
    expect(fast).toBeGreaterThan(4000);
    expect(failures).toBeGreaterThan(50);
  });

  it('decodes every random PDU, and every mutation of it, exactly as the reference decoder', () => {
    const rnd = prng(SEED ^ 0x5a5a5a5a);
    const int = (n: number): number => Math.floor(rnd() * n);
    let compared = 0;
    for (const init of samples) {
      let buf: Buffer;
      try {
        buf = encodePdu(init);
      } catch {
        continue;
      }
      const variants = [buf];
      for (let m = 0; m < 3; m++) {
        const v = Buffer.from(buf);
        const r = rnd();
        if (r < 0.3 && v.length > 16)
          v[16 + int(v.length - 16)] = int(256); // flip a body byte
        else if (r < 0.5 && v.length > 16) v.fill(0xff, 16 + int(v.length - 16)); // no NULs from here on
        const cut = r >= 0.5 && r < 0.8 ? v.subarray(0, 16 + int(v.length - 15)) : v; // truncated body
        const w = Buffer.from(cut);
        w.writeUInt32BE(w.length, 0);
        if (rnd() < 0.1) w.writeUInt32BE(w.length + 1, 0); // length mismatch
        variants.push(w);
      }
      for (const v of variants) {
        const got = decodePdu(v);
        const want = decodePduReference(v);
        if (!isDeepStrictEqual(got, want))
          expect({ hex: v.toString('hex'), got }).toEqual({ hex: v.toString('hex'), got: want });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20000);
  });

  it('reads well-formed ASCII PDUs to the same values as node-smpp’s decoder', () => {
    // C-strings only (octet fields may hold anything): node-smpp reads them as 7-bit ASCII.
    const octets = new Set(['short_message', 'message_payload', 'network_error_code', 'ms_validity', 'tlvs']);
    const ascii = ([k, v]: [string, unknown]): boolean =>
      octets.has(k) ||
      (typeof v !== 'string' && !Buffer.isBuffer(v)) ||
      [...(typeof v === 'string' ? v : v.toString('latin1'))].every((c) => c > '\0' && c < '\x80');
    let compared = 0;
    for (const init of samples) {
      if (init.command === 'submit_multi' || init.command === 'broadcast_sm_resp') continue;
      if (!Object.entries(init).every(ascii)) continue;
      // A request with an error status is encoded as a bare header, which is not a valid request.
      if (init.command_status && !init.command.endsWith('_resp') && init.command !== 'generic_nack') continue;
      let buf: Buffer;
      try {
        buf = encodePdu(init);
      } catch {
        continue;
      }
      if (buf.length > smpp.PDU.maxLength) continue;
      const ours = decodePdu(buf);
      if (!ours.ok) expect({ init, ours }).toBeUndefined();
      if (!ours.ok) continue;
      const theirs = nodeSmppDecode(buf);
      for (const [k, v] of Object.entries(ours.pdu)) {
        if (k === 'tlvs') {
          for (const [tag, b] of Object.entries(v as Record<string, Buffer>)) expect(theirs[tag]).toEqual(b);
        } else if (Array.isArray(v) && !Array.isArray(theirs[k])) {
          expect(v).toEqual([theirs[k]]);
        } else if (ours.pdu.command_status === 0 || k.startsWith('command') || k === 'sequence_number') {
          expect(theirs[k]).toEqual(v);
        }
      }
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });
});
