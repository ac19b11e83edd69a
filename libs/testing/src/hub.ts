// The whole hub as real processes, for the end-to-end tests, the benchmark and the chaos harness: every
// services/*/src/main.ts plus the SMSC simulator, on free ports, under one KAFKA_NAMESPACE and one database,
// with the demo configuration seeded by `ops setup` and `ops demo`. Each process can be killed and restarted
// on its own; every line a process prints goes to <logDir>/<name>.log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
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

/**
 * A TCP port nobody listens on right now, chosen below the ephemeral range. A port from listen(0) comes
 * from that range, so between the check and the process's own listen() any outgoing connection (Kafka,
 * Postgres clients in the same test run) can take it as its local port, and the process then fails with
 * EADDRINUSE; ports below the range are never handed out that way.
 */
export async function freePort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if ((await portIsFree(port, '127.0.0.1')) && (await portIsFree(port))) return port;
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

/**
 * Starts the hub: `ops setup` and `ops demo` (migrations, namespaced topics, the demo configuration and the
 * simulator's config file), then the simulator and every service, and waits until all are ready.
 * On failure everything started is stopped before the error is thrown.
 */
export async function startHub(opts: HubOptions): Promise<Hub> {
  const root = repoRoot();
  const namespace = opts.namespace ?? `hub-${randomBytes(4).toString('hex')}`;
  const workDir = opts.workDir ?? path.join(os.tmpdir(), `smshub-${namespace}`);
  mkdirSync(workDir, { recursive: true });
  const bundles = opts.bundles ?? false;
  const services =
    opts.services ??
    readdirSync(path.join(root, 'services')).filter((s) =>
      existsSync(path.join(root, 'services', s, 'src/main.ts')),
    );
  const withSimulator = opts.simulator ?? true;

  const ports: HubPorts = {
    smpp: await freePort(),
    smppTls: await freePort(),
    admin: await freePort(),
    messages: await freePort(),
    settlement: await freePort(),
    simGood: await freePort(),
    simPoor: await freePort(),
    webhooks: await freePort(),
    stats: await freePort(),
    httpApi: await freePort(),
    scheduler: await freePort(),
    routing: await freePort(),
    simControl: await freePort(),
    console: await freePort(),
    http: {},
  };
  const secrets: HubSecrets = {
    adminToken: randomBytes(24).toString('base64url'),
    demoSystemId: 'demo',
    demoPassword: randomBytes(6).toString('base64url'), // 8 characters: SMPP 3.4's password limit
    connectorSecretKey: randomBytes(32).toString('base64'),
    webhookSecretKey: randomBytes(32).toString('base64'),
  };
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
    const http = await freePort();
    ports.http[name] = http;
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
    await hub.stop();
    throw err;
  }
  return hub;
}
