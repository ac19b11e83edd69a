// `npm start`: the whole hub on this machine, from a fresh clone.
// Real Kafka and PostgreSQL (deploy/local, or KAFKA_BROKERS / DATABASE_URL when set), migrations and topics
// (tools/ops setup), the demo configuration (tools/ops demo, which also writes the SMSC simulator config),
// every service under services/ that has a src/main.ts, and the SMSC simulator. When every process answers
// /readyz it prints how to bind and send. Ctrl-C stops everything it started.
//
// Service logs go to .local/logs/<name>.log; warnings and errors are also shown here (`npm start -- --logs`
// shows every line). HUB_PORT_OFFSET=N moves every port of the hub up by N (a second hub on one machine);
// the offset is written to .local/hub.json while the hub runs, so `npm run hubctl|ops|send` follow it.
// HUB_SERVICES=admin,dlr starts only those processes. SMSHUB_LOCAL_DIR moves .local/ (state, secrets, logs).
//
// Nothing it starts outlives it, however it ends: SIGINT, SIGTERM and SIGHUP stop the hub; a closed stdout
// or stderr (`npm start | tee log`, then Ctrl-C kills tee first) is ignored; and a guardian process
// (guardian.mjs) stops the services and the infrastructure when this script dies without doing so.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ensureDependencies, localDir, readEnvFile, root, say } from './common.mjs';

// A reader that went away (`npm start | tee hub.log`, Ctrl-C: tee dies first) must not crash this script
// half-way through stopping the hub: write errors on stdout/stderr are ignored.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const t0 = performance.now();
let stopping = false;
let hubReady = false;
const showAllLogs = process.argv.includes('--logs');
const offset = Number(process.env.HUB_PORT_OFFSET ?? 0);
if (!Number.isInteger(offset) || offset < 0 || offset > 15_000) {
  say(`HUB_PORT_OFFSET must be an integer 0..15000, got "${process.env.HUB_PORT_OFFSET}"`);
  process.exit(64);
}
const ports = {
  smpp: 2775 + offset,
  smppTls: 3550 + offset,
  simGood: Number(process.env.DEMO_SIM_GOOD_PORT ?? 2776 + offset),
  simPoor: Number(process.env.DEMO_SIM_POOR_PORT ?? 2777 + offset),
  // The simulator's control endpoint (POST /mo: `npm run ops -- mo`).
  simControl: 2778 + offset,
  http: 9400 + offset,
  httpApi: 8080 + offset,
  console: 8090 + offset,
  grpc: {
    admin: 50051 + offset,
    dlr: 50052 + offset,
    rating: 50053 + offset,
    webhooks: 50054 + offset,
    stats: 50055 + offset,
    scheduler: 50056 + offset,
    routing: 50057 + offset,
  },
};

const onlyServices = process.env.HUB_SERVICES?.trim()
  ? process.env.HUB_SERVICES.split(',').map((s) => s.trim())
  : undefined;

ensureDependencies();
mkdirSync(path.join(localDir, 'logs'), { recursive: true });
const guardian = startGuardian();

// Only what this command starts is stopped at the end: a Kafka or PostgreSQL that was already running
// (another `npm start`, a developer's `npm run infra:up`) is left as it was.
function running(script) {
  return (
    spawnSync('bash', [path.join(root, 'deploy/local', script), 'status'], { cwd: root, stdio: 'ignore' })
      .status === 0
  );
}
const startedKafka = !process.env.KAFKA_BROKERS && !running('kafka.sh');
const startedPostgres = !process.env.DATABASE_URL && !running('postgres.sh');
tellGuardian({ infra: { kafka: startedKafka, postgres: startedPostgres } });

/** guardian.mjs in its own process group, reading what to clean up from a pipe that closes when we die. */
function startGuardian() {
  const log = openSync(path.join(localDir, 'logs/guardian.log'), 'a');
  const g = spawn(process.execPath, [path.join(root, 'tools/dev/guardian.mjs')], {
    cwd: root,
    stdio: ['pipe', 'ignore', log],
    detached: true,
  });
  closeSync(log);
  g.stdin.on('error', () => {});
  g.unref();
  g.stdin.unref?.();
  return g;
}
function tellGuardian(msg) {
  if (guardian.stdin.writable) guardian.stdin.write(`${JSON.stringify(msg)}\n`);
}

const up = spawnSync('bash', [path.join(root, 'deploy/local/up.sh')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (up.status !== 0) {
  say('could not bring up Kafka and PostgreSQL: see the messages above');
  stopInfra();
  tellGuardian({ done: true });
  process.exit(1);
}
const infra = readEnvFile(path.join(localDir, 'env'));
// KAFKA_BROKERS / DATABASE_URL given by the user win over the local infrastructure's addresses.
const env = {
  ...infra,
  ...process.env,
  ...devSecrets(),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  // The heap cap compose and Helm give each service (Node would size the heap from the host's memory).
  NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-old-space-size=192',
  // Local hub: a message's callback_url may point at `npm run webhook-listen` on 127.0.0.1.
  WEBHOOK_ALLOW_PRIVATE_CALLBACKS: process.env.WEBHOOK_ALLOW_PRIVATE_CALLBACKS ?? 'true',
  SMPP_PORT: String(ports.smpp),
  SMPP_TLS_PORT: String(ports.smppTls),
  DEMO_SIM_GOOD_PORT: String(ports.simGood),
  DEMO_SIM_POOR_PORT: String(ports.simPoor),
};

/**
 * Secrets of this local hub, made once per checkout under .local/ (never committed): the key egress uses
 * to encrypt connector passwords, a self-signed certificate for ingress's SMPP-over-TLS listener, the demo
 * account's SMPP password and the admin API token. Variables already set in the environment win.
 */
function devSecrets() {
  const dir = path.join(localDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const once = (name, make) => {
    const file = path.join(dir, name);
    if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
    return readFileSync(file, 'utf8').trim();
  };
  const keyFile = path.join(dir, 'connector-secret-key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  // SMPP 3.4 passwords are at most 8 characters; letters and digits only, so any client takes them.
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const demoPassword = once('demo-smpp-password', () =>
    Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join(''),
  );
  const adminToken = once('admin-token', () => randomBytes(24).toString('base64url'));
  // The webhooks service seals the accounts' webhook signing secrets with it.
  const webhookKey = once('webhook-secret-key', () => randomBytes(32).toString('base64'));
  const cert = path.join(dir, 'smpp-tls-cert.pem');
  const key = path.join(dir, 'smpp-tls-key.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '825',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    if (r.status !== 0) say('openssl could not make a TLS certificate: SMPP over TLS stays off');
  }
  const out = {
    CONNECTOR_SECRET_KEY: process.env.CONNECTOR_SECRET_KEY ?? readFileSync(keyFile, 'utf8').trim(),
    DEMO_SMPP_PASSWORD: process.env.DEMO_SMPP_PASSWORD ?? demoPassword,
    ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? adminToken,
    WEBHOOK_SECRET_KEY: process.env.WEBHOOK_SECRET_KEY ?? webhookKey,
  };
  if (existsSync(cert) && existsSync(key)) {
    out.SMPP_TLS_CERT_FILE = process.env.SMPP_TLS_CERT_FILE ?? cert;
    out.SMPP_TLS_KEY_FILE = process.env.SMPP_TLS_KEY_FILE ?? key;
  }
  return out;
}
/** A path as the user types it: relative to the checkout when inside it. */
function shown(p) {
  const r = path.relative(root, p);
  return r.startsWith('..') ? p : r;
}
const tsx = [process.execPath, '--conditions=@smshub/source', '--import', 'tsx'];

function runOps(...args) {
  const entry = path.join(root, 'tools/ops/src/main.ts');
  if (!existsSync(entry)) return true;
  // Only its warnings and errors unless --logs (the migrations it applied are in the database anyway).
  const r = spawnSync(tsx[0], [...tsx.slice(1), entry, ...args], {
    cwd: root,
    env: { ...env, LOG_LEVEL: showAllLogs ? env.LOG_LEVEL : 'warn' },
    stdio: 'inherit',
  });
  if (r.status === 0) say(`ops ${args[0]}: done`);
  return r.status === 0;
}

if (!runOps('setup')) {
  say('setup (migrations and topics) failed: see the messages above');
  stopInfra();
  tellGuardian({ done: true });
  process.exit(1);
}
// The simulator config holds the connector passwords: it lives with the other local secrets.
const simConfig = path.join(localDir, 'secrets/simulators.json');
const demoApiKeyFile = path.join(localDir, 'secrets/demo-api-key');
if (!runOps('demo', '--sim-config', simConfig, '--api-key-file', demoApiKeyFile, '--quiet')) {
  say('the demo configuration could not be seeded: see the messages above');
  stopInfra();
  tellGuardian({ done: true });
  process.exit(1);
}
const logDir = path.join(localDir, 'logs');
const logName = (name) => shown(path.join(logDir, `${name}.log`));

const children = [];
const processes = [
  ...readdirSync(path.join(root, 'services'))
    .filter((name) => existsSync(path.join(root, 'services', name, 'src/main.ts')))
    .map((name) => ({ name, entry: path.join(root, 'services', name, 'src/main.ts') })),
  ...['smsc-simulator']
    .filter((name) => existsSync(path.join(root, 'tools', name, 'src/main.ts')))
    .map((name) => ({ name, entry: path.join(root, 'tools', name, 'src/main.ts') })),
].filter((p) => !onlyServices || onlyServices.includes(p.name));
if (onlyServices) {
  const unknown = onlyServices.filter((n) => !processes.some((p) => p.name === n));
  if (unknown.length) {
    say(`HUB_SERVICES names no such process: ${unknown.join(', ')} (services/<name> or smsc-simulator)`);
    stopInfra();
    tellGuardian({ done: true });
    process.exit(64);
  }
}
// The console's web application (vite build), when missing or older than its sources.
if (processes.some((p) => p.name === 'console')) {
  const { buildWeb } = await import('../../services/console/scripts/build-web.mjs');
  if (!buildWeb({ quiet: !showAllLogs }))
    say('the console web application could not be built: its pages answer 503');
}
let port = ports.http;
for (const p of processes) {
  p.httpPort = port++;
  const own = { HTTP_PORT: String(p.httpPort) };
  if (ports.grpc[p.name] !== undefined) own.GRPC_PORT = String(ports.grpc[p.name]);
  if (p.name === 'smsc-simulator') {
    own.SIM_CONFIG_FILE = simConfig;
    own.SIM_CONTROL_PORT = String(ports.simControl);
  }
  // ingress and http-api get 288 MB, as in compose and Helm
  if ((p.name === 'ingress' || p.name === 'http-api') && process.env.NODE_OPTIONS === undefined)
    own.NODE_OPTIONS = '--max-old-space-size=288';
  // query_sm, cancel_sm and replace_sm of held messages go to the scheduler.
  if (p.name === 'ingress' && ports.grpc.scheduler !== undefined)
    own.SCHEDULER_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.scheduler}`;
  if (p.name === 'http-api') {
    own.HTTP_API_PORT = String(ports.httpApi);
    own.DLR_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.dlr}`;
  }
  if (p.name === 'console') {
    // The console calls the services with each signed-in user's token; it holds no credential itself.
    own.CONSOLE_PORT = String(ports.console);
    own.ADMIN_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.admin}`;
    own.DLR_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.dlr}`;
    own.RATING_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.rating}`;
    own.STATS_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.stats}`;
    own.ROUTING_GRPC_ADDRESS = `127.0.0.1:${ports.grpc.routing}`;
  }
  const childEnv = { ...env, ...own };
  // Not even in its environment: the console must work with its users' tokens only.
  if (p.name === 'console') delete childEnv.ADMIN_TOKEN;
  const child = spawn(tsx[0], [...tsx.slice(1), p.entry], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C reaches only this script, which drains every service with one SIGTERM.
    detached: true,
  });
  tellGuardian({ child: child.pid });
  const log = createWriteStream(path.join(logDir, `${p.name}.log`), { flags: 'a' });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      log.write(`${line}\n`);
      echo(p.name, line);
    });
  }
  child.on('exit', (code, signal) => {
    log.end();
    if (!stopping) {
      say(
        `${p.name} exited (${signal ?? `code ${code}`}) ${hubReady ? 'while the hub was running' : 'during start-up'}; its log: ${logName(p.name)}`,
      );
      say('stopping the hub');
      void stop(1);
    }
  });
  children.push({ ...p, child });
}

/** Warnings and errors of a service on the terminal (every line with --logs); plain text lines as they are. */
function echo(name, line) {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    process.stderr.write(`[${name}] ${line}\n`);
    return;
  }
  const level =
    typeof rec.level === 'number'
      ? rec.level
      : ({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }[rec.level] ?? 30);
  if (!showAllLogs && level < 40) return;
  // kafkajs logs a broker's error response at error level and then retries it itself (e.g. a topic's
  // metadata not yet everywhere right after setup); what really fails surfaces in the service's own lines.
  if (!showAllLogs && rec.component === 'kafkajs' && rec.namespace === 'Connection') return;
  if (showAllLogs) process.stderr.write(`[${name}] ${line}\n`);
  else {
    const label = { 40: 'warn', 50: 'error', 60: 'fatal' }[level] ?? 'warn';
    const err = rec.err?.message ? `: ${rec.err.message}` : '';
    process.stderr.write(`[${name}] ${label}: ${rec.msg ?? ''}${err}\n`);
  }
}

// Where this hub listens, for `npm run hubctl|ops|send` in another terminal (removed when it stops).
const hubFile = path.join(localDir, 'hub.json');
writeFileSync(hubFile, `${JSON.stringify({ pid: process.pid, offset, ports })}\n`);

say(`Kafka: ${env.KAFKA_BROKERS}   PostgreSQL: ${env.DATABASE_URL}`);
say(
  processes.length
    ? `starting: ${processes.map((p) => p.name).join(', ')} (logs in ${shown(logDir)}/)`
    : 'no services yet: infrastructure, migrations and topics are up',
);
say('Ctrl-C stops everything.');
void waitUntilReady();

/** Polls every process's /readyz; prints the bind block once all answer 200. */
async function waitUntilReady() {
  const pending = new Set(children);
  let lastNote = performance.now();
  while (pending.size > 0 && !stopping) {
    await Promise.all(
      [...pending].map(async (c) => {
        try {
          const r = await globalThis.fetch(`http://127.0.0.1:${c.httpPort}/readyz`, {
            signal: globalThis.AbortSignal.timeout(1000),
          });
          if (r.status === 200) pending.delete(c);
        } catch {
          // not listening yet
        }
      }),
    );
    if (pending.size === 0 || stopping) break;
    if (performance.now() - lastNote > 15_000) {
      lastNote = performance.now();
      say(`still waiting for: ${[...pending].map((c) => c.name).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (stopping) return;
  hubReady = true;
  printReady(((performance.now() - t0) / 1000).toFixed(1));
  void demoWebhook();
}

function printReady(seconds) {
  const secrets = shown(path.join(localDir, 'secrets'));
  const has = (name) => children.some((c) => c.name === name);
  // The commands work as printed in any terminal: with an offset they carry it (they would also find it in
  // hub.json while this hub runs, but two hubs of one checkout share that file).
  const npm = offset ? `HUB_PORT_OFFSET=${offset} npm` : 'npm';
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const lines = [
    '',
    `smshub is ready (${seconds} s). Ctrl-C stops everything.`,
    '',
    'Bind with any SMPP 3.4 client (transceiver, or transmitter + receiver):',
    `  host       127.0.0.1   (every port of this hub listens on loopback only; SMPP_HOST=0.0.0.0 npm start opens SMPP)`,
    `  port       ${ports.smpp} (plain), ${ports.smppTls} (TLS, self-signed certificate ${secrets}/smpp-tls-cert.pem)`,
    `  system_id  demo`,
    `  password   ${env.DEMO_SMPP_PASSWORD}   (${secrets}/demo-smpp-password)`,
    '',
    'Send a first message and wait for its delivery receipt:',
    `  ${npm} run send -- --to +447400123456 --text "hello from smshub"`,
  ];
  if (has('http-api'))
    lines.push(
      `Or over the HTTP API (127.0.0.1:${ports.httpApi}; API key in ${secrets}/demo-api-key; docs/http-api.md):`,
      `  curl -s http://127.0.0.1:${ports.httpApi}/v1/messages -H "Authorization: Bearer $(cat ${secrets}/demo-api-key)" \\`,
      `    -H 'Content-Type: application/json' -d '{"to":"+447400123456","from":"ACME","text":"hello over HTTP"}'`,
    );
  if (has('dlr'))
    lines.push(
      `See its timeline (every event of the message; MessageService on 127.0.0.1:${ports.grpc.dlr}):`,
      `  ${npm} run hubctl -- messages get <message id>`,
    );
  if (has('rating'))
    lines.push(
      `What it cost (the rated record; settlement API on 127.0.0.1:${ports.grpc.rating}):`,
      `  ${npm} run -s ops -- rated --message <message id>`,
      `  ${npm} run hubctl -- settlement totals --party customer --from ${today} --to ${tomorrow}`,
    );
  if (has('console'))
    lines.push(
      '',
      `Operations console: http://127.0.0.1:${ports.console}/  (sign in with the admin token in ${secrets}/admin-token,`,
      `  or a token of role operations or finance: ${npm} run hubctl -- tokens create --help)`,
    );
  if (has('admin'))
    lines.push(
      '',
      `Admin API (gRPC, AdminService): 127.0.0.1:${ports.grpc.admin}, bearer token in ${secrets}/admin-token`,
      `  ${npm} run hubctl -- accounts list`,
    );
  // The ports the simulators really use: those of the stored connectors (ops demo wrote them to the file).
  const simPort = (name, fallback) => {
    try {
      return (
        JSON.parse(readFileSync(simConfig, 'utf8')).simulators.find((x) => x.name === name)?.port ?? fallback
      );
    } catch {
      return fallback;
    }
  };
  lines.push(
    '',
    `Simulated networks: sim-good on ${simPort('sim-good', ports.simGood)} (dearer, ~99 % delivered), sim-poor on ${simPort('sim-poor', ports.simPoor)}`,
    '(cheaper, some UNDELIV/EXPIRED and refused submits; routing tries it first, egress fails over to sim-good).',
    `Health and metrics: http://127.0.0.1:<port>/readyz, /metrics on ${children.map((c) => `${c.name} ${c.httpPort}`).join(', ')}`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The child's whole process group (it was started detached), so nothing it started outlives it. */
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
/** Removes hub.json when it is still ours (another hub of this checkout may have written it since). */
function forgetHub() {
  try {
    if (JSON.parse(readFileSync(hubFile, 'utf8')).pid === process.pid) rmSync(hubFile);
  } catch {
    // not there
  }
}
function stopInfra() {
  for (const [started, script] of [
    [startedKafka, 'kafka.sh'],
    [startedPostgres, 'postgres.sh'],
  ]) {
    if (!started) continue;
    // Not our stderr: when its reader is gone, the script's first log line would kill it with SIGPIPE.
    const r = spawnSync('bash', [path.join(root, 'deploy/local', script), 'stop'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (r.stderr) process.stderr.write(r.stderr);
  }
}
async function stop(code) {
  if (stopping) return;
  stopping = true;
  say('stopping the services (each drains its work first, up to 30 s)');
  // Services first (egress still reaches the simulated networks while it drains), the simulator last.
  const stopAll = (list) =>
    Promise.all(
      list.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            signalGroup(child, 'SIGTERM');
            setTimeout(() => signalGroup(child, 'SIGKILL'), 35_000).unref();
          }),
      ),
    );
  await stopAll(children.filter((c) => c.name !== 'smsc-simulator'));
  await stopAll(children.filter((c) => c.name === 'smsc-simulator'));
  stopInfra();
  forgetHub();
  tellGuardian({ done: true });
  say(code === 0 ? 'stopped; nothing is left running' : 'stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0)); // the terminal was closed
// `npm start` killed without a signal reaching this script (e.g. `kill <npm pid>`, which npm does not pass
// on): the parent is gone, so stop too rather than leave the hub running with nobody to stop it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 1000).unref();
if (!processes.length) setInterval(() => {}, 1 << 30);

/**
 * Once: the demo account's webhook goes to `npm run webhook-listen`'s default address, its signing secret
 * to .local/secrets/demo-webhook-secret (where the listener reads it). A later change through hubctl stays.
 */
async function demoWebhook() {
  const secretFile = path.join(localDir, 'secrets/demo-webhook-secret');
  if (!children.some((c) => c.name === 'webhooks') || existsSync(secretFile)) return;
  const hubctl = (...args) =>
    new Promise((resolve) => {
      const child = spawn(
        tsx[0],
        [...tsx.slice(1), path.join(root, 'tools/hubctl/src/main.ts'), '-o', 'json', ...args],
        {
          cwd: root,
          env: { ...env, HUB_PORT_OFFSET: String(offset), HUBCTL_TOKEN: env.ADMIN_TOKEN },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.on('exit', (code) => {
        try {
          resolve(code === 0 ? JSON.parse(out) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
  const list = await hubctl('accounts', 'list', '--all');
  const demo = (list?.accounts ?? []).find((a) =>
    (a.smppCredentials ?? []).some((c) => c.systemId === 'demo'),
  );
  if (!demo) return;
  const url = `http://127.0.0.1:${8787 + offset}/`;
  let res = await hubctl('webhooks', 'set', '--account', demo.id, '--url', url);
  // An endpoint made before (its secret file lost): a new secret, the old one valid for a minute.
  if (res && !res.signingSecret)
    res = await hubctl('webhooks', 'rotate-secret', '--account', demo.id, '--overlap', '60');
  if (!res?.signingSecret) {
    say('the demo webhook could not be set (see .local/logs/webhooks.log)');
    return;
  }
  writeFileSync(secretFile, `${res.signingSecret}\n`, { mode: 0o600 });
  say(
    `demo receipts are also POSTed to ${url}: run \`npm run webhook-listen\` to see them (docs/webhooks.md)`,
  );
}
