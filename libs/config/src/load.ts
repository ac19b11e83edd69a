import { z } from 'zod';
import { ConfigError } from './errors.js';
import { crossFieldChecks, type CrossFieldCheck } from './fragments.js';

type Env = Record<string, string | undefined>;

/** EX_CONFIG from sysexits.h: "something was found in an unconfigured or misconfigured state". */
export const EX_CONFIG = 78;

function deepFreeze<T>(value: T): T {
  // Typed arrays and Buffers cannot be frozen (their bytes are not properties); they are left as they are.
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

/** Blank values ("" or only spaces) count as unset, so `FOO=` in a compose file means "use the default". */
function normalise(env: Env, keys: readonly string[]): Env {
  const out: Env = {};
  for (const key of keys) {
    const raw = env[key];
    out[key] = raw === undefined || raw.trim() === '' ? undefined : raw;
  }
  return out;
}

/**
 * Parses the environment once with `schema` (a z.object of env variables). Every bad variable is
 * collected, each as `VAR: reason`, into one ConfigError. The result is deep-frozen.
 * Only the schema's keys are read; other variables are ignored.
 */
export function loadConfig<S extends z.ZodObject<z.ZodRawShape>>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
  opts: { checks?: readonly CrossFieldCheck[] } = {},
): Readonly<z.infer<S>> {
  const keys = Object.keys(schema.shape);
  const input = normalise(env, keys);
  const issues: string[] = [];

  const result = schema.safeParse(input, {
    error: (iss) => (iss.input === undefined && iss.code === 'invalid_type' ? 'is required' : undefined),
  });
  if (!result.success) {
    for (const iss of result.error.issues) {
      const name = iss.path.length > 0 ? iss.path.map(String).join('.') : '(environment)';
      issues.push(`${name}: ${iss.message}`);
    }
  }
  for (const check of [...crossFieldChecks, ...(opts.checks ?? [])]) {
    if (check.keys.every((k) => keys.includes(k))) issues.push(...check.check(input));
  }
  if (issues.length > 0 || !result.success) {
    throw new ConfigError(issues.length > 0 ? issues : ['(environment): invalid'], { cause: result.error });
  }
  return deepFreeze(result.data) as Readonly<z.infer<S>>;
}

export interface ConfigOrExitOptions {
  env?: Record<string, string | undefined>;
  /** Prefix of the printed lines; defaults to "smshub". */
  service?: string;
  checks?: readonly CrossFieldCheck[];
  /** For tests; default process.exit. */
  exit?: (code: number) => void;
  /** For tests; default writes to process.stderr. */
  write?: (line: string) => void;
}

/**
 * loadConfig for a service's main: on ConfigError prints `<service>: invalid configuration: VAR: reason`
 * (one line per issue) to stderr and exits with 78 (EX_CONFIG). Other errors propagate.
 */
export function configOrExit<S extends z.ZodObject<z.ZodRawShape>>(
  schema: S,
  opts: ConfigOrExitOptions = {},
): Readonly<z.infer<S>> {
  try {
    return loadConfig(schema, opts.env ?? process.env, { checks: opts.checks ?? [] });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const service = opts.service ?? 'smshub';
    const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
    for (const issue of err.issues) write(`${service}: invalid configuration: ${issue}`);
    (opts.exit ?? process.exit)(EX_CONFIG);
    throw err; // only reached when a test replaces exit
  }
}
