import { z } from 'zod';

/**
 * Field builders for environment variables. Every builder takes the raw string (or undefined when unset)
 * and produces a typed value or an issue that names the problem without echoing secrets.
 */

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/**
 * Boolean from "true/false/1/0/yes/no" (case-insensitive, surrounding spaces ignored). Anything else is an issue.
 * (z.coerce.boolean would turn "false" into true.)
 */
export function envBoolean(defaultValue: boolean) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): boolean => {
      if (raw === undefined) return defaultValue;
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      ctx.addIssue({ code: 'custom', message: `must be one of true, false, 1, 0, yes, no (got "${raw}")` });
      return z.NEVER;
    });
}

/** Whole number in [min, max]; the default applies when unset. */
export function envInt(opts: {
  min: number;
  max: number;
  default: number;
}): z.ZodType<number, string | undefined>;
export function envInt(opts: { min: number; max: number }): z.ZodType<number, string>;
export function envInt(opts: {
  min: number;
  max: number;
  default?: number;
}): z.ZodType<number, string | undefined> {
  const base = opts.default === undefined ? z.string() : z.string().optional();
  return (base as z.ZodOptional<z.ZodString>).transform((raw, ctx): number => {
    if (raw === undefined) return opts.default as number;
    const text = raw.trim();
    const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < opts.min || value > opts.max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number from ${opts.min} to ${opts.max} (got "${raw}")`,
      });
      return z.NEVER;
    }
    return value;
  });
}

/**
 * Comma-separated list: entries trimmed, empty entries dropped. `item` validates each entry
 * (return an error sentence, or undefined when fine).
 */
export function envList(opts: {
  default?: string;
  nonEmpty?: boolean;
  item?: (entry: string) => string | undefined;
}) {
  const base = opts.default === undefined ? z.string() : z.string().optional();
  return base.transform((raw, ctx): string[] => {
    const text = raw ?? (opts.default as string);
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e.length > 0);
    if (opts.nonEmpty && entries.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list at least one entry (comma-separated)' });
      return z.NEVER;
    }
    for (const entry of entries) {
      const problem = opts.item?.(entry);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
    }
    return entries;
  });
}

/**
 * URL whose scheme is one of `protocols` (e.g. ["http:", "https:"]). The value is never echoed in the
 * issue because URLs often carry credentials.
 */
export function envUrl(protocols: readonly string[]) {
  return z.string().transform((raw, ctx): string => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `must be a URL (${protocols.map((p) => p + '//…').join(' or ')})`,
      });
      return z.NEVER;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must use ${protocols.join(' or ')} (got ${url.protocol})` });
      return z.NEVER;
    }
    return raw.trim();
  });
}

/** Non-empty string (after trimming). */
export function envString() {
  return z.string().trim().min(1, { message: 'must not be empty' });
}
