// Parser of the de-facto delivery receipt text (SMPP 3.4 Appendix B):
//   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
// Tolerates the variants seen in the wild: any key order, keys in any case ("Text:"), 12-digit dates
// (with seconds), missing or truncated fields. Everything after `text:` is the text (it may contain
// colons). Dates carry no time zone: they are read in the connector's receipt time zone (UTC default).
import { instantOfWallClock } from '@smshub/smpp/zone';

export interface ReceiptTextFields {
  id?: string;
  sub?: string;
  dlvrd?: string;
  submitDate?: number;
  doneDate?: number;
  stat?: string;
  err?: string;
  text?: string;
}

const KEY = /(?:^|\s)(id|sub|dlvrd|submit date|done date|stat|err|text)\s*:/gi;
const KEYS = ['id', 'sub', 'dlvrd', 'submit date', 'done date', 'stat', 'err', 'text'] as const;
const TEXT = KEYS.indexOf('text');

/**
 * YYMMDDhhmm or YYMMDDhhmmss (years 2000-2099) -> epoch ms; undefined when malformed. The digits are
 * wall-clock time in `timeZone` (IANA name, the connector's receipt time zone), UTC by default.
 */
export function parseReceiptDate(value: string, timeZone = 'UTC'): number | undefined {
  const wall = parseWallClock(value);
  if (wall === undefined || timeZone === 'UTC') return wall;
  return instantOfWallClock(timeZone, wall);
}

function parseWallClock(value: string): number | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value.trim());
  if (!m) return undefined;
  const yy = Number(m[1]);
  const mo = Number(m[2]);
  const dd = Number(m[3]);
  const hh = Number(m[4]);
  const mi = Number(m[5]);
  const ss = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return undefined;
  const t = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss);
  // reject dates that roll over (e.g. 31 February)
  if (new Date(t).getUTCDate() !== dd) return undefined;
  return t;
}

/** Parse a receipt text; dates are read in `timeZone` (IANA name, default UTC). */
export function parseReceiptText(text: string, timeZone = 'UTC'): ReceiptTextFields {
  // the keys' positions as flat numbers (key index in KEYS, start, end) from one exec loop: no iterator
  // and no object per key (a receipt's text is parsed for every receipt consumed)
  const hits: number[] = [];
  KEY.lastIndex = 0;
  for (let m = KEY.exec(text); m !== null; m = KEY.exec(text)) {
    const key = (KEYS as readonly string[]).indexOf((m[1] ?? '').toLowerCase());
    hits.push(key, m.index, m.index + m[0].length);
    if (key === TEXT) break;
  }
  KEY.lastIndex = 0;
  const out: ReceiptTextFields = {};
  for (let i = 0; i < hits.length; i += 3) {
    const key = KEYS[hits[i]!];
    const raw = text.slice(hits[i + 2]!, i + 3 < hits.length ? hits[i + 4]! : text.length);
    const value = key === 'text' ? raw.replace(/^\s/, '') : raw.trim();
    switch (key) {
      case 'id':
        if (value !== '') out.id = value;
        break;
      case 'sub':
        out.sub = value;
        break;
      case 'dlvrd':
        out.dlvrd = value;
        break;
      case 'submit date': {
        const t = parseReceiptDate(value, timeZone);
        if (t !== undefined) out.submitDate = t;
        break;
      }
      case 'done date': {
        const t = parseReceiptDate(value, timeZone);
        if (t !== undefined) out.doneDate = t;
        break;
      }
      case 'stat':
        if (value !== '') out.stat = value;
        break;
      case 'err':
        if (value !== '') out.err = value;
        break;
      case 'text':
        out.text = value;
        break;
    }
  }
  lastText = text; // only once parsed whole (a bad time zone throws above)
  lastId = out.id;
  return out;
}

// The text and id of the last text parsed: a receipt's text is parsed to normalise it and then asked for
// its id (receiptTextId), which then costs no second parse.
let lastText: string | undefined;
let lastId: string | undefined;

/** The `id:` field of a receipt text (parseReceiptText(text).id), without parsing again the text just parsed. */
export function receiptTextId(text: string): string | undefined {
  return text === lastText ? lastId : parseReceiptText(text).id;
}
