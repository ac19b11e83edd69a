// The whole hub as real processes, for the end-to-end tests, the benchmark and the chaos harness: every
// services/*/src/main.ts plus the SMSC simulator, on free ports, under one KAFKA_NAMESPACE and one database,
// with the demo configuration seeded by `ops setup` and `ops demo`. Each process can be killed and restarted
// on its own; every line a process prints goes to <logDir>/<name>.log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this module holding services/ and libs/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'services')) && existsSync(path.join(dir, 'libs'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Whether nothing holds `port` on `host` right now (bound and released at once). */
function portIsFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The first port of the kernel's ephemeral range (outgoing connections take their local ports from it). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

// Ports handed out and not yet released. A port is free until the process it was picked for binds it, which
// may be seconds later (a tsx start): without a reservation, the next freePort() in this process, or in the
// other test worker, could pick it again (a hub takes 26 ports out of ~22,000: a collision in ~3 % of pairs
// of hubs). Reserved in this process by the set, across processes by a lock file per port holding the
// owner's pid; a lock whose owner has exited is taken over. Two processes taking over the same stale lock
// at the same instant could both hold it; startHub's retry on EADDRINUSE covers that and any port taken by
// a process that does not reserve.
const reservedHere = new Set<number>();
const lockDir = path.join(os.tmpdir(), `smshub-ports-${process.getuid?.() ?? 'user'}`);

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the reservation of `port` for this process; false if this or another live process holds it. */
function reservePort(port: number): boolean {
  if (reservedHere.has(port)) return false;
  const file = path.join(lockDir, String(port));
  try {
    // EEXIST here is the folder's name taken by a file (anyone may create one in /tmp), not a lock held.
    mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  } catch {
    // No usable lock folder: this process's set alone.
    reservedHere.add(port);
    return true;
  }
  try {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (pidAlive(Number(readFileSync(file, 'utf8')))) return false;
      rmSync(file, { force: true });
      writeFileSync(file, String(process.pid), { flag: 'wx' });
    }
  } catch (err) {
    // Another process took the stale lock first: not ours.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // No usable lock folder (another user's folder of this name, a read-only tmp): this process's set alone.
  }
  reservedHere.add(port);
  return true;
}

/** Gives back ports taken by freePort(), so that this or another process may hand them out again. */
export function releasePorts(ports: Iterable<number>): void {
  for (const port of ports) {
    if (!reservedHere.delete(port)) continue;
    const file = path.join(lockDir, String(port));
    try {
      if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
    } catch {
      // no lock file: nothing to give back
    }
  }
}

/**
 * A TCP port nobody listens on right now, chosen below the ephemeral range and reserved for the caller
 * (see releasePorts). A port from listen(0) comes from that range, so between the check and the process's
 * own listen() any outgoing connection (Kafka, Postgres clients in the same test run) can take it as its
 * local port, and the process then fails with EADDRINUSE; ports below the range are never handed out that way.
 */
export async function freePort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!reservePort(port)) continue;
    if ((await portIsFree(port, '127.0.0.1')) && (await portIsFree(port))) return port;
    releasePorts([port]);
  }
  throw new Error(`no free TCP port found between ${low} and ${high}`);
}

/** The last lines of a process's log, for an error message (CI keeps no temp files). */
function logTail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface HubOptions {
  kafkaBrokers: string;
  databaseUrl: string;
  /** KAFKA_NAMESPACE of every process; default a unique one. */
  namespace?: string;
  /** Services to run (folder names under services/); default every one with a src/main.ts. */
  services?: string[];
  /** Run the SMSC simulator (with the config `ops demo --sim-config` writes); default true. */
  simulator?: boolean;
  /** DEMO_PROFILE for `ops demo` ('demo' or 'bench'); default 'demo'. */
  demoProfile?: 'demo' | 'bench';
  /** Extra environment for every process (LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT, tuning variables). */
  env?: Record<string, string>;
  /** Extra environment per process name. */
  envFor?: Record<string, Record<string, string>>;
  /** Run esbuild bundles (<package>/dist/main.js, `npm run build`) instead of the TypeScript sources. */
  bundles?: boolean;
  /** Folder for logs and generated files; default a new folder under the OS temp dir. */
  workDir?: string;
  /** How long to wait for each process's /readyz; default 90 s. */
  readyTimeoutMs?: number;
  /**
   * Where each port comes from, by its HubPorts key ('admin', 'http:ingress'); default freePort(). For the
   * harness's own test of its retry on a taken port.
   */
  portSource?: (label: string) => Promise<number>;
}

export interface HubPorts {
  smpp: number;
  smppTls: number;
  admin: number;
  messages: number;
  settlement: number;
  simGood: number;
  simPoor: number;
  /** The webhooks service's gRPC API (WebhookService). */
  webhooks: number;
  /** The stats service's gRPC API (StatsService). */
  stats: number;
  /** The customer HTTP API (http-api). */
  httpApi: number;
  /** The SMSC simulator's control endpoint (POST /mo; `ops mo` finds it through SIM_CONTROL_PORT). */
  simControl: number;
  /** The operations console (web application and its JSON API). */
  console: number;
  /** The scheduler's gRPC API (SchedulerService: held messages). */
  scheduler: number;
  /** The routing replica's gRPC API (RoutingService: dry runs, learnt estimates). */
  routing: number;
  /** HTTP (/livez, /readyz, /metrics) port per process name. */
  http: Record<string, number>;
}

export interface HubSecrets {
  adminToken: string;
  demoSystemId: string;
  demoPassword: string;
  connectorSecretKey: string;
  /** Seals the accounts' webhook signing secrets (WEBHOOK_SECRET_KEY). */
  webhookSecretKey: string;
}

/** One process of the hub. */
export class HubProcess {
  child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** Exits the harness did not ask for (a crash), with their code or signal. */
  readonly unexpectedExits: string[] = [];
  private expectingExit = false;
  /** The log's length when the process was last started: what it printed since is after it. */
  private logStart = 0;

  constructor(
    readonly name: string,
    private readonly argv: string[],
    private readonly env: NodeJS.ProcessEnv,
    readonly httpPort: number,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.logStart = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, this.argv, {
      cwd: repoRoot(),
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.expectingExit = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.expectingExit) this.unexpectedExits.push(String(signal ?? code));
        log.end();
        resolve();
      }),
    );
    this.child = child;
  }

  /**
   * What the process printed since its last start (the log file is appended to: a restart's, or an earlier
   * startHub attempt's, lines come before).
   */
  logSinceStart(): string {
    try {
      return readFileSync(this.logFile).subarray(this.logStart).toString('utf8');
    } catch {
      return '';
    }
  }

  /** Resolves when GET /readyz answers 200; rejects (naming the log) if the process exits or time runs out. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        await this.exited;
        throw new Error(
          `${this.name} exited (${this.child?.signalCode ?? this.child?.exitCode}) before it was ready: ` +
            `see ${this.logFile}\n${logTail(this.logFile)}`,
        );
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.httpPort}/readyz`, {
          signal: AbortSignal.timeout(1000),
        });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `${this.name} not ready within ${timeoutMs} ms: see ${this.logFile}\n${logTail(this.logFile)}`,
    );
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still running. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.expectingExit = true;
    this.child?.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9, as a crash would. */
  kill(): Promise<void> {
    return this.stop('SIGKILL', 0);
  }

  async restart(timeoutMs?: number): Promise<void> {
    await this.stop();
    this.start();
    await this.waitReady(timeoutMs);
  }
}

export interface Hub {
  namespace: string;
  databaseUrl: string;
  kafkaBrokers: string;
  ports: HubPorts;
  secrets: HubSecrets;
  workDir: string;
  processes: Map<string, HubProcess>;
  /** A process by name; throws for an unknown one. */
  process(name: string): HubProcess;
  /** Runs `tools/ops/src/main.ts <args>` with the hub's environment; rejects with its output on failure. */
  ops(args: string[]): string;
  /**
   * The same, without blocking: the test's own event loop goes on (its SMPP binds answer, its readers
   * read) while the command runs. Use it once the hub runs; `ops` blocked a test for the whole run of a
   * tsx process, tens of seconds on a busy machine.
   */
  opsAsync(args: string[]): Promise<string>;
  /** Every process exit the harness did not ask for. */
  crashes(): string[];
  /** Stops every process (SIGTERM, then SIGKILL after the grace period). */
  stop(): Promise<void>;
}

/** How a tool or service is started: its sources through tsx, or its esbuild bundle. */
export function entryArgs(root: string, dir: string, bundles: boolean): string[] {
  if (bundles) return ['--enable-source-maps', path.join(root, dir, 'dist/main.js')];
  return ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, dir, 'src/main.ts')];
}

/** A hub process could not bind a port another process took after the harness picked it. */
export class HubPortTakenError extends Error {
  override readonly name = 'HubPortTakenError';
}

const NAMED_PORTS = [
  'smpp',
  'smppTls',
  'admin',
  'messages',
  'settlement',
  'simGood',
  'simPoor',
  'webhooks',
  'stats',
  'httpApi',
  'scheduler',
  'routing',
  'simControl',
  'console',
] as const satisfies readonly Exclude<keyof HubPorts, 'http'>[];

/** How many times startHub starts the processes when one of them finds its port taken. */
const START_ATTEMPTS = 3;

/**
 * The hub's ports: every one fresh, or, after an attempt that found a port taken, the previous ones that
 * are free again (the hub's own processes have exited) with fresh ones for the rest. The simulators' ports
 * are kept: `ops demo` stored them in the connectors.
 */
async function hubPorts(
  names: string[],
  source: (label: string) => Promise<number>,
  previous?: HubPorts,
): Promise<HubPorts> {
  const pick = async (label: string, old: number | undefined): Promise<number> => {
    if (old !== undefined && (await portIsFree(old, '127.0.0.1')) && (await portIsFree(old))) return old;
    if (old !== undefined && (label === 'simGood' || label === 'simPoor'))
      throw new HubPortTakenError(
        `the simulator's port ${old} (${label}) was taken by another process; the demo connectors name it`,
      );
    if (old !== undefined) releasePorts([old]);
    return source(label);
  };
  const named: Partial<Record<(typeof NAMED_PORTS)[number], number>> = {};
  for (const key of NAMED_PORTS) named[key] = await pick(key, previous?.[key]);
  const http: Record<string, number> = {};
  for (const name of names) http[name] = await pick(`http:${name}`, previous?.http[name]);
  return { ...(named as Omit<HubPorts, 'http'>), http };
}

function allPorts(ports: HubPorts): number[] {
  return [...NAMED_PORTS.map((key) => ports[key]), ...Object.values(ports.http)];
}

/**
 * Starts the hub: `ops setup` and `ops demo` (migrations, namespaced topics, the demo configuration and the
 * simulator's config file), then the simulator and every service, and waits until all are ready.
 * On failure everything started is stopped before the error is thrown. A process that exits before it is
 * ready because a port it was given is now taken (EADDRINUSE: the port was free when picked, and another
 * process bound it in between) is not a failure of the hub: the processes are started again with fresh
 * ports for the taken ones, up to START_ATTEMPTS times.
 */
export async function startHub(opts: HubOptions): Promise<Hub> {
  const root = repoRoot();
  const namespace = opts.namespace ?? `hub-${randomBytes(4).toString('hex')}`;
  const workDir = opts.workDir ?? path.join(os.tmpdir(), `smshub-${namespace}`);
  mkdirSync(workDir, { recursive: true });
  const services =
    opts.services ??
    readdirSync(path.join(root, 'services')).filter((s) =>
      existsSync(path.join(root, 'services', s, 'src/main.ts')),
    );
  const names = [...((opts.simulator ?? true) ? ['smsc-simulator'] : []), ...services];
  // The same secrets in every attempt: `ops demo` stored the demo account's password hash.
  const secrets: HubSecrets = {
    adminToken: randomBytes(24).toString('base64url'),
    demoSystemId: 'demo',
    demoPassword: randomBytes(6).toString('base64url'), // 8 characters: SMPP 3.4's password limit
    connectorSecretKey: randomBytes(32).toString('base64'),
    webhookSecretKey: randomBytes(32).toString('base64'),
  };
  let ports: HubPorts | undefined;
  for (let attempt = 1; ; attempt++) {
    ports = await hubPorts(names, opts.portSource ?? (() => freePort()), ports);
    try {
      return await startHubOnce(opts, { root, namespace, workDir, services, secrets, ports });
    } catch (err) {
      if (!(err instanceof HubPortTakenError) || attempt >= START_ATTEMPTS) {
        releasePorts(allPorts(ports));
        throw err;
      }
      appendFileSync(
        path.join(workDir, 'harness.log'),
        `attempt ${attempt}: ${err.message.split('\n')[0]}; starting again with fresh ports for the taken ones\n`,
      );
    }
  }
}

interface HubPlan {
  root: string;
  namespace: string;
  workDir: string;
  services: string[];
  secrets: HubSecrets;
  ports: HubPorts;
}

async function startHubOnce(opts: HubOptions, plan: HubPlan): Promise<Hub> {
  const { root, namespace, workDir, services, secrets, ports } = plan;
  const bundles = opts.bundles ?? false;
  const withSimulator = opts.simulator ?? true;

  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: opts.kafkaBrokers,
    DATABASE_URL: opts.databaseUrl,
    KAFKA_NAMESPACE: namespace,
    LOG_LEVEL: 'info',
    CONNECTOR_SECRET_KEY: secrets.connectorSecretKey,
    WEBHOOK_SECRET_KEY: secrets.webhookSecretKey,
    ADMIN_TOKEN: secrets.adminToken,
    DEMO_SMPP_PASSWORD: secrets.demoPassword,
    DEMO_SIM_GOOD_PORT: String(ports.simGood),
    DEMO_SIM_POOR_PORT: String(ports.simPoor),
    SIM_CONTROL_PORT: String(ports.simControl),
    DEMO_PROFILE: opts.demoProfile ?? 'demo',
    ...opts.env,
  };
  // The hub's own processes must not inherit a developer's tracing endpoint unless asked to.
  if (!opts.env?.OTEL_EXPORTER_OTLP_ENDPOINT) delete baseEnv.OTEL_EXPORTER_OTLP_ENDPOINT;

  const simConfig = path.join(workDir, 'simulators.json');
  const ops = (args: string[]): string => {
    const r = spawnSync(process.execPath, [...entryArgs(root, 'tools/ops', bundles), ...args], {
      cwd: root,
      env: baseEnv,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0)
      throw new Error(`ops ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const opsAsync = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...entryArgs(root, 'tools/ops', bundles), ...args], {
        cwd: root,
        env: baseEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`ops ${args.join(' ')} failed (${code ?? signal}):\n${stdout}\n${stderr}`));
      });
    });
  ops(['setup']);
  ops(['demo', '--sim-config', simConfig]);

  const grpcPort: Record<string, number> = {
    admin: ports.admin,
    dlr: ports.messages,
    rating: ports.settlement,
    webhooks: ports.webhooks,
    scheduler: ports.scheduler,
    stats: ports.stats,
    // RoutingService (dry runs): a free port, not the fixed default, so hubs started side by side do not collide.
    routing: ports.routing,
  };
  const processes = new Map<string, HubProcess>();
  const names = [...(withSimulator ? ['smsc-simulator'] : []), ...services];
  for (const name of names) {
    const http = ports.http[name]!;
    const dir = name === 'smsc-simulator' ? 'tools/smsc-simulator' : `services/${name}`;
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      HTTP_PORT: String(http),
      ...(name === 'ingress'
        ? {
            SMPP_PORT: String(ports.smpp),
            SMPP_TLS_PORT: String(ports.smppTls),
            SCHEDULER_GRPC_ADDRESS: `127.0.0.1:${ports.scheduler}`,
          }
        : {}),
      ...(grpcPort[name] !== undefined ? { GRPC_PORT: String(grpcPort[name]) } : {}),
      ...(name === 'smsc-simulator' ? { SIM_CONFIG_FILE: simConfig } : {}),
      ...(name === 'http-api'
        ? { HTTP_API_PORT: String(ports.httpApi), DLR_GRPC_ADDRESS: `127.0.0.1:${ports.messages}` }
        : {}),
      ...(name === 'console'
        ? {
            CONSOLE_PORT: String(ports.console),
            ADMIN_GRPC_ADDRESS: `127.0.0.1:${ports.admin}`,
            DLR_GRPC_ADDRESS: `127.0.0.1:${ports.messages}`,
            RATING_GRPC_ADDRESS: `127.0.0.1:${ports.settlement}`,
            STATS_GRPC_ADDRESS: `127.0.0.1:${ports.stats}`,
            ROUTING_GRPC_ADDRESS: `127.0.0.1:${ports.routing}`,
          }
        : {}),
      ...opts.envFor?.[name],
    };
    processes.set(
      name,
      new HubProcess(name, entryArgs(root, dir, bundles), env, http, path.join(workDir, `${name}.log`)),
    );
  }

  const hub: Hub = {
    namespace,
    databaseUrl: opts.databaseUrl,
    kafkaBrokers: opts.kafkaBrokers,
    ports,
    secrets,
    workDir,
    processes,
    process(name) {
      const p = processes.get(name);
      if (!p) throw new Error(`no hub process named ${name} (have ${[...processes.keys()].join(', ')})`);
      return p;
    },
    ops,
    opsAsync,
    crashes() {
      return [...processes.values()].flatMap((p) => p.unexpectedExits.map((e) => `${p.name}: ${e}`));
    },
    async stop() {
      await Promise.all([...processes.values()].map((p) => p.stop()));
      releasePorts(allPorts(ports));
    },
  };

  try {
    // The simulator first, so egress binds at once instead of backing off.
    if (withSimulator) {
      const sim = hub.process('smsc-simulator');
      sim.start();
      await sim.waitReady(opts.readyTimeoutMs);
    }
    for (const name of services) hub.process(name).start();
    await Promise.all(services.map((name) => hub.process(name).waitReady(opts.readyTimeoutMs)));
  } catch (err) {
    await Promise.all([...processes.values()].map((p) => p.stop()));
    const taken = [...processes.values()].find(
      // This attempt's lines only: an earlier attempt's EADDRINUSE is in the same (appended) log.
      (p) => p.unexpectedExits.length > 0 && /EADDRINUSE/.test(p.logSinceStart()),
    );
    if (taken)
      throw new HubPortTakenError(
        `${taken.name} found a port taken (EADDRINUSE)\n${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    throw err;
  }
  return hub;
}
