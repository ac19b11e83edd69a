import { parseArgs } from 'node:util';
import { CommandStatus } from '@smshub/smpp';
import {
  compilePlan,
  type FakeReceipts,
  type LateDelivery,
  type Range,
  type SimulatedStat,
  type SimulatorOptions,
} from '@smshub/smsc-simulator';

/**
 * What the process runs: one simulator per entry. Built from, in increasing precedence, the JSON config
 * file (SIM_CONFIG_FILE or --config), the environment (SIM_SMPP_PORT, SIM_SYSTEM_ID, SIM_PASSWORD) and the
 * command-line flags. Pure: the caller reads the file and passes its text.
 */
export interface SimulatorSpec {
  name: string;
  port: number;
  host: string;
  options: SimulatorOptions;
  /** TLS certificate/key files to read (when the config names files rather than PEM text). */
  tlsFiles?: { certFile: string; keyFile: string };
}

export const DEFAULT_PORT = 2776;

export const USAGE = `usage: smsc-simulator [options]
  --config FILE            JSON: SimulatorOptions (+ port, host, name) or {"simulators": [ ... ]}
  --port N                 SMPP port (default SIM_SMPP_PORT or 2776; single simulator only)
  --host H                 listen address (default 127.0.0.1; 0.0.0.0 for every interface)
  --system-id ID           accept only this system_id (default SIM_SYSTEM_ID; any when unset)
  --password PW            accept only this password (default SIM_PASSWORD; any when unset)
  --tps N                  submit_sm/s cap across sessions, beyond it ESME_RTHROTTLED (0 = none)
  --latency MS|MIN-MAX     delay before submit_sm_resp
  --error-rate S=P,...     e.g. ESME_RMSGQFUL=0.01,0x45=0.02 (status name, hex or decimal)
  --receipt-mix M          e.g. DELIVRD=90,UNDELIV=10 (weights of DELIVRD, UNDELIV, EXPIRED, REJECTD)
  --receipt-delay MS|MIN-MAX
  --id-style hex|decimal   id in the receipt text (submit_sm_resp is always hex)
  --pad N                  zero-pad ids to N characters
  --text-variant V         standard|seconds|capitalText|noText
  --carrier C              text|tlv|both
  --intermediate           send ENROUTE before the final receipt
  --disconnect-every N     drop a random session every N submit_sm
  --window N               per-session window (default 100)
  --seed N                 PRNG seed
  --tls-cert FILE --tls-key FILE   listen with TLS
  --keep-received N        accepted submits kept in memory (default 1000)
  --handsets N,N           probe numbers whose handset confirms each real delivery with an MO
  --fake-receipts S[/P,P]  fake-DLR grey route: DELIVRD without delivery for share S (0..1) of messages
                           (to prefixes P when given), e.g. 1 or 0.5/4477,4478
  --late-delivery D[/S[/P,P]]  handset gets the message D ms (MS|MIN-MAX) after the receipt, for share S`;

export type Flags = ReturnType<typeof parseFlags>;

export function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'system-id': { type: 'string' },
      password: { type: 'string' },
      tps: { type: 'string' },
      latency: { type: 'string' },
      'error-rate': { type: 'string' },
      'receipt-mix': { type: 'string' },
      'receipt-delay': { type: 'string' },
      'id-style': { type: 'string' },
      pad: { type: 'string' },
      'text-variant': { type: 'string' },
      carrier: { type: 'string' },
      intermediate: { type: 'boolean' },
      'disconnect-every': { type: 'string' },
      window: { type: 'string' },
      seed: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'keep-received': { type: 'string' },
      handsets: { type: 'string' },
      'fake-receipts': { type: 'string' },
      'late-delivery': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

export interface SimEnv {
  SIM_SMPP_PORT?: number | undefined;
  SIM_SYSTEM_ID?: string | undefined;
  SIM_PASSWORD?: string | undefined;
  SIM_HOST?: string | undefined;
}

function fail(msg: string): never {
  throw new ConfigProblem(msg);
}

export class ConfigProblem extends Error {}

function int(name: string, v: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || n < min || n > max) fail(`${name}: "${v}" is not an integer ${min}..${max}`);
  return n;
}

/** "20" -> 20; "10-50" -> { min: 10, max: 50 }. */
export function parseRange(name: string, v: string): Range {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/.exec(v);
  if (!m) fail(`${name}: "${v}" is not MS or MIN-MAX`);
  return m[2] === undefined ? Number(m[1]) : { min: Number(m[1]), max: Number(m[2]) };
}

/** A command_status given as a name (ESME_RTHROTTLED), hex (0x58) or decimal (88). */
export function parseStatus(v: string): number {
  const t = v.trim();
  const named = (CommandStatus as Record<string, number>)[t.toUpperCase()];
  if (named !== undefined) return named;
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (/^\d+$/.test(t)) return Number(t);
  return fail(`unknown command_status "${v}"`);
}

function pairs(name: string, v: string): Array<[string, number]> {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((item) => {
      const [k, val] = item.split('=');
      const n = Number(val);
      if (!k || val === undefined || !Number.isFinite(n))
        fail(`${name}: bad item "${item}" (expected KEY=NUMBER)`);
      return [k.trim(), n];
    });
}

export function parseErrorRates(v: string): Record<number, number> {
  return Object.fromEntries(pairs('--error-rate', v).map(([k, n]) => [parseStatus(k), n]));
}

export function parseReceiptMix(v: string): Partial<Record<SimulatedStat, number>> {
  return Object.fromEntries(pairs('--receipt-mix', v).map(([k, n]) => [k.toUpperCase(), n]));
}

function share(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) fail(`${name}: share "${v}" is not 0..1`);
  return n;
}

function prefixList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** "1" / "0.5/4477,4478" -> FakeReceipts. */
export function parseFakeReceipts(v: string): FakeReceipts {
  const [s, p] = v.split('/');
  const prefixes = prefixList(p);
  return { share: share('--fake-receipts', s ?? ''), ...(prefixes ? { prefixes } : {}) };
}

/** "30000" / "20000-40000/0.5/4477" -> LateDelivery. */
export function parseLateDelivery(v: string): LateDelivery {
  const [d, s, p] = v.split('/');
  const prefixes = prefixList(p);
  return {
    delayMs: parseRange('--late-delivery', d ?? ''),
    ...(s !== undefined ? { share: share('--late-delivery', s) } : {}),
    ...(prefixes ? { prefixes } : {}),
  };
}

type FileEntry = Omit<SimulatorOptions, 'errorRates' | 'tls'> & {
  name?: string;
  port?: number;
  host?: string;
  tls?: { cert?: string; key?: string; certFile?: string; keyFile?: string };
  errorRates?: Record<string, number>;
};

function entryFromJson(raw: unknown, where: string): FileEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where}: must be an object`);
  const e = { ...(raw as FileEntry) };
  if (e.errorRates) {
    // JSON keys are strings: accept status names and hex as well as decimal.
    e.errorRates = Object.fromEntries(Object.entries(e.errorRates).map(([k, p]) => [parseStatus(k), p]));
  }
  if (e.port !== undefined && (!Number.isInteger(e.port) || e.port < 0 || e.port > 65535))
    fail(`${where}.port must be an integer 0..65535`);
  return e;
}

/** Config file text -> entries (one, or the "simulators" list). */
export function parseConfigFile(text: string, file = 'config'): FileEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`${file}: not JSON: ${(e as Error).message}`);
  }
  if (json !== null && typeof json === 'object' && 'simulators' in json) {
    const list = (json as { simulators: unknown }).simulators;
    if (!Array.isArray(list) || list.length === 0) fail(`${file}: "simulators" must be a non-empty list`);
    return list.map((x, i) => entryFromJson(x, `${file}: simulators[${i}]`));
  }
  return [entryFromJson(json, file)];
}

/** Merge file entries, environment and flags into what to run. Throws ConfigProblem on any bad value. */
export function buildSpecs(entries: FileEntry[], env: SimEnv, flags: Flags): SimulatorSpec[] {
  const list = entries.length > 0 ? entries : [{}];
  if (list.length > 1 && flags.port !== undefined)
    fail('--port applies to a single simulator; give each entry its port');
  const specs = list.map((entry, i): SimulatorSpec => {
    const { name, port, host, tls, ...rest } = entry;
    const options: SimulatorOptions = { keepReceived: 1000, ...rest };
    // Environment over the file, flags over both.
    if (env.SIM_SYSTEM_ID !== undefined && entry.systemId === undefined) options.systemId = env.SIM_SYSTEM_ID;
    if (env.SIM_PASSWORD !== undefined && entry.password === undefined) options.password = env.SIM_PASSWORD;
    const f = flags;
    if (f['system-id'] !== undefined) options.systemId = f['system-id'];
    if (f.password !== undefined) options.password = f.password;
    if (f.tps !== undefined) options.tpsCap = int('--tps', f.tps);
    if (f.latency !== undefined) options.acceptLatencyMs = parseRange('--latency', f.latency);
    if (f['error-rate'] !== undefined) options.errorRates = parseErrorRates(f['error-rate']);
    if (f['disconnect-every'] !== undefined)
      options.disconnectEvery = int('--disconnect-every', f['disconnect-every']);
    if (f.window !== undefined) options.window = int('--window', f.window, 1, 100_000);
    if (f.seed !== undefined) options.seed = int('--seed', f.seed, 0, 0xffffffff);
    if (f['keep-received'] !== undefined) options.keepReceived = int('--keep-received', f['keep-received']);
    if (f.handsets !== undefined)
      options.handsets = { ...(options.handsets ?? {}), numbers: prefixList(f.handsets) ?? [] };
    if (f['fake-receipts'] !== undefined) options.fakeReceipts = parseFakeReceipts(f['fake-receipts']);
    if (f['late-delivery'] !== undefined) options.lateDelivery = parseLateDelivery(f['late-delivery']);
    const r = { ...(options.receipts ?? {}) };
    if (f['receipt-mix'] !== undefined) r.mix = parseReceiptMix(f['receipt-mix']);
    if (f['receipt-delay'] !== undefined) r.delayMs = parseRange('--receipt-delay', f['receipt-delay']);
    if (f['id-style'] !== undefined) r.idStyle = f['id-style'] as 'hex' | 'decimal';
    if (f.pad !== undefined) r.pad = int('--pad', f.pad, 0, 64);
    if (f['text-variant'] !== undefined) r.textVariant = f['text-variant'] as 'standard';
    if (f.carrier !== undefined) r.carrier = f.carrier as 'both';
    if (f.intermediate !== undefined) r.intermediate = f.intermediate;
    options.receipts = r;
    try {
      compilePlan(options);
    } catch (e) {
      fail(`simulator ${name ?? i}: ${(e as Error).message}`);
    }
    const resolvedPort =
      list.length === 1
        ? f.port !== undefined
          ? int('--port', f.port, 0, 65535)
          : (port ?? env.SIM_SMPP_PORT ?? DEFAULT_PORT)
        : (port ?? DEFAULT_PORT + i);
    const spec: SimulatorSpec = {
      name: name ?? `sim-${resolvedPort}`,
      port: resolvedPort,
      host: f.host ?? host ?? env.SIM_HOST ?? '127.0.0.1',
      options,
    };
    const certFile = f['tls-cert'] ?? tls?.certFile;
    const keyFile = f['tls-key'] ?? tls?.keyFile;
    if (certFile !== undefined || keyFile !== undefined) {
      if (certFile === undefined || keyFile === undefined)
        fail('TLS needs both a certificate and a key file');
      spec.tlsFiles = { certFile, keyFile };
    } else if (tls?.cert !== undefined && tls.key !== undefined) {
      spec.options.tls = { cert: tls.cert, key: tls.key };
    }
    return spec;
  });
  const ports = specs.map((s) => s.port).filter((p) => p !== 0);
  if (new Set(ports).size !== ports.length) fail('two simulators share a port');
  const names = specs.map((s) => s.name);
  if (new Set(names).size !== names.length) fail('two simulators share a name');
  return specs;
}
