// Parsing of command-line values (money, times, durations, enums, key=value lists) and their display.
// Every parser throws CliError(USAGE) with a sentence naming the flag.
import type { Money } from '@smshub/contracts';
import { CliError, EXIT } from './exit-codes.js';

function usage(message: string): never {
  throw new CliError(message, EXIT.USAGE);
}

/** The hub's default Money scale (micro-units), see proto/smshub/common/v1/money.proto. */
export const DEFAULT_SCALE = 6;

/**
 * Exact decimal string ("0.00345", "-12", "5.5") to Money at scale max(6, digits after the point).
 * Never goes through a float.
 */
export function parseMoney(value: string, currency: string, flag = 'amount'): Money {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!m) usage(`${flag} must be a decimal number like 0.00345, got "${value}"`);
  const [, sign, whole, frac = ''] = m;
  if (frac.length > 18) usage(`${flag} has more than 18 decimal places`);
  const scale = Math.max(DEFAULT_SCALE, frac.length);
  const digits = `${whole}${frac.padEnd(scale, '0')}`;
  const minor = BigInt(digits) * (sign === '-' ? -1n : 1n);
  return { currencyCode: parseCurrency(currency, flag), minorUnits: minor, scale };
}

/** ISO 4217 code, upper-cased. */
export function parseCurrency(value: string, flag = 'currency'): string {
  const c = value.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(c))
    usage(`${flag}: currency must be a 3-letter ISO 4217 code like EUR, got "${value}"`);
  return c;
}

/** minor / 10^scale as an exact decimal string; keeps at least 2 decimals, drops further trailing zeros. */
export function formatDecimal(minor: bigint, scale: number): string {
  const neg = minor < 0n;
  const abs = (neg ? -minor : minor).toString().padStart(scale + 1, '0');
  const whole = abs.slice(0, abs.length - scale);
  let frac = scale > 0 ? abs.slice(abs.length - scale) : '';
  frac = frac.replace(/0+$/, '');
  if (frac.length < 2 && scale >= 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** "EUR 0.00345". */
export function formatMoney(m: Money | undefined): string {
  if (!m) return '';
  return `${m.currencyCode} ${formatDecimal(m.minorUnits, m.scale)}`.trim();
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** "90s", "15m", "24h", "7d" -> milliseconds. */
export function parseDuration(value: string, flag = 'duration'): number {
  const m = DURATION.exec(value.trim());
  if (!m) usage(`${flag} must be a duration like 30m, 24h or 7d, got "${value}"`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * A point in time: RFC 3339 ("2026-11-29T10:00:00Z"), a date ("2026-11-29" = UTC midnight), "now", or an
 * offset from now ("-2h", "+30m", "2h ago").
 */
export function parseTime(value: string, flag = 'time', now: Date = new Date()): Date {
  const v = value.trim();
  if (v === 'now') return now;
  const ago = /^(.+?)\s+ago$/.exec(v);
  if (ago) return new Date(now.getTime() - parseDuration(ago[1]!, flag));
  const rel = /^([+-])(.+)$/.exec(v);
  if (rel && DURATION.test(rel[2]!)) {
    const ms = parseDuration(rel[2]!, flag);
    return new Date(now.getTime() + (rel[1] === '-' ? -ms : ms));
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = new Date(`${v}T00:00:00Z`);
    if (!Number.isNaN(d.getTime())) return d;
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v)) {
    const d = new Date(v.replace(' ', 'T'));
    if (!Number.isNaN(d.getTime())) return d;
  }
  return usage(
    `${flag} must be a time like 2026-11-29T10:00:00Z, 2026-11-29, now, -2h or "2h ago", got "${value}"`,
  );
}

/** A month "2026-11" -> its first instant (UTC), or a date. */
export function parseMonthOrDate(value: string, flag: string): Date {
  if (/^\d{4}-\d{2}$/.test(value.trim())) return parseTime(`${value.trim()}-01`, flag);
  return parseTime(value, flag);
}

export function parseIntFlag(value: string, flag: string, min = 0, max = 2 ** 31 - 1): number {
  if (!/^[+-]?\d+$/.test(value.trim())) usage(`${flag} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) usage(`${flag} must be between ${min} and ${max}, got ${value}`);
  return n;
}

export function parseBigIntFlag(value: string, flag: string): bigint {
  if (!/^\d+$/.test(value.trim())) usage(`${flag} must be a whole number, got "${value}"`);
  return BigInt(value.trim());
}

export function parseBool(value: string, flag: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'y', '1', 'on'].includes(v)) return true;
  if (['false', 'no', 'n', '0', 'off'].includes(v)) return false;
  return usage(`${flag} must be true or false, got "${value}"`);
}

/** A TypeScript enum from ts-proto: name -> number, number -> name. */
export type ProtoEnum = Record<string, string | number>;

/** The enum's names without its common prefix and without UNSPECIFIED/UNRECOGNIZED ("active", "suspended"). */
export function enumChoices(e: ProtoEnum, prefix: string): string[] {
  return Object.keys(e)
    .filter((k) => Number.isNaN(Number(k)) && k.startsWith(prefix) && !k.endsWith('_UNSPECIFIED'))
    .map((k) => k.slice(prefix.length).toLowerCase().replace(/_/g, '-'));
}

/**
 * "active", "ACTIVE", "account-state-active" or "ACCOUNT_STATE_ACTIVE" -> the enum number. Also a
 * number. UNSPECIFIED is accepted only when spelled in full.
 */
export function parseEnum(e: ProtoEnum, prefix: string, value: string, flag: string): number {
  const v = value.trim().toUpperCase().replace(/-/g, '_');
  const full = v.startsWith(prefix) ? v : `${prefix}${v}`;
  const n = e[full];
  if (typeof n === 'number' && (!full.endsWith('_UNSPECIFIED') || v === full)) return n;
  return usage(`${flag} must be one of ${enumChoices(e, prefix).join(', ')}; got "${value}"`);
}

/** Enum number -> short lower-case name ("active"); "" for UNSPECIFIED. */
export function enumLabel(e: ProtoEnum, prefix: string, n: number): string {
  const name = e[n];
  if (typeof name !== 'string' || name.endsWith('_UNSPECIFIED')) return '';
  return name.slice(prefix.length).toLowerCase().replace(/_/g, '-');
}

/**
 * "key=value,key=value" (values may not contain commas; lists inside a value use ';') -> entries.
 * Keys are proto field names (snake_case) or their lowerCamelCase JSON names.
 */
export function parseKeyValues(value: string, flag: string, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) usage(`${flag}: expected key=value pairs separated by commas, got "${part.trim()}"`);
    const key = part
      .slice(0, eq)
      .trim()
      .replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
      .replace(/-/g, '_');
    if (!allowed.includes(key)) usage(`${flag}: unknown key "${key}"; known keys: ${allowed.join(', ')}`);
    out.set(key, part.slice(eq + 1).trim());
  }
  return out;
}

/** "a;b;c" or repeated values -> list without empties. */
export function splitList(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(/[;,]/))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
