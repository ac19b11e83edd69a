#!/usr/bin/env node
// `npm run bench -- routing-sim`: issue 21's routing benchmark, the WHOLE HUB against simulated networks.
// The hub's message pipeline (admin, ingress, routing, egress, dlr, rating) runs as real processes on the
// local Kafka and PostgreSQL; four SMSC simulators (libs/smsc-simulator, in this process) are four
// suppliers to the same UK network (routing-scenario.ts: A cheapest, degrades at minute 2, recovers at 6;
// B slow from minute 4; C dearest and steady; F a fake-DLR grey route appearing at minute 7). Their
// behaviour is changed on schedule through the simulator control endpoint (POST /behaviour); F "appears"
// when its connectors are enabled through the admin API (UpdateConnector -> config.changes.v1 -> routing
// and egress), as `hubctl connectors update ID --enabled` does.
//
// Three strategies, same traffic, one run: three customer accounts, each with one routing rule over its
// own four connectors (one per simulator; so that no strategy learns from another's traffic) using static
// least cost, today's quality (best_quality over delivery.stats.v1) and adaptive; each customer submits
// the same OTP rate over SMPP in parallel. Real time (not accelerated): 12 minutes at --scale 1.
// Truth comes from the simulators: a message is delivered when a simulator sent it a DELIVRD receipt and
// was not acting as a fake-DLR route; its latency is client submit -> that simulator's receipt. Supplier
// cost = the configured buy rate of every connector a message was submitted to (rating's buy cost with
// buy_charge_on submit, as these connectors are set up).
// Detection (issue 21 item 3, routing's grey-route probes): every connector has a probe target (admin's
// ProbeService) whose number is a handset of its simulator; the handsets confirm real deliveries with an MO
// (back through egress and inbound); routing publishes a connector it suspects on routing.suspicion.v1 and
// demotes it in OTP rules. The bench reads that topic: "after it is detected" starts at the suspicion of the
// strategy's own F connector. Probe traffic is internal: not in the strategies' figures.
// Prints the table and the verdict; writes the traffic-share SVG. Exit 0 on PASS, 1 on FAIL, 2 on error.
// Usage: npm run bench -- routing-sim   (or npx tsx tools/bench/src/routing-hub.ts [flags])
//   --scale X      scenario time scale (1 = 12 minutes; 0.05 = 36 s, the smoke test's); default 1
//   --rate N       OTP messages/s per strategy; default 20
//   --half-life MS routing's ROUTING_ADAPTIVE_HALF_LIFE_MS; default 60000 x scale
//   --svg FILE     default docs/routing-sim.svg
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import pg from 'pg';
import {
  AdminServiceClient,
  HubNumberKind,
  namespacedTopics,
  ProbeServiceClient,
  topics,
  UpdateConnectorRequest,
} from '@smshub/contracts';
import { sealSecret } from '@smshub/secrets';
import { connectSmpp, type Pdu, type SmppSession } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import {
  entryArgs,
  routingScenario as rs,
  createTestDatabase,
  freePort,
  repoRoot,
  startHub,
  uniqueName,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
// The simulator app's own control endpoint, served in this process: the bench hosts the simulators itself
// so that their submits and receipts (the truth) are read directly, while the scenario still drives them
// through POST /behaviour as an operator would drive `npm start`'s simulator.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startControl } from '../../smsc-simulator/src/control.js';
import { kafkaClient } from './kafka.js';
import { loadAverage } from './procfs.js';

import { gitCommit } from './run-info.js';
import { seedDemo } from './seed.js';

export interface StrategyPlan {
  key: string;
  name: string;
  strategy: 'least_cost' | 'best_quality' | 'adaptive';
  options: Record<string, unknown>;
}

export const STRATEGIES: readonly StrategyPlan[] = [
  { key: 'lcost', name: 'least cost (static)', strategy: 'least_cost', options: {} },
  { key: 'qual', name: 'quality (today)', strategy: 'best_quality', options: { minSamples: 100 } },
  {
    key: 'adapt',
    name: 'adaptive',
    strategy: 'adaptive',
    options: { exploration: 0.05, minSamples: 30, sla: { OTP: { minRatio: 0.95, maxP95Ms: 10_000 } } },
  },
];

export interface RoutingBenchOptions {
  kafkaBrokers: string;
  databaseUrl: string;
  scale?: number;
  rate?: number;
  halfLifeMs?: number;
  svgPath?: string;
  log?: (msg: string) => void;
  /** Called with the result as soon as it is known, before the cleanup. */
  onResult?: (result: RoutingBenchResult) => void;
}

export interface RoutingBenchResult {
  rows: rs.StrategyRow[];
  verdict: rs.Verdict;
  table: string;
  durationMs: number;
  /** ms from the start at which F's connectors were enabled (the admin API answered). */
  appearedAt: number | undefined;
  refused: Record<string, number>;
  report: string;
}

function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CUSTOMER_PASSWORD_BYTES = 6;
/** The hub number probes come from (the handsets' confirmations go to it), and each network's probe handset. */
const HUB_NUMBER = '447700900555';
const PROBE_NUMBER: Record<rs.Id, string> = {
  A: '447700900101',
  B: '447700900102',
  C: '447700900103',
  F: '447700900104',
};
const connectorId = (strategy: string, id: rs.Id) => `${strategy}-${id}`;

/** The id and stat of a receipt deliver_sm from the hub (TLVs first, then the text). */
function hubReceipt(pdu: Pdu): { id: string; stat: string } | undefined {
  if (((pdu.esm_class ?? 0) & 0x04) === 0) return undefined;
  const text = (pdu.short_message ?? Buffer.alloc(0)).toString('latin1');
  const id = (pdu.receipted_message_id as string | undefined) || /id:(\S+)/.exec(text)?.[1];
  const stat = /stat:(\w+)/.exec(text)?.[1];
  return id && stat ? { id: id.toLowerCase(), stat } : undefined;
}

export async function runRoutingBench(opts: RoutingBenchOptions): Promise<RoutingBenchResult> {
  const scale = opts.scale ?? 1;
  const rate = opts.rate ?? 20;
  const halfLifeMs = opts.halfLifeMs ?? Math.max(1000, Math.round(60_000 * scale));
  const log =
    opts.log ??
    ((m: string) => process.stderr.write(`[routing-sim ${new Date().toISOString().slice(11, 19)}] ${m}\n`));
  const durationMs = Math.round(rs.SCENARIO_MINUTES * rs.MIN * scale);
  const root = repoRoot();
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const namespace = uniqueName('rsim');
  const workDir = path.join(os.tmpdir(), `smshub-routing-sim-${namespace}`);
  const secretKey = randomBytes(32).toString('base64');
  const password = randomBytes(CUSTOMER_PASSWORD_BYTES).toString('base64url');
  const kafka = kafkaClient(opts.kafkaBrokers, 'smshub-routing-sim');
  const admin = kafka.admin();
  await admin.connect();
  let db: TestDatabase | undefined;
  let hub: Hub | undefined;
  const sims = new Map<rs.Id, Simulator>();
  let control: Awaited<ReturnType<typeof startControl>> | undefined;
  const clients: SmppSession[] = [];
  let stopConsumer: (() => Promise<void>) | undefined;
  const entry = (dir: string): string[] => entryArgs(root, dir, false);
  try {
    db = await createTestDatabase(opts.databaseUrl);
    log(
      `database ${db.name}, namespace ${namespace}, logs in ${workDir}; scale ${scale} (${durationMs / 1000} s), ${rate} msg/s per strategy, adaptive half-life ${halfLifeMs} ms`,
    );

    // The four networks: simulators in this process (their receipts are the truth), behind one control endpoint.
    const fake: Record<rs.Id, boolean> = { A: false, B: false, C: false, F: false };
    const ports: Record<rs.Id, number> = { A: 0, B: 0, C: 0, F: 0 };
    for (const id of rs.IDS) {
      const s0 = rs.networkState(id, 0, scale);
      const sim = createSimulator({
        receipts: rs.receiptsOf(s0),
        keepReceived: 0,
        handsets: { numbers: [PROBE_NUMBER[id]] },
        seed: 21 + rs.IDS.indexOf(id),
        // The fake-DLR route: DELIVRD receipts, nothing reaches a handset.
        ...(s0.fake ? { fakeReceipts: { share: 1 } } : {}),
      });
      fake[id] = s0.fake;
      ports[id] = (await sim.listen(0)).port;
      sims.set(id, sim);
    }
    control = await startControl(
      rs.IDS.map((id) => ({ name: `net-${id}`, sim: sims.get(id) as Simulator })),
      0,
    );

    // Seed: ops setup + demo (migrations, topics, the demo account to copy), then this bench's rows.
    seedDemo({
      root,
      brokers: opts.kafkaBrokers,
      databaseUrl: db.url,
      namespace,
      secretKey,
      smppPassword: password,
      simGoodPort: await freePort(),
      simPoorPort: await freePort(),
      entry,
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await seed(client, ports, Buffer.from(secretKey, 'base64'));
    } finally {
      await client.end();
    }

    log('starting the hub (sources): admin, ingress, routing, egress, dlr, inbound, rating');
    hub = await startHub({
      kafkaBrokers: opts.kafkaBrokers,
      databaseUrl: db.url,
      namespace,
      services: ['admin', 'ingress', 'routing', 'egress', 'dlr', 'inbound', 'rating'],
      simulator: false,
      bundles: false,
      workDir,
      env: { LOG_LEVEL: 'warn', DEMO_SMPP_PASSWORD: password, CONNECTOR_SECRET_KEY: secretKey },
      envFor: {
        routing: {
          ROUTING_ADAPTIVE_HALF_LIFE_MS: String(halfLifeMs),
          // Probe verdicts within the scenario: a probe unconfirmed 60 s after it was sent is a fake receipt
          // (default 10 min); a confirmation 30 s after the receipt is late (a loaded hub's MO path takes seconds).
          ROUTING_PROBE_TICK_MS: '1000',
          ROUTING_PROBE_DEADLINE_MS: String(Math.max(15_000, Math.round(60_000 * scale))),
          ROUTING_PROBE_LATE_MS: String(Math.max(10_000, Math.round(30_000 * scale))),
        },
        inbound: { INBOUND_NUMBER_CACHE_MS: '0' },
      },
      readyTimeoutMs: 180_000,
    });
    const runningHub = hub;
    // Every enabled connector (A, B, C of each strategy) bound to its simulator.
    await waitFor(
      () =>
        rs.IDS.filter((id) => id !== 'F').every(
          (id) => (sims.get(id) as Simulator).boundSessions >= STRATEGIES.length,
        ),
      {
        what: 'egress bound every enabled connector',
        timeoutMs: 60_000,
      },
    );

    // Probes: the hub number (assigned to the demo account, the probes' internal account) and one target per
    // connector, every 10 s (x scale), through admin's ProbeService as `hubctl probes set` does.
    const probeInterval = Math.max(1, Math.round(10 * scale));
    await probeSetup(runningHub, probeInterval);
    // Suspicions, as routing publishes them.
    const suspicions: Array<{ at: number; connectorId: string; suspected: boolean; summary: string }> = [];
    const suspicionTopic = namespacedTopics(topics, namespace).suspicion;
    const suspicionConsumer = kafka.consumer({ groupId: uniqueName('rsim-suspicion') });
    stopConsumer = () => suspicionConsumer.disconnect();
    await suspicionConsumer.connect();
    await suspicionConsumer.subscribe({ topic: suspicionTopic.name, fromBeginning: true });
    await suspicionConsumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const v = suspicionTopic.decode(message.value);
        suspicions.push({
          at: t0 ? now() : 0,
          connectorId: v.connectorId,
          suspected: v.suspected,
          summary: v.summary,
        });
        log(`suspicion: ${v.connectorId} ${v.suspected ? 'SUSPECTED' : 'cleared'}: ${v.summary}`);
      },
    });

    // Truth: every submit a simulator accepted, and the receipt it sent.
    const messages = new Map<string, Map<number, rs.SentMessage>>(STRATEGIES.map((s) => [s.key, new Map()]));
    const attemptsById = new Map<string, { msg: rs.SentMessage; idx: number }>();
    let t0 = 0;
    const now = () => performance.now() - t0;
    const unmatched = { submits: 0, receipts: 0, probes: 0 };
    for (const id of rs.IDS) {
      const sim = sims.get(id) as Simulator;
      sim.on('submit', (sub) => {
        const m = /^rsim (\w+) (\d+)$/.exec(sub.shortMessage.toString('latin1'));
        const msg = m ? messages.get(m[1] as string)?.get(Number(m[2])) : undefined;
        if (!msg) {
          if (/PRB-/.test(sub.shortMessage.toString('latin1'))) unmatched.probes++;
          else unmatched.submits++;
          return;
        }
        msg.attempts.push({ id, at: now() });
        attemptsById.set(`${id}:${sub.messageId}`, { msg, idx: msg.attempts.length - 1 });
      });
      sim.on('receipt', (r) => {
        if (r.stat === 'ENROUTE') return;
        const a = attemptsById.get(`${id}:${r.messageId}`);
        if (!a) {
          unmatched.receipts++;
          return;
        }
        const attempt = a.msg.attempts[a.idx];
        if (!attempt) return;
        attempt.stat = r.stat;
        attempt.receiptAt = now();
        attempt.truly = r.stat === 'DELIVRD' && !fake[id];
      });
    }

    // The customers: one transceiver bind per strategy account.
    const byHubId = new Map<string, rs.SentMessage>();
    const early = new Map<string, string>();
    for (const s of STRATEGIES) {
      clients.push(
        await connectSmpp({
          host: '127.0.0.1',
          port: runningHub.ports.smpp,
          systemId: `rsim-${s.key}`,
          password,
          bindType: 'transceiver',
          window: 200,
          responseTimeoutMs: 30_000,
          handlers: {
            deliver_sm: (pdu) => {
              const r = hubReceipt(pdu);
              if (!r) return;
              const msg = byHubId.get(r.id);
              if (msg) msg.reported = r.stat;
              else early.set(r.id, r.stat);
            },
          },
        }),
      );
    }

    // The run: traffic at `rate` per strategy, the scenario's steps on time.
    const refused: Record<string, number> = {};
    let appearedAt: number | undefined;
    const stepsDone: Promise<void>[] = [];
    t0 = performance.now();
    log(`run starts: ${durationMs / 1000} s of traffic`);
    const steps = rs.scenarioSteps(scale);
    const stepRunner = (async () => {
      for (const step of steps) {
        const wait = step.atMs - now();
        if (wait > 0) await sleep(wait);
        log(`${(now() / 1000).toFixed(1)} s: ${step.what}`);
        if (step.kind === 'behaviour') {
          const res = await fetch(`http://127.0.0.1:${control!.port}/behaviour`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ simulator: `net-${step.id}`, receipts: rs.receiptsOf(step.state) }),
          });
          if (!res.ok) throw new Error(`POST /behaviour ${step.id}: ${res.status} ${await res.text()}`);
        } else {
          stepsDone.push(
            enableConnectors(
              runningHub,
              STRATEGIES.map((s) => connectorId(s.key, step.id)),
            ).then(() => {
              appearedAt = now();
              log(`${(appearedAt / 1000).toFixed(1)} s: F's connectors enabled (admin API answered)`);
            }),
          );
        }
      }
    })();
    let seq = 0;
    const interval = 1000 / rate;
    const inFlight = new Set<Promise<unknown>>();
    while (now() < durationMs) {
      const n = seq++;
      for (const [k, s] of STRATEGIES.entries()) {
        const msg: rs.SentMessage = { at: now(), attempts: [] };
        (messages.get(s.key) as Map<number, rs.SentMessage>).set(n, msg);
        const p = (clients[k] as SmppSession)
          .submit({
            source_addr: 'SMSHUB',
            source_addr_ton: 5,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: `447712${String((n * 7919 + k) % 1_000_000).padStart(6, '0')}`,
            registered_delivery: 1,
            short_message: Buffer.from(`rsim ${s.key} ${n}`),
          })
          .then(
            (resp) => {
              const id = String(resp.message_id ?? '').toLowerCase();
              byHubId.set(id, msg);
              const r = early.get(id);
              if (r) msg.reported = r;
            },
            (err: unknown) => {
              (messages.get(s.key) as Map<number, rs.SentMessage>).delete(n);
              const why = (err as Error).message.slice(0, 60);
              refused[why] = (refused[why] ?? 0) + 1;
            },
          );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      const next = seq * interval - now();
      if (next > 0) await sleep(next);
      if (seq % (rate * 30) === 0)
        log(`${(now() / 1000).toFixed(0)} s: ${seq * STRATEGIES.length} submitted`);
    }
    await stepRunner;
    await Promise.all(stepsDone);
    await Promise.all(inFlight);
    // Drain: every message at a supplier with its receipt (the truth), then the customer's receipt (the
    // hub is done with it): positive signals, at most 60 s and 90 s.
    log('traffic done; waiting for the last receipts');
    const all = () => [...messages.values()].flatMap((m) => [...m.values()]);
    await waitFor(
      () => all().every((m) => m.attempts.length > 0 && m.attempts.every((a) => a.stat !== undefined)),
      { what: 'every message at a supplier with its receipt', timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() =>
      log('drain: some messages without a supplier receipt after 60 s (counted as not delivered)'),
    );
    await waitFor(() => all().every((m) => m.reported !== undefined), {
      what: "every customer's receipt",
      timeoutMs: 90_000,
      intervalMs: 500,
    }).catch(() => log('drain: some customer receipts still missing after 90 s'));

    const left = all();
    const missing = {
      notRouted: left.filter((m) => m.attempts.length === 0).length,
      noSupplierReceipt: left.filter((m) => m.attempts.some((a) => a.stat === undefined)).length,
      noCustomerReceipt: left.filter((m) => m.reported === undefined).length,
    };
    // Hub transit: the customer's submit -> the first supplier's submit (ingress, routing, egress).
    const transit = left.filter((m) => m.attempts[0]).map((m) => (m.attempts[0]?.at ?? 0) - m.at);
    const rows = STRATEGIES.map((s) =>
      rs.summarise(s.name, [...(messages.get(s.key) as Map<number, rs.SentMessage>).values()], {
        scale,
        durationMs,
        ...(appearedAt !== undefined && { appearAt: appearedAt }),
        detectedAt: suspicions.find((x) => x.suspected && x.connectorId === connectorId(s.key, 'F'))?.at,
      }),
    );
    const v = rs.verdict(rows);
    const table = rs.formatTable(rows);
    const svgPath = opts.svgPath ?? path.join(root, 'docs/routing-sim.svg');
    writeFileSync(
      svgPath,
      rs.shareSvg(rows, {
        title: `routing-sim (whole hub, ${durationMs / 60_000} min real time, ${rate} OTP msg/s per strategy), ${gitCommit(root)}`,
        bucketLabel: `${rs.bucketMs(scale) / 1000} s buckets`,
        marks: steps.map((s) => ({ at: s.atMs / durationMs, label: `${s.id}` })),
      }),
    );
    const crashes = runningHub.crashes();
    const report = [
      `routing-sim: the whole hub against simulated networks (commit ${gitCommit(root)}, started ${startedAt.toISOString()}, load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAverage()
        .map((x) => x.toFixed(2))
        .join(' ')})`,
      `${durationMs / 1000} s of real time (scale ${scale}), ${rate} OTP msg/s per strategy, adaptive half-life ${halfLifeMs / 1000} s; prices EUR ${rs.IDS.map((id) => `${id} ${(rs.PRICE[id] / 1e6).toFixed(4)}`).join(', ')}`,
      '',
      table,
      '',
      `hub transit (customer submit -> supplier submit): p50 ${(percentile(transit, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(transit, 0.95) / 1000).toFixed(2)} s; after the run: ${missing.notRouted} messages never reached a supplier, ${missing.noSupplierReceipt} without a supplier receipt, ${missing.noCustomerReceipt} without a customer receipt`,
      `refused submits: ${Object.keys(refused).length ? JSON.stringify(refused) : 'none'}; probes at the simulators: ${unmatched.probes}; other submits: ${unmatched.submits}; F appeared (connectors enabled) at ${appearedAt === undefined ? '-' : `${(appearedAt / 1000).toFixed(1)} s`}${crashes.length ? `; hub crashes: ${crashes.join('; ')}` : ''}`,
      `suspicions published: ${suspicions.length ? suspicions.map((x) => `${x.connectorId} ${x.suspected ? 'suspected' : 'cleared'} at ${(x.at / 1000).toFixed(1)} s`).join('; ') : 'none'}`,
      `plot: ${path.relative(root, svgPath)}`,
      `verdict: ${v.pass ? 'PASS' : 'FAIL'}: ${v.why}`,
    ].join('\n');
    const result = { rows, verdict: v, table, durationMs, appearedAt, refused, report };
    // Before the cleanup (a slow broker can make it take a while).
    opts.onResult?.(result);
    return result;
  } finally {
    log("stopping the hub, removing the run's topics and database");
    // Every step bounded: a cleanup never hangs the bench.
    const bounded = (what: string, p: Promise<unknown> | undefined) =>
      Promise.race([
        Promise.resolve(p).catch(() => undefined),
        sleep(30_000).then(() => log(`cleanup: ${what} did not finish in 30 s; going on`)),
      ]);
    await bounded('customer unbinds', Promise.all(clients.map((c) => c.unbind().catch(() => c.destroy()))));
    await bounded('suspicion consumer', stopConsumer?.());
    await bounded('hub stop', hub?.stop());
    control?.server.closeAllConnections();
    control?.server.close();
    await bounded('simulators', Promise.all([...sims.values()].map((x) => x.close())));
    await bounded(
      'topics',
      admin
        .listTopics()
        .then((all) => all.filter((t) => t.startsWith(`${namespace}.`)))
        .then((mine) => (mine.length ? admin.deleteTopics({ topics: mine }) : undefined)),
    );
    await bounded('kafka admin', admin.disconnect());
    await bounded('database', db?.drop());
  }
}

/** The bench's accounts, connectors, rates and rules (the demo's shapes), before the hub starts. */
async function seed(client: pg.Client, ports: Record<rs.Id, number>, secretKey: Buffer): Promise<void> {
  const { rows: cols } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts'
       AND column_name NOT IN ('id', 'system_id', 'name', 'tps_limit', 'default_traffic_type', 'billing_mode',
         'credit_limit_minor', 'created_at', 'updated_at')`,
  );
  const list = cols.map((c) => `"${c.column_name}"`).join(', ');
  // The demo's connectors point at no simulator here: off.
  await client.query(`UPDATE egress_connectors SET enabled = false`);
  for (const s of STRATEGIES) {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO accounts (system_id, name, tps_limit, default_traffic_type, billing_mode, credit_limit_minor, ${list})
       SELECT $1, $2, 1000, 'OTP', 'postpaid', 1000000000000000, ${list} FROM accounts WHERE system_id = 'demo'
       RETURNING id::text`,
      [`rsim-${s.key}`, `routing-sim: ${s.name}`],
    );
    const accountId = (rows[0] as { id: string }).id;
    await client.query(
      `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, price_scale, currency, effective_from)
       SELECT 'rsim-sell-' || $1 || '-' || lower(c), 'account', $2, c, 40000, 6, 'EUR', '2020-01-01T00:00:00Z'
         FROM unnest(ARRAY['GB', 'GG', 'JE', 'IM']) AS c`,
      [s.key, accountId],
    );
    for (const id of rs.IDS) {
      const cid = connectorId(s.key, id);
      const port = ports[id];
      await client.query(
        `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_sealed, sessions, window_size,
           max_submit_rate, response_timeout_ms, message_id_format, currency)
         VALUES ($1, $2, $3, '127.0.0.1', $4, $1, $5, 1, 100, 2000, 10000, 'hex', 'EUR')`,
        [
          cid,
          `routing-sim network ${id} (${s.name})`,
          id !== 'F',
          port,
          sealSecret(secretKey, randomBytes(6).toString('base64url'), cid),
        ],
      );
      await client.query(
        `INSERT INTO rating_connectors (connector_id, supplier_id, buy_charge_on) VALUES ($1, $2, 'submit')`,
        [cid, `rsim-supplier-${id}`],
      );
      await client.query(
        `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, price_scale, currency, effective_from)
         SELECT $1 || '-buy-' || lower(c), 'connector', $1, c, $2, 6, 'EUR', '2020-01-01T00:00:00Z'
           FROM unnest(ARRAY['GB', 'GG', 'JE', 'IM']) AS c`,
        [cid, rs.PRICE[id]],
      );
    }
    await client.query(
      `INSERT INTO routing_rules (id, name, priority, account_ids, strategy, strategy_currency, strategy_options)
       VALUES ($1, $2, 100, $3, $4, 'EUR', $5)`,
      [`rsim-${s.key}`, `routing-sim: ${s.name}`, [accountId], s.strategy, JSON.stringify(s.options)],
    );
    await client.query(
      `INSERT INTO routing_rule_candidates (rule_id, position, connector_id)
       SELECT $1, p - 1, c FROM unnest($2::text[]) WITH ORDINALITY AS t(c, p)`,
      [`rsim-${s.key}`, rs.IDS.map((id) => connectorId(s.key, id))],
    );
  }
}

/** A unary call with the admin token (AdminService and ProbeService share admin's port). */
function unary<Req, Res>(
  client: object,
  method: (req: Req, md: Metadata, opts: object, cb: (err: Error | null, res: Res) => void) => unknown,
  req: Req,
  token: string,
): Promise<Res> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    method.call(client, req, md, { deadline: Date.now() + 15_000 }, (err: Error | null, res: Res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

/** The probes' hub number and one probe target per connector (its network's handset). */
async function probeSetup(hub: Hub, intervalS: number): Promise<void> {
  const address = `127.0.0.1:${hub.ports.admin}`;
  const token = hub.secrets.adminToken;
  const pool = new pg.Client({ connectionString: hub.databaseUrl });
  await pool.connect();
  let demoAccountId: string;
  try {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id::text FROM accounts WHERE system_id = 'demo'`,
    );
    demoAccountId = (rows[0] as { id: string }).id;
  } finally {
    await pool.end();
  }
  const adminClient = new AdminServiceClient(address, credentials.createInsecure());
  const probes = new ProbeServiceClient(address, credentials.createInsecure());
  try {
    await unary(
      adminClient,
      adminClient.createNumber,
      {
        number: {
          id: '',
          number: `+${HUB_NUMBER}`,
          kind: HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
          accountId: demoAccountId,
          keywords: [],
        },
      },
      token,
    );
    for (const s of STRATEGIES)
      for (const id of rs.IDS)
        await unary(
          probes,
          probes.setProbeTarget,
          {
            target: {
              id: `probe-${connectorId(s.key, id)}`,
              connectorId: connectorId(s.key, id),
              number: `+${PROBE_NUMBER[id]}`,
              destination: '',
              intervalS,
              enabled: true,
              accountId: demoAccountId,
              sender: HUB_NUMBER,
              nextAt: undefined,
            },
          },
          token,
        );
  } finally {
    adminClient.close();
    probes.close();
  }
}

/** Enables connectors through the admin API (UpdateConnector, mask `enabled`), as `hubctl connectors update ID --enabled` does. */
async function enableConnectors(hub: Hub, ids: string[]): Promise<void> {
  const client = new AdminServiceClient(`127.0.0.1:${hub.ports.admin}`, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${hub.secrets.adminToken}`);
  try {
    for (const id of ids)
      await new Promise<void>((resolve, reject) =>
        client.updateConnector(
          UpdateConnectorRequest.fromPartial({ connector: { id, enabled: true }, updateMask: ['enabled'] }),
          md,
          { deadline: Date.now() + 15_000 },
          (err) => (err ? reject(new Error(`UpdateConnector ${id}: ${err.message}`)) : resolve()),
        ),
      );
  } finally {
    client.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string' },
      rate: { type: 'string' },
      'half-life': { type: 'string' },
      svg: { type: 'string' },
    },
    strict: true,
  });
  const num = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: "${v}" is not a number >= ${min}`);
    return n;
  };
  const brokers = process.env.KAFKA_BROKERS;
  const databaseUrl = process.env.DATABASE_URL;
  if (!brokers || !databaseUrl)
    throw new Error('KAFKA_BROKERS and DATABASE_URL must be set (npm run bench sets them)');
  const scale = num('scale', values.scale, 0.01);
  const rate = num('rate', values.rate, 1);
  const halfLifeMs = num('half-life', values['half-life'], 1000);
  let printed = false;
  const result = await runRoutingBench({
    onResult: (r) => {
      console.log(r.report);
      printed = true;
    },
    kafkaBrokers: brokers,
    databaseUrl,
    ...(scale !== undefined && { scale }),
    ...(rate !== undefined && { rate }),
    ...(halfLifeMs !== undefined && { halfLifeMs }),
    ...(values.svg !== undefined && { svgPath: path.resolve(values.svg) }),
  });
  if (!printed) console.log(result.report);
  return result.verdict.pass ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`routing-sim: ${(err as Error).stack ?? String(err)}`);
      process.exit(2);
    },
  );
}
