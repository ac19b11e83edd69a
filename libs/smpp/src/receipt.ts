/**
 * SMSC delivery receipt text (SMPP 3.4 Appendix B, "not a standard, example format") and the receipt TLVs.
 * The parser is lenient on purpose: it never throws, returns whatever it could read, and `ok` tells whether
 * the essential fields (id and a known stat) were found.
 */

export const RECEIPT_STATS = [
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'ENROUTE',
] as const;
export type ReceiptStat = (typeof RECEIPT_STATS)[number];

/** message_state values (TLV 0x0427 in deliver_sm, field of query_sm_resp). */
export const MessageState = {
  SCHEDULED: 0, // SMPP 5.0
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
  SKIPPED: 9, // SMPP 5.0
} as const;

const STAT_TO_STATE: Record<ReceiptStat, number> = {
  ENROUTE: MessageState.ENROUTE,
  DELIVRD: MessageState.DELIVERED,
  EXPIRED: MessageState.EXPIRED,
  DELETED: MessageState.DELETED,
  UNDELIV: MessageState.UNDELIVERABLE,
  ACCEPTD: MessageState.ACCEPTED,
  UNKNOWN: MessageState.UNKNOWN,
  REJECTD: MessageState.REJECTED,
};

export function statToMessageState(stat: ReceiptStat): number {
  return STAT_TO_STATE[stat];
}

export function messageStateToStat(state: number): ReceiptStat | undefined {
  for (const [stat, s] of Object.entries(STAT_TO_STATE)) if (s === state) return stat as ReceiptStat;
  return undefined;
}

/**
 * True for stats after which nothing more will happen to the message. SMPP 3.4 (5.2.28) lists every
 * message_state but ENROUTE as final, UNKNOWN included (smshub sends UNKNOWN when the outcome can never be
 * learned, e.g. a part in flight when egress was killed). ACCEPTD is read as intermediate: many SMSCs send it
 * for "accepted by the SMSC", before the final state.
 */
export function isFinalStat(stat: ReceiptStat): boolean {
  return stat !== 'ENROUTE' && stat !== 'ACCEPTD';
}

export interface ReceiptFields {
  id: string;
  /** Number of short messages originally submitted (default 1). */
  sub?: number;
  /** Number delivered (default 1 for DELIVRD, else 0). */
  dlvrd?: number;
  submitDate: Date;
  doneDate: Date;
  stat: ReceiptStat;
  /** Network/SMSC specific error code, formatted as 3 digits (default 0). */
  err?: number | string;
  /** First characters of the message (at most 20 are written). */
  text?: string;
  /** 10 = YYMMDDhhmm (default, the spec's format), 12 = with seconds. */
  dateDigits?: 10 | 12;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** Date -> YYMMDDhhmm[ss] in UTC. */
export function formatReceiptDate(d: Date, digits: 10 | 12 = 10): string {
  const s =
    pad(d.getUTCFullYear() % 100, 2) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2);
  return digits === 12 ? s + pad(d.getUTCSeconds(), 2) : s;
}

/** Receipt text in the common format: `id:... sub:001 dlvrd:001 submit date:... done date:... stat:DELIVRD err:000 text:...`. */
export function formatReceipt(f: ReceiptFields): string {
  const digits = f.dateDigits ?? 10;
  const sub = f.sub ?? 1;
  const dlvrd = f.dlvrd ?? (f.stat === 'DELIVRD' ? sub : 0);
  const err = typeof f.err === 'string' ? f.err : pad(f.err ?? 0, 3);
  return (
    `id:${f.id} sub:${pad(sub, 3)} dlvrd:${pad(dlvrd, 3)}` +
    ` submit date:${formatReceiptDate(f.submitDate, digits)} done date:${formatReceiptDate(f.doneDate, digits)}` +
    ` stat:${f.stat} err:${err} text:${(f.text ?? '').slice(0, 20)}`
  );
}

export interface ParsedReceipt {
  /** id and a known stat were found. */
  ok: boolean;
  id?: string;
  sub?: number;
  dlvrd?: number;
  submitDate?: Date;
  doneDate?: Date;
  /** Raw date strings as received. */
  submitDateRaw?: string;
  doneDateRaw?: string;
  stat?: ReceiptStat;
  /** The stat as received when it is not one of the known values. */
  statRaw?: string;
  err?: string;
  text?: string;
  /** What could not be parsed, for logs. */
  problems: string[];
}

const KEY_RE = /(?:^|\s)(id|sub|dlvrd|submit\s+date|done\s+date|stat|err|text)\s*:/gi;

/** The two decimal digits at `i` as a number, or NaN unless both are ASCII digits. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/** YYMMDDhhmm or YYMMDDhhmmss (UTC, years 2000-2099) -> Date; undefined when malformed. */
export function parseReceiptDate(raw: string): Date | undefined {
  if (raw.length !== 10 && raw.length !== 12) return undefined;
  const yy = twoDigits(raw, 0);
  const mo = twoDigits(raw, 2);
  const dd = twoDigits(raw, 4);
  const hh = twoDigits(raw, 6);
  const mi = twoDigits(raw, 8);
  const ss = raw.length === 12 ? twoDigits(raw, 10) : 0;
  // A non-digit made its field NaN, which fails every comparison.
  if (!(yy >= 0 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && hh <= 23 && mi <= 59 && ss <= 59))
    return undefined;
  const d = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  if (d.getUTCDate() !== dd) return undefined; // 31 February and the like
  return d;
}

/** The separators of the common format after `id:`, in order (`text:` last: it takes the rest). */
const CANONICAL_KEYS = [
  ' sub:',
  ' dlvrd:',
  ' submit date:',
  ' done date:',
  ' stat:',
  ' err:',
  ' text:',
] as const;
const DIGITS = /^\d+$/;
const NO_SPACE = /^\S+$/;
const LEADING_SPACE = /^\s+/;

/**
 * The common format exactly as SMSCs write it (`id:X sub:001 dlvrd:001 submit date:… done date:… stat:DELIVRD
 * err:000 text:…`, lower-case keys, single spaces, every value well-formed): read by position, without the
 * key scan. Returns undefined for anything else, which the general parser reads. Same result as the general
 * parser for every text it accepts: each value before `text:` is one run of non-space characters, so no key
 * can start inside it (a key needs a space or the start before it), and the keys are the format's, once each,
 * in its order (receipt.spec.ts compares both on generated and mutated texts).
 */
function parseCanonical(s: string): ParsedReceipt | undefined {
  if (!s.startsWith('id:')) return undefined;
  const values: string[] = [];
  let from = 3;
  for (const sep of CANONICAL_KEYS) {
    const at = s.indexOf(sep, from);
    if (at < 0) return undefined;
    const v = s.slice(from, at);
    if (!NO_SPACE.test(v)) return undefined;
    values.push(v);
    from = at + sep.length;
  }
  const [id, sub, dlvrd, submitRaw, doneRaw, statRaw, err] = values as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // Digits past a double's range are not a count (Infinity): the general parser refuses them with a problem.
  const subN = DIGITS.test(sub) ? Number(sub) : NaN;
  const dlvrdN = DIGITS.test(dlvrd) ? Number(dlvrd) : NaN;
  if (!Number.isFinite(subN) || !Number.isFinite(dlvrdN)) return undefined;
  const stat = statRaw.toUpperCase();
  if (!(RECEIPT_STATS as readonly string[]).includes(stat)) return undefined;
  const submitDate = parseReceiptDate(submitRaw);
  const doneDate = parseReceiptDate(doneRaw);
  if (submitDate === undefined || doneDate === undefined) return undefined;
  return {
    ok: true,
    problems: [],
    id,
    sub: subN,
    dlvrd: dlvrdN,
    submitDateRaw: submitRaw,
    submitDate,
    doneDateRaw: doneRaw,
    doneDate,
    stat: stat as ReceiptStat,
    err,
    text: s.slice(from).replace(LEADING_SPACE, ''),
  };
}

/**
 * Parse receipt text (from short_message or message_payload, already decoded to a string). Keys are
 * case-insensitive (`Text:`), spacing is free, unknown order is accepted; `text:` takes the rest of the
 * string. Never throws.
 */
export function parseReceipt(input: string | Uint8Array): ParsedReceipt {
  let s: string;
  try {
    s = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  } catch {
    return { ok: false, problems: ['unreadable input'] };
  }
  return parseCanonical(s) ?? parseGeneral(s);
}

/** Any receipt text: keys found by a scan, in any order and case, with free spacing. */
function parseGeneral(s: string): ParsedReceipt {
  const problems: string[] = [];
  const keys: Array<{ key: string; start: number; valueStart: number }> = [];
  KEY_RE.lastIndex = 0;
  for (let m = KEY_RE.exec(s); m !== null; m = KEY_RE.exec(s)) {
    const key = (m[1] as string).toLowerCase().replace(/\s+/g, ' ');
    keys.push({ key, start: m.index, valueStart: m.index + m[0].length });
    if (key === 'text') break; // the rest belongs to text, whatever it contains
  }
  const r: ParsedReceipt = { ok: false, problems };
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (seen.has(k.key)) return;
    seen.add(k.key);
    const next = keys[i + 1];
    const rawValue = s.slice(k.valueStart, next ? next.start : s.length);
    const value = k.key === 'text' ? rawValue.replace(/^\s+/, '') : rawValue.trim();
    switch (k.key) {
      case 'id':
        if (value) r.id = value.split(/\s+/)[0];
        else problems.push('empty id');
        break;
      case 'sub':
      case 'dlvrd': {
        const n = /^\d+$/.test(value) ? Number(value) : NaN;
        if (Number.isFinite(n)) r[k.key] = n;
        else problems.push(`bad ${k.key}: ${value.slice(0, 16)}`);
        break;
      }
      case 'submit date':
      case 'done date': {
        const d = parseReceiptDate(value);
        if (k.key === 'submit date') r.submitDateRaw = value;
        else r.doneDateRaw = value;
        if (d === undefined) problems.push(`bad ${k.key}: ${value.slice(0, 16)}`);
        else if (k.key === 'submit date') r.submitDate = d;
        else r.doneDate = d;
        break;
      }
      case 'stat': {
        const up = value.toUpperCase();
        if ((RECEIPT_STATS as readonly string[]).includes(up)) r.stat = up as ReceiptStat;
        else {
          r.statRaw = value;
          problems.push(`unknown stat: ${value.slice(0, 16)}`);
        }
        break;
      }
      case 'err':
        r.err = value;
        break;
      case 'text':
        r.text = value;
        break;
    }
  });
  if (r.id === undefined) problems.push('missing id');
  if (r.stat === undefined && r.statRaw === undefined) problems.push('missing stat');
  r.ok = r.id !== undefined && r.stat !== undefined;
  return r;
}

/** network_error_code TLV (0x0423): network type (1 ANSI-136, 2 IS-95, 3 GSM, ...) + 16-bit error code. */
export interface NetworkErrorCode {
  networkType: number;
  errorCode: number;
}

export function encodeNetworkErrorCode(v: NetworkErrorCode): Buffer {
  const b = Buffer.alloc(3);
  b.writeUInt8(v.networkType & 0xff, 0);
  b.writeUInt16BE(v.errorCode & 0xffff, 1);
  return b;
}

/** undefined unless exactly 3 octets. */
export function decodeNetworkErrorCode(b: Uint8Array | undefined): NetworkErrorCode | undefined {
  if (!b || b.length !== 3) return undefined;
  return { networkType: b[0] as number, errorCode: ((b[1] as number) << 8) | (b[2] as number) };
}

/**
 * How a peer writes a message id in a given place: the same message can carry its id in hex in
 * submit_sm_resp / receipted_message_id and in decimal in the receipt text (a per-connector setting).
 */
export type MessageIdFormat = 'as-is' | 'hex' | 'dec';

/**
 * A canonical form of a message id for correlation. 'hex' and 'dec' parse the id as a number in that base
 * and return it in decimal (so a hex id and its decimal twin normalise to the same string); 'as-is' trims,
 * lower-cases and strips leading zeros. An id that does not parse in the given base falls back to 'as-is'.
 */
export function normalizeMessageId(id: string, format: MessageIdFormat = 'as-is'): string {
  const t = id.trim().toLowerCase();
  if (format === 'hex' && /^(0x)?[0-9a-f]+$/.test(t))
    return BigInt(t.startsWith('0x') ? t : `0x${t}`).toString(10);
  if (format === 'dec' && /^[0-9]+$/.test(t)) return BigInt(t).toString(10);
  const stripped = t.replace(/^0+(?=.)/, '');
  return stripped;
}
