// Flags of a resource's fields: how each flag is declared, parsed into the resource's TypeScript value,
// and named in an update mask.
import { Option } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import {
  enumChoices,
  parseBigIntFlag,
  parseEnum,
  parseIntFlag,
  parseTime,
  splitList,
  type ProtoEnum,
} from './values.js';

export type FlagValues = Record<string, unknown>;

export interface Field {
  /** Proto field name (snake_case): the update-mask path. */
  readonly path: string;
  /** TypeScript / JSON field name (lowerCamelCase). */
  readonly key: string;
  /** Commander options for this field (a boolean has --x and --no-x). */
  readonly options: Option[];
  /** Commander attribute holding the raw value. */
  readonly attribute: string;
  /** Raw flag value -> field value. */
  parse(raw: unknown, all: FlagValues): unknown;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function camel(path: string): string {
  return path.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function option(flags: string, help: string, repeat = false): Option {
  const o = new Option(flags, help);
  if (repeat) o.argParser(collect);
  return o;
}

function longFlag(flags: string): string {
  return /--[a-z0-9-]+/.exec(flags)?.[0] ?? flags;
}

function single(
  path: string,
  flags: string,
  help: string,
  parse: (v: string, flag: string) => unknown,
): Field {
  const o = option(flags, help);
  return {
    path,
    key: camel(path),
    options: [o],
    attribute: o.attributeName(),
    parse: (raw) => parse(raw as string, longFlag(flags)),
  };
}

export function str(path: string, flags: string, help: string): Field {
  return single(path, flags, help, (v) => v);
}

export function int(path: string, flags: string, help: string, min = 0, max = 2 ** 31 - 1): Field {
  return single(path, flags, help, (v, f) => parseIntFlag(v, f, min, max));
}

export function int64(path: string, flags: string, help: string): Field {
  return single(path, flags, help, (v, f) => parseBigIntFlag(v, f));
}

export function time(path: string, flags: string, help: string): Field {
  return single(path, flags, help, (v, f) => parseTime(v, f));
}

export function enumField(path: string, flags: string, help: string, e: ProtoEnum, prefix: string): Field {
  return single(path, flags, `${help} (${enumChoices(e, prefix).join(', ')})`, (v, f) =>
    parseEnum(e, prefix, v, f),
  );
}

/** One of fixed string values. */
export function choice(path: string, flags: string, help: string, values: readonly string[]): Field {
  return single(path, flags, `${help} (${values.join(', ')})`, (v, f) => {
    const x = v.trim().toLowerCase();
    if (!values.includes(x))
      throw new CliError(`${f} must be one of ${values.join(', ')}, got "${v}"`, EXIT.USAGE);
    return x;
  });
}

/** --x / --no-x. */
export function bool(path: string, name: string, help: string, negHelp: string): Field {
  const on = new Option(`--${name}`, help);
  const off = new Option(`--no-${name}`, negHelp);
  return {
    path,
    key: camel(path),
    options: [on, off],
    attribute: on.attributeName(),
    parse: (raw) => raw === true,
  };
}

/** Repeatable; each value may also hold several items separated by commas (ids, prefixes). */
export function list(path: string, flags: string, help: string): Field {
  const o = option(flags, `${help} (repeat, or separate with commas)`, true);
  return {
    path,
    key: camel(path),
    options: [o],
    attribute: o.attributeName(),
    parse: (raw) => splitList(raw as string[]),
  };
}

/** Repeatable, one item per flag (regular expressions may contain commas). */
export function repeated(path: string, flags: string, help: string): Field {
  const o = option(flags, `${help} (repeat for more)`, true);
  return {
    path,
    key: camel(path),
    options: [o],
    attribute: o.attributeName(),
    parse: (raw) => raw as string[],
  };
}

export function enumList(path: string, flags: string, help: string, e: ProtoEnum, prefix: string): Field {
  const o = option(
    flags,
    `${help} (${enumChoices(e, prefix).join(', ')}; repeat or separate with commas)`,
    true,
  );
  return {
    path,
    key: camel(path),
    options: [o],
    attribute: o.attributeName(),
    parse: (raw) => splitList(raw as string[]).map((v) => parseEnum(e, prefix, v, longFlag(flags))),
  };
}

/** A field whose value is built by `parse` from one or more repeatable flags. */
export function custom(
  path: string,
  flags: string,
  help: string,
  parse: (raw: unknown, all: FlagValues, flag: string) => unknown,
  repeat = false,
): Field {
  const o = option(flags, help, repeat);
  return {
    path,
    key: camel(path),
    options: [o],
    attribute: o.attributeName(),
    parse: (raw, all) => parse(raw, all, longFlag(flags)),
  };
}

/** The fields given on the command line: partial resource and the update-mask paths. */
export function fromFlags(
  fields: readonly Field[],
  values: FlagValues,
): { partial: FlagValues; paths: string[] } {
  const partial: FlagValues = {};
  const paths: string[] = [];
  for (const f of fields) {
    const raw = values[f.attribute];
    if (raw === undefined) continue;
    partial[f.key] = f.parse(raw, values);
    paths.push(f.path);
  }
  return { partial, paths };
}
