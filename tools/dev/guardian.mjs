// The guardian of one `npm start` (tools/dev/start.mjs): makes sure nothing start.mjs started outlives it,
// however start.mjs ends. start.mjs spawns it in its own process group (a Ctrl-C, a closed terminal or a
// signal to npm's group does not reach it) with a pipe on its stdin, and tells it, one JSON object a line:
//   {"infra": {"kafka": true, "postgres": false}}   what deploy/local infrastructure start.mjs started
//   {"child": 1234}                                 a service it started (its own process group, id = pid)
//   {"done": true}                                  start.mjs stopped all of it itself
// The pipe closes when start.mjs exits, whatever the cause (a crash, SIGKILL, a write to a closed stdout).
// Without "done" the guardian then stops what is left, as start.mjs would have: SIGTERM to every service's
// process group (each drains its work), SIGKILL after 35 s, then the infrastructure it started, by its
// scripts. Every step is harmless when it was already done. Its lines go to stderr (start.mjs points that
// at .local/logs/guardian.log).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GRACE_MS = 35_000;

const children = new Set();
const infra = { kafka: false, postgres: false };
let done = false;

function log(msg) {
  process.stderr.write(`${new Date().toISOString()} [guardian ${process.pid}] ${msg}\n`);
}

// Signals meant for the terminal's foreground group must not stop the guardian before its work is done.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => log(`${signal} ignored`));
process.stderr.on('error', () => {});

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone already
  }
}

async function cleanUp() {
  const left = [...children].filter(groupAlive);
  if (left.length) {
    log(`start.mjs is gone without stopping the hub: SIGTERM to the process groups ${left.join(', ')}`);
    for (const pid of left) signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + GRACE_MS;
    while (Date.now() < deadline && left.some(groupAlive)) await new Promise((r) => setTimeout(r, 200));
    for (const pid of left.filter(groupAlive)) {
      log(`process group ${pid} did not stop in ${GRACE_MS / 1000} s: SIGKILL`);
      signalGroup(pid, 'SIGKILL');
    }
  }
  for (const [name, script] of [
    ['kafka', 'kafka.sh'],
    ['postgres', 'postgres.sh'],
  ]) {
    if (!infra[name]) continue;
    log(`stopping ${name} (start.mjs started it)`);
    spawnSync('bash', [path.join(root, 'deploy/local', script), 'stop'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}

createInterface({ input: process.stdin, crlfDelay: Infinity })
  .on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return log(`ignored a line that is not JSON: ${line.slice(0, 80)}`);
    }
    if (msg.infra) Object.assign(infra, msg.infra);
    if (Number.isInteger(msg.child)) children.add(msg.child);
    if (msg.done === true) done = true;
  })
  .on('close', () => {
    if (done) process.exit(0);
    void cleanUp().then(() => {
      log('done');
      process.exit(0);
    });
  });
