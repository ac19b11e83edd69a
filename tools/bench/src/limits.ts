#!/usr/bin/env node
// `npm run bench -- limits`: the cluster-wide limits under load, on the real local Kafka and PostgreSQL.
// The whole hub with 3 ingress, 3 egress and 2 routing processes:
//   - a customer limited to 200 msg/s offers 600 msg/s over one bind on each ingress replica;
//   - what it gets accepted goes to a connector limited to 150 msg/s (measured at the SMSC simulator);
//   - a second account with a velocity rule of 20 messages per 60 s offers 4 msg/s for 30 s, its messages
//     spread over both routing replicas.
// Prints configured vs measured for each (30 s windows) and exits 0 when every measured value is at most
// 10 % above its limit and the customer uses at least 90 % of its own. Exit 1 otherwise, 2 on an error.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { topics } from '@smshub/contracts';
import { connectSmpp, SmppError, statusName, type SmppSession } from '@smshub/smpp';
import {
  entryArgs,
  createTestDatabase,
  freePort,
  HubProcess,
  repoRoot,
  startHub,
  uniqueName,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { kafkaClient } from './kafka.js';
import { formatVerdicts, judge, type LimitVerdict } from './limits-report.js';
import { loadAverage } from './procfs.js';
import { gitCommit } from './run-info.js';
import { liftDemoLimits, seedDemo } from './seed.js';

const CUSTOMER_TPS = 200;
const OFFERED_TPS = 600;
const CONNECTOR_TPS = 150;
const VELOCITY = { limit: 20, windowSeconds: 60 };
const VELOCITY_OFFERED_TPS = 4;
const REPLICAS = { ingress: 3, egress: 3, routing: 2 };
const WARMUP_MS = 5_000;
const WINDOW_MS = 30_000;
const CONNECTOR = 'sim-poor';

const log = (msg: string): void => {
  process.stderr.write(`[bench limits ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Valid UK mobile numbers (as loadgen's), international.
const msg = (i: number, source: string) => ({
  source_addr: source,
  source_addr_ton: 5,
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: `447712${String(i % 1_000_000).padStart(6, '0')}`,
  short_message: Buffer.from(`limits bench ${i}`),
});

interface Sent {
  at: number;
  ok: boolean;
  /** command_status of the submit_sm_resp. */
  status: number;
}

/** "ESME_ROK 6000, ESME_RTHROTTLED 12000" */
function statuses(sent: Sent[]): string {
  const n = new Map<number, number>();
  for (const s of sent) n.set(s.status, (n.get(s.status) ?? 0) + 1);
  return [...n.entries()].map(([st, k]) => `${statusName(st) ?? `0x${st.toString(16)}`} ${k}`).join(', ');
}

/** Paced submits round robin over `sessions` at `rate`/s for `durationMs`; each one's send time and outcome. */
async function offer(
  sessions: SmppSession[],
  rate: number,
  durationMs: number,
  source: string,
  t0: number,
): Promise<Sent[]> {
  const out: Promise<Sent>[] = [];
  for (let i = 0; ; i++) {
    const due = (i * 1000) / rate;
    if (due >= durationMs) break;
    const wait = t0 + due - performance.now();
    if (wait > 0) await sleep(wait);
    const at = performance.now() - t0;
    out.push(
      sessions[i % sessions.length]!.submit(msg(i, source)).then(
        () => ({ at, ok: true, status: 0 }),
        (e: unknown) => {
          if (e instanceof SmppError) return { at, ok: false, status: e.commandStatus };
          throw e;
        },
      ),
    );
  }
  return Promise.all(out);
}

/** smshub_sim_accepted_total of the simulator whose label names `which`, from its /metrics. */
async function simAccepted(httpPort: number, which: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('smshub_sim_accepted_total{') && line.includes(which))
      n += Number(line.split(' ').pop());
  return n;
}

async function main(): Promise<number> {
  const brokers = process.env.KAFKA_BROKERS;
  const adminUrl = process.env.DATABASE_URL;
  if (!brokers || !adminUrl) {
    log('KAFKA_BROKERS and DATABASE_URL must be set (npm run bench -- limits sets them)');
    return 2;
  }
  const root = repoRoot();
  const loadBefore = loadAverage();
  const commit = gitCommit(root);
  const namespace = uniqueName('limits');
  const secretKey = randomBytes(32).toString('base64');
  const password = randomBytes(6).toString('base64url');
  const workDir = path.join(os.tmpdir(), `smshub-bench-limits-${namespace}`);
  const entry = (dir: string): string[] => entryArgs(root, dir, false);
  const kafka = kafkaClient(brokers, 'smshub-bench-limits');
  const admin = kafka.admin();
  await admin.connect();
  let db: TestDatabase | undefined;
  let hub: Hub | undefined;
  const extra: HubProcess[] = [];
  const clients: SmppSession[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of clients) c.destroy();
    if (hub) await hub.stop().catch(() => undefined);
    await Promise.all(extra.map((p) => p.stop().catch(() => undefined)));
    const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) =>
      t.startsWith(`${namespace}.`),
    );
    if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    if (db) await db.drop().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    db = await createTestDatabase(adminUrl);
    log(`database ${db.name}, namespace ${namespace}, logs in ${workDir}`);
    const simGood = await freePort();
    const simPoor = await freePort();
    seedDemo({
      root,
      brokers,
      databaseUrl: db.url,
      namespace,
      secretKey,
      smppPassword: password,
      simGoodPort: simGood,
      simPoorPort: simPoor,
      profile: 'bench',
      entry,
    });

    // The limits under test. `velo` is a copy of the demo account (same password, plan and route).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let veloId: string;
    try {
      await liftDemoLimits(client, { tps: CUSTOMER_TPS, maxBinds: 16, connectors: false });
      const { rows: cols } = await client.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts'
           AND column_name NOT IN ('id', 'system_id', 'tps_limit', 'created_at', 'updated_at')`,
      );
      const list = cols.map((c) => `"${c.column_name}"`).join(', ');
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO accounts (system_id, tps_limit, ${list})
         SELECT 'velo', 1000, ${list} FROM accounts WHERE system_id = 'demo' RETURNING id::text`,
      );
      veloId = rows[0]!.id;
      await client.query(
        `UPDATE routing_rules SET account_ids = account_ids || $1::text WHERE id = 'demo-least-cost'`,
        [veloId],
      );
      await client.query(
        `INSERT INTO routing_firewall_rules (id, name, kind, reason, params, account_ids)
         VALUES ('bench-velocity', 'bench: 20 per minute', 'velocity_account', 'bench velocity', $1, $2)`,
        [JSON.stringify(VELOCITY), [veloId]],
      );
      // One session per egress replica: the connector's binds are dealt out, one to each.
      await client.query(
        `UPDATE egress_connectors SET max_submit_rate = CASE WHEN id = $1 THEN $2 ELSE 1000000 END,
           window_size = 100, sessions = ${REPLICAS.egress}`,
        [CONNECTOR, CONNECTOR_TPS],
      );
    } finally {
      await client.end();
    }

    log('starting the hub (sources) with 3 ingress, 3 egress and 2 routing processes');
    const commonEnv = { LOG_LEVEL: 'warn', DEMO_SMPP_PASSWORD: password, CONNECTOR_SECRET_KEY: secretKey };
    hub = await startHub({
      kafkaBrokers: brokers,
      databaseUrl: db.url,
      namespace,
      // The message pipeline only (a service in progress elsewhere in the tree is not started).
      services: ['admin', 'ingress', 'routing', 'egress', 'dlr', 'rating'],
      demoProfile: 'bench',
      bundles: false,
      workDir,
      env: commonEnv,
      readyTimeoutMs: 180_000,
    });
    const ingressPorts = [hub.ports.smpp];
    const replicaIdVar: Record<string, string> = {
      ingress: 'INGRESS_REPLICA_ID',
      egress: 'EGRESS_REPLICA_ID',
      routing: 'ROUTING_REPLICA_ID',
    };
    for (const [service, n] of Object.entries(REPLICAS)) {
      for (let i = 2; i <= n; i++) {
        const name = `${service}#${i}`;
        const http = await freePort();
        const smpp = await freePort();
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          KAFKA_BROKERS: brokers,
          DATABASE_URL: db.url,
          KAFKA_NAMESPACE: namespace,
          ADMIN_TOKEN: hub.secrets.adminToken,
          ...commonEnv,
          HTTP_PORT: String(http),
          GRPC_PORT: String(await freePort()),
          [replicaIdVar[service]!]: `${service}-${i}`,
          ...(service === 'ingress'
            ? { SMPP_PORT: String(smpp), SMPP_TLS_PORT: String(await freePort()) }
            : {}),
        };
        delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
        const p = new HubProcess(
          name,
          entry(`services/${service}`),
          env,
          http,
          path.join(workDir, `${name}.log`),
        );
        p.start();
        extra.push(p);
        if (service === 'ingress') ingressPorts.push(smpp);
      }
    }
    await Promise.all(extra.map((p) => p.waitReady(180_000)));
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      await waitFor(
        async () =>
          (
            await pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM egress_replicas WHERE heartbeat_at > now() - interval '6 seconds'`,
            )
          ).rows[0]!.n === REPLICAS.egress,
        { what: 'every egress replica registered', timeoutMs: 30_000 },
      );
    } finally {
      await pool.end();
    }

    // One bind of the customer on each ingress replica, as a client spreading its binds behind a balancer.
    const bind = (port: number, systemId: string) =>
      connectSmpp({
        host: '127.0.0.1',
        port,
        systemId,
        password,
        bindType: 'transmitter',
        window: 200,
        enquireLinkMs: 0,
        responseTimeoutMs: 30_000,
      });
    for (const port of ingressPorts) clients.push(await bind(port, 'demo'));
    const velo = await bind(ingressPorts[0]!, 'velo');
    clients.push(velo);
    // Each replica learns the others' binds within a heartbeat cycle (2 s).
    await sleep(3000);

    const httpSim = hub.ports.http['smsc-simulator']!;
    log(
      `offering ${OFFERED_TPS} msg/s over ${ingressPorts.length} binds for ${(WARMUP_MS + WINDOW_MS) / 1000} s`,
    );
    const t0 = performance.now();
    // The simulator's accepted count once a second, from the start of the offer until egress has had 30 s
    // more to work off its backlog: the connector's figure is its busiest 30 s window.
    const simSeries: Array<{ t: number; n: number }> = [];
    const simSampler = (async () => {
      const until = t0 + WARMUP_MS + 2 * WINDOW_MS;
      while (performance.now() < until) {
        simSeries.push({ t: performance.now(), n: await simAccepted(httpSim, 'poor') });
        await sleep(1000);
      }
    })();
    // The customer's live binds as every replica sees them (heartbeat younger than 6 s), once a second: a
    // replica too starved to beat in time drops out and the others' shares grow.
    const bindsSeen: number[] = [];
    const pool2 = new pg.Pool({ connectionString: db.url, max: 1 });
    let sampling = true;
    const bindSampler = (async () => {
      while (sampling) {
        const { rows } = await pool2.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ingress_binds WHERE system_id = 'demo'
             AND heartbeat_at > now() - interval '6 seconds'`,
        );
        bindsSeen.push(rows[0]!.n);
        await sleep(1000);
      }
    })();
    const [customer, veloSent] = await Promise.all([
      offer(clients.slice(0, ingressPorts.length), OFFERED_TPS, WARMUP_MS + WINDOW_MS, 'ACME', t0),
      offer([velo], VELOCITY_OFFERED_TPS, WINDOW_MS, 'VELO', t0),
    ]);
    sampling = false;
    await bindSampler;
    await pool2.end();
    const accepted = customer.filter((s) => s.ok && s.at >= WARMUP_MS && s.at < WARMUP_MS + WINDOW_MS);
    const customerRate = accepted.length / (WINDOW_MS / 1000);
    await simSampler;
    let connectorRate = 0;
    let busiestFrom = 0;
    for (const a of simSeries) {
      const b = simSeries.find((x) => x.t >= a.t + WINDOW_MS);
      if (!b) break;
      const r = ((b.n - a.n) * 1000) / (b.t - a.t);
      if (r > connectorRate) [connectorRate, busiestFrom] = [r, (a.t - t0) / 1000];
    }

    // The velocity account's messages: routed or rejected by routing (both replicas), counted on the topics.
    const veloAccepted = veloSent.filter((s) => s.ok).length;
    let routed = 0;
    let rejected = 0;
    let demoRouted = 0;
    /** The customer's accepted messages by ingress's clock (sms.submitted.v1 received_at), epoch ms. */
    const receivedAt: number[] = [];
    /** Why routing rejected messages (both accounts): a rejection other than velocity means a broken setup. */
    const reasons = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: uniqueName('limits-count') });
    await consumer.connect();
    await consumer.subscribe({
      topics: [
        `${namespace}.${topics.routed.name}`,
        `${namespace}.${topics.rejected.name}`,
        `${namespace}.${topics.submitted.name}`,
      ],
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        if (topic.endsWith(topics.submitted.name)) {
          const m = topics.submitted.decode(message.value);
          if (m.systemId === 'demo' && m.receivedAt) receivedAt.push(m.receivedAt.getTime());
        } else if (topic.endsWith(topics.routed.name)) {
          const acc = topics.routed.decode(message.value).message?.accountId;
          if (acc === veloId) routed++;
          else demoRouted++;
        } else {
          const r = topics.rejected.decode(message.value);
          const why = `${r.ruleId || '-'}: ${r.reason}`;
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
          if (r.message?.accountId === veloId) rejected++;
        }
      },
    });
    const customerAccepted = customer.filter((x) => x.ok).length;
    await waitFor(() => routed + rejected >= veloAccepted && receivedAt.length >= customerAccepted, {
      what: `routing's decision on ${veloAccepted} messages of the velocity account`,
      timeoutMs: 120_000,
    }).catch((e: unknown) => log((e as Error).message));
    await consumer.disconnect();
    const loadAfter = loadAverage();
    // By ingress's clock (what the limit governs; the client's send times drift from it when the machine
    // is starved and submits wait in the client's queue): the busiest 30 s window, leaving out the first
    // 5 s (the buckets start full: one second of the limit).
    receivedAt.sort((a, b) => a - b);
    let serverRate = 0;
    let serverFrom = 0;
    const first = receivedAt[0] ?? 0;
    for (let i = 0, j = 0; i < receivedAt.length; i++) {
      if (receivedAt[i]! < first + WARMUP_MS) continue;
      while (j < receivedAt.length && receivedAt[j]! < receivedAt[i]! + WINDOW_MS) j++;
      if (receivedAt[receivedAt.length - 1]! < receivedAt[i]! + WINDOW_MS) break;
      const r = (j - i) / (WINDOW_MS / 1000);
      if (r > serverRate) [serverRate, serverFrom] = [r, (receivedAt[i]! - first) / 1000];
    }
    const clientRate = customerRate;

    const verdicts: LimitVerdict[] = [
      judge({
        name: `customer tps_limit, ${REPLICAS.ingress} ingress replicas`,
        unit: 'msg/s',
        configured: CUSTOMER_TPS,
        measured: serverRate,
        minUsed: 0.9,
        detail: `${OFFERED_TPS} msg/s offered round robin over one bind per replica for ${(WARMUP_MS + WINDOW_MS) / 1000} s; accepted by ingress's clock (sms.submitted.v1 received_at), busiest 30 s window after the first 5 s (from ${serverFrom.toFixed(0)} s); by the client's send times, seconds 5-35: ${clientRate.toFixed(1)} msg/s`,
      }),
      judge({
        name: `connector max_submit_rate, ${REPLICAS.egress} egress replicas`,
        unit: 'msg/s',
        configured: CONNECTOR_TPS,
        measured: connectorRate,
        // A supplier limit is a ceiling; half of it at least, or the pipeline carried nothing to measure.
        minUsed: 0.5,
        detail: `accepted at the SMSC simulator in the busiest 30 s window (from ${busiestFrom.toFixed(0)} s; sampled each second until 30 s after the offer); egress paces 5 % under (EGRESS_TPS_HEADROOM_PERCENT)`,
      }),
      judge({
        name: `velocity_account, ${REPLICAS.routing} routing replicas`,
        unit: `msg per ${VELOCITY.windowSeconds} s`,
        configured: VELOCITY.limit,
        measured: routed,
        minUsed: 0.5,
        detail: `${veloAccepted} offered at ${VELOCITY_OFFERED_TPS} msg/s within ${WINDOW_MS / 1000} s: ${routed} routed, ${rejected} rejected`,
      }),
    ];
    console.log(`npm run bench -- limits: commit ${commit}, ${new Date().toISOString()}`);
    console.log(
      `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`,
    );
    console.log('');
    console.log(formatVerdicts(verdicts));
    console.log('');
    console.log(`customer submit_sm_resp: ${statuses(customer)}; velocity account: ${statuses(veloSent)}`);
    console.log(
      `customer: ${receivedAt.length} accepted over ${((receivedAt[receivedAt.length - 1]! - first) / 1000).toFixed(1)} s by ingress's clock, ${demoRouted} routed; its live binds in ingress_binds, sampled each second: ` +
        `min ${Math.min(...bindsSeen)}, max ${Math.max(...bindsSeen)} (${bindsSeen.filter((n) => n < ingressPorts.length).length} of ${bindsSeen.length} samples below ${ingressPorts.length})`,
    );
    console.log(
      `routing rejections: ${[...reasons.entries()].map(([why, n]) => `${n} × ${why}`).join('; ') || 'none'}`,
    );
    const crashes = [
      ...hub.crashes(),
      ...extra.flatMap((p) => p.unexpectedExits.map((e) => `${p.name}: ${e}`)),
    ];
    if (crashes.length) console.log(`\nprocesses that exited on their own: ${crashes.join(', ')}`);
    return verdicts.every((v) => v.ok) && crashes.length === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(2);
  },
);
