// Sender id patterns shared by routing rules and the firewall.
//
// A pattern is either `{ glob }` ("*" = any run of characters, "?" = one character, everything else
// literal; case-insensitive; anchored at both ends) or `{ regex }` (JavaScript syntax, anchored only if the
// author anchors it; flags default to "i"). Exact strings are globs without wildcards.

export type SenderPattern = { glob: string } | { regex: string; flags?: string };

export type SenderKind = 'alphanumeric' | 'numeric';

export interface CompiledPattern {
  source: string;
  test(value: string): boolean;
}

export function compilePattern(p: SenderPattern): CompiledPattern {
  if ('glob' in p) {
    if (!/[*?]/.test(p.glob)) {
      const lower = p.glob.toLowerCase();
      return { source: p.glob, test: (v) => v.length === lower.length && v.toLowerCase() === lower };
    }
    const body = p.glob
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    const re = new RegExp(`^${body}$`, 'is');
    return { source: p.glob, test: (v) => re.test(v) };
  }
  const re = new RegExp(p.regex, p.flags ?? 'i');
  return { source: `/${p.regex}/`, test: (v) => re.test(v) };
}

/** "+" and digits only = numeric (a phone number or short code); anything else = alphanumeric. */
export function senderKind(sourceAddr: string, sourceTon: number): SenderKind {
  if (sourceTon === 5) return 'alphanumeric';
  return /^\+?\d+$/.test(sourceAddr) ? 'numeric' : 'alphanumeric';
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
