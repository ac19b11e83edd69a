// `npm start`: the whole hub on this machine, from a fresh clone.
// Real Kafka and PostgreSQL (deploy/local, or KAFKA_BROKERS / DATABASE_URL when set), migrations and topics
// (tools/ops setup), the demo configuration when present (tools/ops demo), every service under services/
// that has a src/main.ts, and the SMSC simulator. Prints how to bind. Ctrl-C stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDependencies, readEnvFile, root, say } from './common.mjs';

ensureDependencies();

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

const up = spawnSync('bash', [path.join(root, 'deploy/local/up.sh')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (up.status !== 0) {
  say('could not bring up Kafka and PostgreSQL: see the messages above');
  process.exit(1);
}
const infra = readEnvFile(path.join(root, '.local/env'));
const env = { ...process.env, ...infra, ...devSecrets(), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };

/**
 * Secrets of this local hub, made once per checkout under .local/ (never committed): the key egress uses
 * to encrypt connector passwords, and a self-signed certificate for ingress's SMPP-over-TLS listener.
 * Variables already set in the environment win.
 */
function devSecrets() {
  const dir = path.join(root, '.local/secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'connector-secret-key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
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
  };
  if (existsSync(cert) && existsSync(key)) {
    out.SMPP_TLS_CERT_FILE = process.env.SMPP_TLS_CERT_FILE ?? cert;
    out.SMPP_TLS_KEY_FILE = process.env.SMPP_TLS_KEY_FILE ?? key;
  }
  return out;
}
const tsx = [process.execPath, '--conditions=@smshub/source', '--import', 'tsx'];

function runOps(command) {
  const entry = path.join(root, 'tools/ops/src/main.ts');
  if (!existsSync(entry)) return true;
  const r = spawnSync(tsx[0], [...tsx.slice(1), entry, command], { cwd: root, env, stdio: 'inherit' });
  return r.status === 0;
}

if (!runOps('setup')) {
  say('setup (migrations and topics) failed: see the messages above');
  stopInfra();
  process.exit(1);
}
runOps('demo');

const children = [];
const processes = [
  ...readdirSync(path.join(root, 'services'))
    .filter((name) => existsSync(path.join(root, 'services', name, 'src/main.ts')))
    .map((name) => ({ name, entry: path.join(root, 'services', name, 'src/main.ts') })),
  ...['smsc-simulator']
    .filter((name) => existsSync(path.join(root, 'tools', name, 'src/main.ts')))
    .map((name) => ({ name, entry: path.join(root, 'tools', name, 'src/main.ts') })),
];
let port = 9400;
for (const p of processes) {
  const child = spawn(tsx[0], [...tsx.slice(1), p.entry], {
    cwd: root,
    env: { ...env, HTTP_PORT: String(port++) },
    stdio: ['ignore', 'inherit', 'inherit'],
    // Own process group: a Ctrl-C reaches only this script, which drains every service with one SIGTERM.
    detached: true,
  });
  child.on('exit', (code, signal) => {
    if (!stopping) say(`${p.name} exited (${signal ?? code}); stopping the hub`);
    if (!stopping) stop(1);
  });
  children.push({ ...p, child });
}

say(`Kafka: ${infra.KAFKA_BROKERS}   PostgreSQL: ${infra.DATABASE_URL}`);
say(
  processes.length
    ? `running: ${processes.map((p) => p.name).join(', ')}`
    : 'no services yet: infrastructure, migrations and topics are up',
);
say('Ctrl-C stops everything.');

let stopping = false;
function stopInfra() {
  if (startedKafka)
    spawnSync('bash', [path.join(root, 'deploy/local/kafka.sh'), 'stop'], { cwd: root, stdio: 'inherit' });
  if (startedPostgres)
    spawnSync('bash', [path.join(root, 'deploy/local/postgres.sh'), 'stop'], { cwd: root, stdio: 'inherit' });
}
async function stop(code) {
  if (stopping) return;
  stopping = true;
  say('stopping');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 35_000).unref();
        }),
    ),
  );
  stopInfra();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
if (!processes.length) setInterval(() => {}, 1 << 30);
