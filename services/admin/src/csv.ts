// A small RFC 4180 CSV reader for the imports: quoted fields (with "" escapes and line breaks inside quotes),
// CRLF or LF line ends, a header line naming the columns. Every record keeps the 1-based line it starts on.
import { invalid } from './errors.js';

export interface CsvRecord {
  /** 1-based line of the CSV where the record starts (the header is line 1). */
  line: number;
  /** Values by header name. */
  values: Record<string, string>;
  /** Number of fields the line had. */
  width: number;
}

export interface CsvFile {
  header: string[];
  records: CsvRecord[];
  /** Lines whose quoting is broken (not parsed further). */
  errors: { line: number; message: string }[];
}

/** Parses the file; the header must hold every `required` column (others in `optional` are allowed). */
export function parseCsv(
  bytes: Uint8Array,
  required: readonly string[],
  optional: readonly string[] = [],
): CsvFile {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('csv', 'is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: { line: number; fields: string[] }[] = [];
  const errors: CsvFile['errors'] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let broken = false;
    for (;;) {
      if (i >= text.length) {
        if (quoted) broken = true;
        fields.push(field);
        break;
      }
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        continue;
      }
      if (ch === '"' && field === '') {
        quoted = true;
        i++;
      } else if (ch === ',') {
        fields.push(field);
        field = '';
        i++;
      } else if (ch === '\n' || ch === '\r') {
        fields.push(field);
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      } else {
        field += ch;
        i++;
      }
    }
    if (broken) errors.push({ line: start, message: 'unterminated quoted field' });
    else if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: start, fields });
  }
  const headerRow = rows.shift();
  if (!headerRow) throw invalid('csv', `is empty; the first line must be the header ${required.join(',')}`);
  const header = headerRow.fields.map((h) => h.trim().toLowerCase());
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length > 0)
    throw invalid('csv', `header (line 1) lacks ${missing.join(', ')}; expected ${required.join(',')}`);
  const unknown = header.filter((h) => !required.includes(h) && !optional.includes(h));
  if (unknown.length > 0) throw invalid('csv', `header (line 1) has unknown column ${unknown.join(', ')}`);
  const records = rows.map((r) => {
    const values: Record<string, string> = {};
    header.forEach((h, k) => (values[h] = (r.fields[k] ?? '').trim()));
    return { line: r.line, values, width: r.fields.length };
  });
  return { header, records, errors };
}

/** "0.00345" -> { amount: 345n, scale: 5 }; undefined when it is not a non-negative decimal. */
export function parseDecimal(v: string): { amount: bigint; scale: number } | undefined {
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(v);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  if (frac.length > 18) return undefined;
  return { amount: BigInt(m[1]! + frac), scale: frac.length };
}

/** RFC 3339 time (with a zone) -> Date; undefined when invalid. */
export function parseTime(v: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/.test(v)) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
