// Issue 21 item 3 across real processes (Kafka, PostgreSQL, SMPP): the demo's two simulated networks get
// probe handsets; sim-poor turns into a fake-DLR grey route (DELIVRD for everything, nothing delivered).
// Routing sends probes pinned to each connector (routing_probe_targets), the handsets' MO confirmations
// come back through egress and inbound (sms.inbound.v1), and:
//   - sim-poor's probes stay unconfirmed: routing publishes it as suspected (routing.suspicion.v1, reason
//     FAKE_RECEIPTS, with the probe evidence) and exports smshub_route_suspected{connector="sim-poor"};
//   - an OTP message of the demo rule (least cost: sim-poor first) is routed to sim-good first, sim-poor
//     demoted last with the reason saying why;
//   - sim-good's probes are confirmed and it is never suspected;
//   - probe messages are rated as internal: zero sell, the real buy cost, never the account's charge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { credentials, Metadata } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import {
  HubNumberKind,
  ProbeServiceClient,
  namespacedTopics,
  SmsSubmitted,
  SuspicionReason,
  TrafficType,
  topics,
  type BillingRated,
  type ListProbesResponse,
  type RouteSuspicion,
  type SmsRouted,
} from '@smshub/contracts';
import {
  createTestDatabase,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { AdminApi } from '../src/admin-client.js';
import { TopicReader } from '../src/topic-reader.js';

const HUB_NUMBER = '447700900555';
const PROBE_GOOD = '447700900101';
const PROBE_POOR = '447700900102';

let db: TestDatabase;
let hub: Hub | undefined;
let admin: AdminApi | undefined;
let sql: pg.Client | undefined;
let suspicion: TopicReader<RouteSuspicion> | undefined;
let routed: TopicReader<SmsRouted> | undefined;
let rated: TopicReader<BillingRated> | undefined;
let demoAccountId = '';
let probes: ProbeServiceClient | undefined;

/** A ProbeService call (admin's port) with the admin token. */
function probeCall<Req, Res>(
  method: (req: Req, md: Metadata, cb: (err: Error | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${hub!.secrets.adminToken}`);
  return new Promise((resolve, reject) =>
    method.call(probes, req, md, (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))),
  );
}

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${hub!.ports.simControl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as unknown;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function metricLine(service: string, prefix: string): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${hub!.ports.http[service]}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(prefix));
}

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    services: ['admin', 'ingress', 'routing', 'egress', 'dlr', 'inbound', 'rating'],
    envFor: {
      routing: {
        ROUTING_PROBE_TICK_MS: '500',
        ROUTING_PROBE_DEADLINE_MS: '8000',
        ROUTING_PROBE_LATE_MS: '5000',
        ROUTING_PROBE_WINDOW: '5',
        ROUTING_PROBE_MIN_BAD: '3',
      },
      inbound: { INBOUND_NUMBER_CACHE_MS: '0' },
    },
    readyTimeoutMs: 240_000,
  });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const { rows } = await sql.query<{ id: string }>(`SELECT id::text FROM accounts WHERE system_id = $1`, [
    hub.secrets.demoSystemId,
  ]);
  demoAccountId = rows[0]!.id;
  // The hub number the probe handsets answer to, assigned to the probe account (here the demo account).
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  await admin.call('createNumber', {
    number: {
      id: '',
      number: `+${HUB_NUMBER}`,
      kind: HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
      accountId: demoAccountId,
      keywords: [],
    },
  });
  const ns = namespacedTopics(topics, hub.namespace);
  suspicion = await TopicReader.start(testKafkaBrokers(), ns.suspicion);
  routed = await TopicReader.start(testKafkaBrokers(), ns.routed);
  rated = await TopicReader.start(testKafkaBrokers(), ns.rated);
  // The networks: handsets on both, sim-poor a fake-DLR route from now on.
  await control('/behaviour', { simulator: 'sim-good', handsets: { numbers: [PROBE_GOOD] } });
  await control('/behaviour', {
    simulator: 'sim-poor',
    handsets: { numbers: [PROBE_POOR] },
    fakeReceipts: { share: 1 },
    errorRates: {},
  });
  // One probe per second per connector, configured through admin's ProbeService (hubctl probes set).
  probes = new ProbeServiceClient(`127.0.0.1:${hub.ports.admin}`, credentials.createInsecure());
  for (const [id, connectorId, number] of [
    ['probe-good', 'sim-good', PROBE_GOOD],
    ['probe-poor', 'sim-poor', PROBE_POOR],
  ] as const)
    await probeCall(probes.setProbeTarget, {
      target: {
        id,
        connectorId,
        number: `+${number}`,
        destination: '',
        intervalS: 1,
        enabled: true,
        accountId: demoAccountId,
        sender: HUB_NUMBER,
        nextAt: undefined,
      },
    });
}, 300_000);

afterAll(async () => {
  await suspicion?.stop();
  await routed?.stop();
  await rated?.stop();
  probes?.close();
  await sql?.end();
  admin?.close();
  await hub?.stop();
  await db?.drop();
});

describe('grey routes: probes, suspicion, demotion', { timeout: 180_000 }, () => {
  it('suspects the fake-DLR connector from its unconfirmed probes and exports the alert metric', async () => {
    const s = await waitFor(
      () => suspicion!.records.map((r) => r.value).find((v) => v.connectorId === 'sim-poor' && v.suspected),
      { timeoutMs: 120_000, intervalMs: 500, what: 'sim-poor suspected on routing.suspicion.v1' },
    );
    expect(s.reasons).toContain(SuspicionReason.SUSPICION_REASON_FAKE_RECEIPTS);
    expect(s.probes?.unconfirmed).toBeGreaterThanOrEqual(3);
    expect(s.summary).toMatch(/probes DELIVRD without a handset confirmation/);
    // The simulator did fake them: DELIVRD receipts for probes it never delivered.
    const state = (await control('/behaviour?simulator=sim-poor')) as {
      simulators: Array<{ counters: { fakeReceipts: number; handsetDeliveries: number } }>;
    };
    expect(state.simulators[0]!.counters.fakeReceipts).toBeGreaterThanOrEqual(3);
    expect(state.simulators[0]!.counters.handsetDeliveries).toBe(0);
    const line = await waitFor(
      () => metricLine('routing', 'smshub_route_suspected{connector="sim-poor",reason="fake_receipts"}'),
      { timeoutMs: 30_000, what: 'the suspicion metric' },
    );
    expect(line.endsWith(' 1')).toBe(true);
  });

  it('confirms the honest connector: its handset answers every probe and it is never suspected', async () => {
    const confirmed = await waitFor(
      async () => {
        const { rows } = await sql!.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM routing_probes WHERE connector_id = 'sim-good' AND confirmed_at IS NOT NULL`,
        );
        return rows[0]!.n >= 3 ? rows[0]!.n : undefined;
      },
      { timeoutMs: 60_000, what: 'three confirmed sim-good probes' },
    );
    expect(confirmed).toBeGreaterThanOrEqual(3);
    const { rows } = await sql!.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM routing_probes WHERE connector_id = 'sim-poor' AND confirmed_at IS NOT NULL`,
    );
    expect(rows[0]!.n).toBe(0);
    // sim-poor's suspicion was published after sim-good had probes evaluated too: no record for sim-good.
    expect(suspicion!.records.filter((r) => r.value.connectorId === 'sim-good')).toEqual([]);
  });

  it('demotes the suspected connector in an OTP decision of the demo rule, saying why', async () => {
    const messageId = randomUUID();
    const kafka = new Kafka({
      clientId: 'e2e-grey',
      brokers: testKafkaBrokers(),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const ns = namespacedTopics(topics, hub!.namespace);
      await producer.send({
        topic: ns.submitted.name,
        messages: [
          {
            key: messageId,
            value: Buffer.from(
              ns.submitted.encode(
                SmsSubmitted.fromPartial({
                  messageId,
                  accountId: demoAccountId,
                  systemId: hub!.secrets.demoSystemId,
                  source: { ton: 5, npi: 0, address: 'BANK' },
                  destination: { ton: 1, npi: 1, address: '447400123456' },
                  shortMessage: Buffer.from('Your code is 424242'),
                  receivedAt: new Date(),
                  customerMessageId: messageId,
                  trafficType: TrafficType.TRAFFIC_TYPE_OTP,
                }),
              ),
            ),
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const r = await waitFor(() => routed!.byKey(messageId)[0], { timeoutMs: 60_000, what: 'the OTP routed' });
    // The demo rule is least cost with sim-poor (cheaper) first: demoted, it comes last.
    expect(r.candidates.map((c) => c.connectorId)).toEqual(['sim-good', 'sim-poor']);
    expect(r.candidates[1]!.reason).toMatch(/demoted: suspected grey route \(fake receipts\)/);
  });

  it('rates probe messages as internal: no sell price, the real buy cost', async () => {
    const { rows } = await sql!.query<{ message_id: string }>(
      `SELECT message_id::text FROM routing_probes WHERE receipt_status IS NOT NULL ORDER BY sent_at LIMIT 5`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const ids = new Set(rows.map((r) => r.message_id));
    const records = await waitFor(
      () => {
        const got = rated!.records.map((r) => r.value).filter((v) => ids.has(v.messageId));
        return got.length > 0 ? got : undefined;
      },
      { timeoutMs: 60_000, what: 'rated records of probes' },
    );
    for (const rec of records) {
      expect(rec.internal).toBe(true);
      expect(rec.sell?.minorUnits ?? 0n).toBe(0n);
      expect(rec.accountId).toBe(demoAccountId);
    }
    expect(records.some((rec) => (rec.buy?.minorUnits ?? 0n) > 0n)).toBe(true);
  });

  it('an operator clears the suspicion through admin: routing publishes it cleared, by that operator', async () => {
    const before = suspicion!.records.length;
    await probeCall(probes!.clearSuspicion, { connectorId: 'sim-poor' });
    const cleared = await waitFor(
      () =>
        suspicion!.records
          .slice(before)
          .map((r) => r.value)
          .find((v) => v.connectorId === 'sim-poor' && !v.suspected),
      { timeoutMs: 60_000, what: 'the cleared record of sim-poor' },
    );
    expect(cleared.clearedBy).toMatch(/^operator:/);
    expect(cleared.reasons).toEqual([]);
    const listed: ListProbesResponse = await probeCall(probes!.listProbes, {
      connectorId: 'sim-poor',
      limit: 5,
    });
    expect(listed.probes.length).toBeGreaterThan(0);
    expect(listed.probes.every((p) => p.confirmedAt === undefined)).toBe(true);
  });
});
