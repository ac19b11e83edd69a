// The SMSC simulator as a process: one or more simulated downstream SMSCs, configured by environment,
// a JSON file and flags (see README.md), with /livez, /readyz and /metrics and a graceful shutdown.
import { readFileSync } from 'node:fs';
import { configOrExit, envInt, envString, httpEnv, logEnv, z, EX_CONFIG } from '@smshub/config';
import { createLifecycle, fatal } from '@smshub/lifecycle';
import { createLogger } from '@smshub/logging';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { enableDefaultMetrics } from '@smshub/telemetry';
import { ConfigProblem, USAGE, buildSpecs, parseConfigFile, parseFlags, type Flags } from './config.js';
import { startControl } from './control.js';
import { simulatorMetrics } from './metrics.js';

const SERVICE = 'smsc-simulator';

const config = configOrExit(
  z.object({
    ...httpEnv,
    ...logEnv,
    SIM_SMPP_PORT: envInt({ min: 0, max: 65535 }).optional(),
    SIM_HOST: envString().optional(),
    SIM_SYSTEM_ID: envString().optional(),
    SIM_PASSWORD: envString().optional(),
    SIM_CONFIG_FILE: envString().optional(),
    /** Control endpoint (POST /mo: originate an MO; POST /behaviour: change a simulator at runtime; control.ts) on 127.0.0.1; unset = none. */
    SIM_CONTROL_PORT: envInt({ min: 0, max: 65535 }).optional(),
    /** Seconds between counter log lines (0 = never). */
    SIM_LOG_EVERY_S: envInt({ min: 0, max: 86_400, default: 10 }),
  }),
  { service: SERVICE },
);

function configError(message: string): never {
  process.stderr.write(`${SERVICE}: invalid configuration: ${message}\n`);
  process.exit(EX_CONFIG);
}

let flags: Flags;
try {
  flags = parseFlags(process.argv.slice(2));
} catch (e) {
  configError(`${(e as Error).message}\n${USAGE}`);
}
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const logger = createLogger({
  service: SERVICE,
  level: config.LOG_LEVEL,
  debugNumbers: config.LOG_DEBUG_NUMBERS,
});

const configFile = flags.config ?? config.SIM_CONFIG_FILE;
let specs;
try {
  const entries = configFile ? parseConfigFile(readFileSync(configFile, 'utf8'), configFile) : [];
  specs = buildSpecs(entries, config, flags);
  for (const s of specs) {
    if (s.tlsFiles)
      s.options.tls = { cert: readFileSync(s.tlsFiles.certFile), key: readFileSync(s.tlsFiles.keyFile) };
  }
} catch (e) {
  configError(e instanceof ConfigProblem ? e.message : `${configFile ?? ''}: ${(e as Error).message}`);
}

enableDefaultMetrics();
const lifecycle = createLifecycle({
  service: SERVICE,
  logger,
  httpPort: config.HTTP_PORT,
  host: config.HTTP_HOST,
  graceMs: 10_000,
});
lifecycle.trapSignals();

const running: Array<{ name: string; sim: Simulator; sync(): void }> = [];
const timers: NodeJS.Timeout[] = [];
lifecycle.onShutdown('simulators', async () => {
  for (const t of timers) clearInterval(t);
  await Promise.all(running.map((r) => r.sim.close()));
  for (const r of running) {
    r.sync();
    logger.info({ simulator: r.name, ...r.sim.counters }, 'simulator stopped');
  }
});

try {
  await lifecycle.start();
  for (const spec of specs) {
    const sim = createSimulator({ ...spec.options, logger: logger.child({ simulator: spec.name }) });
    const { port } = await sim.listen(spec.port, spec.host);
    running.push({ name: spec.name, sim, ...simulatorMetrics(spec.name, sim) });
    logger.info(
      {
        simulator: spec.name,
        host: spec.host,
        port,
        tls: spec.options.tls !== undefined,
        systemId: spec.options.systemId ?? '(any)',
        tpsCap: spec.options.tpsCap ?? 0,
        receipts: spec.options.receipts,
        errorRates: spec.options.errorRates ?? {},
      },
      'simulator listening',
    );
  }
  if (config.SIM_CONTROL_PORT !== undefined) {
    const control = await startControl(running, config.SIM_CONTROL_PORT);
    lifecycle.onShutdown(
      'control',
      () => new Promise<void>((resolve) => control.server.close(() => resolve())),
    );
    logger.info({ port: control.port }, 'control endpoint listening (POST /mo, POST /behaviour)');
  }
} catch (e) {
  fatal(logger, e, 'simulator failed to start');
}

timers.push(setInterval(() => running.forEach((r) => r.sync()), 1000));
if (config.SIM_LOG_EVERY_S > 0) {
  const last = new Map<string, number>();
  timers.push(
    setInterval(() => {
      for (const r of running) {
        const c = r.sim.counters;
        const rate = (c.submits - (last.get(r.name) ?? 0)) / config.SIM_LOG_EVERY_S;
        last.set(r.name, c.submits);
        logger.info(
          {
            simulator: r.name,
            submitsPerSecond: Math.round(rate),
            boundSessions: r.sim.boundSessions,
            pendingReceipts: r.sim.pendingReceipts,
            ...c,
          },
          'simulator counters',
        );
      }
    }, config.SIM_LOG_EVERY_S * 1000),
  );
}
for (const t of timers) t.unref();
lifecycle.setReady(true);
