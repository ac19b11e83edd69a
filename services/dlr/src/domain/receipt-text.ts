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
  const hits: { key: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(KEY)) {
    const key = (m[1] ?? '').toLowerCase();
    hits.push({ key, start: m.index, end: m.index + m[0].length });
    if (key === 'text') break;
  }
  const out: ReceiptTextFields = {};
  hits.forEach((hit, i) => {
    const next = hits[i + 1];
    const raw = text.slice(hit.end, next === undefined ? text.length : next.start);
    const value = hit.key === 'text' ? raw.replace(/^\s/, '') : raw.trim();
    switch (hit.key) {
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
  });
  return out;
}
