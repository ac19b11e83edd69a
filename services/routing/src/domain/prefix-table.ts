// MCC/MNC (ITU E.212) by longest E.164 prefix, and the CSV format the table is loaded from.
//
// CSV: one `prefix,country,mcc,mnc,operator` row per line; blank lines and lines starting with "#" are
// ignored; an optional header row naming those columns is skipped; fields may be double-quoted (a quote
// inside is doubled). Every problem is reported with its line number, all at once.

import { DigitTrie } from './digit-trie.js';

export interface PrefixEntry {
  /** E.164 digits without "+". */
  prefix: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  mcc: string;
  mnc: string;
  operator: string;
}

export interface PrefixMatch extends PrefixEntry {
  /** "MCC-MNC" */
  mccMnc: string;
}

export class PrefixTable {
  private readonly trie: DigitTrie<PrefixMatch>;

  constructor(entries: Iterable<PrefixEntry>) {
    this.trie = new DigitTrie<PrefixMatch>(4096);
    for (const e of entries) this.trie.set(e.prefix, { ...e, mccMnc: `${e.mcc}-${e.mnc}` });
    this.trie.compact();
  }

  get size(): number {
    return this.trie.size;
  }

  /** Longest-prefix match for "+4474..." or "4474...". */
  lookup(e164: string): PrefixMatch | undefined {
    return this.trie.longest(e164.startsWith('+') ? e164.slice(1) : e164)?.value;
  }
}

export class PrefixCsvError extends Error {
  readonly retriable = false;
  constructor(readonly problems: ReadonlyArray<{ line: number; message: string }>) {
    super(
      `prefix CSV has ${problems.length} problem(s):\n${problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n')}`,
    );
    this.name = 'PrefixCsvError';
  }
}

const HEADER = ['prefix', 'country', 'mcc', 'mnc', 'operator'];

/** Parses the prefix CSV; throws PrefixCsvError listing every bad line. */
export function parsePrefixCsv(text: string): PrefixEntry[] {
  const out: PrefixEntry[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  let sawData = false;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = splitCsvLine(raw);
    if (typeof fields === 'string') {
      problems.push({ line: lineNo, message: fields });
      continue;
    }
    if (!sawData && fields.map((f) => f.trim().toLowerCase()).join(',') === HEADER.join(',')) {
      sawData = true;
      continue;
    }
    sawData = true;
    if (fields.length !== 5) {
      problems.push({
        line: lineNo,
        message: `expected 5 fields (${HEADER.join(',')}), got ${fields.length}`,
      });
      continue;
    }
    const [prefix, country, mcc, mnc, operator] = fields.map((f) => f.trim()) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const bad: string[] = [];
    if (!/^[1-9]\d{0,14}$/.test(prefix))
      bad.push(`prefix ${JSON.stringify(prefix)} is not 1-15 digits starting 1-9`);
    if (!/^[A-Za-z]{2}$/.test(country) && country !== '001')
      bad.push(`country ${JSON.stringify(country)} is not ISO 3166 alpha-2`);
    if (!/^\d{3}$/.test(mcc)) bad.push(`mcc ${JSON.stringify(mcc)} is not 3 digits`);
    if (!/^\d{2,3}$/.test(mnc)) bad.push(`mnc ${JSON.stringify(mnc)} is not 2 or 3 digits`);
    const dup = seen.get(prefix);
    if (dup !== undefined) bad.push(`prefix ${prefix} already defined on line ${dup}`);
    if (bad.length > 0) {
      problems.push({ line: lineNo, message: bad.join('; ') });
      continue;
    }
    seen.set(prefix, lineNo);
    out.push({ prefix, country: country.toUpperCase(), mcc, mnc, operator });
  }
  if (problems.length > 0) throw new PrefixCsvError(problems);
  return out;
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines); returns an error text when malformed. */
function splitCsvLine(line: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) return 'unterminated quoted field';
        const c = line[i];
        if (c === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',')
        return `unexpected character after quoted field at column ${i + 1}`;
    } else {
      const end = line.indexOf(',', i);
      fields.push(end < 0 ? line.slice(i) : line.slice(i, end));
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return fields;
    i++; // skip the comma
  }
}
