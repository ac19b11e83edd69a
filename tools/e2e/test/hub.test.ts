// End-to-end over the whole running hub (issue #8): every service and the SMSC simulator as real processes
// (libs/testing startHub, one hub for the whole suite: six processes on a shared machine) with the demo
// configuration, a real SMPP client as the customer, an OTLP receiver standing in for the tracing collector,
// and the admin API changing the configuration while the hub runs. What is asserted is what a customer,
// finance or an operator would see: submit_sm_resp ids and command statuses, deliver_sm receipts,
// billing.rated.v1 records, hubctl's timeline, traces, and that no process was restarted.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  AccountState,
  BillingMode,
  BillingRated,
  ChargeOn,
  FirewallAction,
  GetMessageRequest,
  MessageIdFormat,
  MessageServiceClient,
  namespacedTopics,
  RatedStatus,
  RouteStrategy,
  SmsDispatched,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  topics,
  TrafficType,
  type GetMessageResponse,
} from '@smshub/contracts';
import {
  createTestDatabase,
  freePort,
  repoRoot,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { AdminApi } from '../src/admin-client.js';
import { acceptedId, Esme, type SubmitOutcome } from '../src/esme.js';
import { OtlpReceiver } from '../src/otlp-receiver.js';
import { TopicReader } from '../src/topic-reader.js';

// A UK number (demo sell rate GB: EUR 0.04 per segment).
const UK = '447400123456';
// A German number (Telekom, prefix 49151): the failover rule below is scoped to Germany.
const DE = '4915112345678';

let db: TestDatabase;
let hub: Hub | undefined;
let otlp: OtlpReceiver;
let esme: Esme | undefined;
let admin: AdminApi | undefined;
let messages: MessageServiceClient | undefined;
let ratedReader: TopicReader<BillingRated> | undefined;
let rejectedReader: TopicReader<SmsRejected> | undefined;
let dispatchedReader: TopicReader<SmsDispatched> | undefined;
let submittedReader: TopicReader<SmsSubmitted> | undefined;
let routedReader: TopicReader<SmsRouted> | undefined;
/** pid of every hub process right after start: none may change. */
let pids: Record<string, number | undefined> = {};

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  otlp = await OtlpReceiver.start();
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    // Both simulated networks deliver everything at once: receipts and prices are deterministic.
    demoProfile: 'bench',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' },
    // tsx compiles each service's sources at start: slow when the machine is busy.
    readyTimeoutMs: 240_000,
  });
  pids = Object.fromEntries([...hub.processes.values()].map((p) => [p.name, p.pid]));
  ratedReader = await TopicReader.start(testKafkaBrokers(), ns().rated);
  rejectedReader = await TopicReader.start(testKafkaBrokers(), ns().rejected);
  dispatchedReader = await TopicReader.start(testKafkaBrokers(), ns().dispatched);
  submittedReader = await TopicReader.start(testKafkaBrokers(), ns().submitted);
  routedReader = await TopicReader.start(testKafkaBrokers(), ns().routed);
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  messages = new MessageServiceClient(`127.0.0.1:${hub.ports.messages}`, credentials.createInsecure());
  esme = await Esme.bind({
    port: hub.ports.smpp,
    systemId: hub.secrets.demoSystemId,
    password: hub.secrets.demoPassword,
  });
}, 300_000);

afterAll(async () => {
  await esme?.close();
  admin?.close();
  messages?.close();
  for (const r of [ratedReader, rejectedReader, dispatchedReader, submittedReader, routedReader])
    await r?.stop();
  await hub?.stop();
  await otlp?.stop();
  await db?.drop();
}, 120_000);

/** Hub ids of every message accepted in this file (the billing test counts their records). */
const accepted: string[] = [];
/**
 * The other countries the README says the demo serves, each with a number whose prefix is not in the
 * sample prefix table (services/routing/data/sample-prefixes.csv): routing must price it by its country,
 * as rating does. Hub id -> country of those accepted (the billing test checks their records too).
 */
const README_COUNTRIES: Record<string, string> = {
  DE: '4917812345678',
  FR: '33644123456',
  NG: '2348012345678',
  IN: '919876543210',
  US: '12025550123',
};
const elsewhere = new Map<string, string>();

function ns() {
  return namespacedTopics(topics, hub!.namespace);
}
function rated(): TopicReader<BillingRated> {
  if (!ratedReader) throw new Error('no billing.rated.v1 reader');
  return ratedReader;
}
function rejected(): TopicReader<SmsRejected> {
  if (!rejectedReader) throw new Error('no sms.rejected.v1 reader');
  return rejectedReader;
}
function dispatched(): TopicReader<SmsDispatched> {
  if (!dispatchedReader) throw new Error('no sms.dispatched.v1 reader');
  return dispatchedReader;
}

interface CliResult {
  stdout: string;
  json: unknown;
}

/**
 * Runs the real hubctl CLI (its bin) against this hub; rejects with its output when it fails. Not
 * blocking: the customer's SMPP bind in this process goes on taking receipts while the tool runs.
 */
function hubctl(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'tools/hubctl/bin/hubctl.mjs'), ...args], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HUBCTL_ADMIN_ADDR: `127.0.0.1:${hub!.ports.admin}`,
        HUBCTL_MESSAGES_ADDR: `127.0.0.1:${hub!.ports.messages}`,
        HUBCTL_SETTLEMENT_ADDR: `127.0.0.1:${hub!.ports.settlement}`,
        HUBCTL_TOKEN: hub!.secrets.adminToken,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`hubctl ${args.join(' ')} exited ${code ?? signal}: ${stderr}${stdout}`));
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ stdout, json });
    });
  });
}

/** The kinds of a timeline in hubctl's JSON (the proto3 JSON of GetMessageResponse), in order. */
function timelineKinds(json: unknown): string[] {
  const timeline = (json as { timeline?: Array<Record<string, unknown>> } | undefined)?.timeline ?? [];
  const kinds = ['submitted', 'routed', 'rejected', 'dispatched', 'receipt', 'delivery', 'rated'];
  return timeline.map((e) => kinds.find((k) => e[k] !== undefined) ?? 'unknown');
}

function customer(): Esme {
  if (!esme) throw new Error('no SMPP bind');
  return esme;
}

function api(): AdminApi {
  if (!admin) throw new Error('no admin client');
  return admin;
}

/** One sample of a Prometheus gauge/counter from a process's /metrics (sum over matching series). */
async function metric(process: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${hub!.ports.http[process]}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

function getMessage(id: string): Promise<GetMessageResponse> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${hub!.secrets.adminToken}`);
  return new Promise((resolve, reject) =>
    messages!.getMessage(GetMessageRequest.fromPartial({ messageId: id }), md, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

function expectNoRestart(): void {
  expect(hub!.crashes()).toEqual([]);
  expect(Object.fromEntries([...hub!.processes.values()].map((p) => [p.name, p.pid]))).toEqual(pids);
}

// Generous: every step crosses five processes and Kafka several times, on a machine the suite shares.
describe('a customer over SMPP', { timeout: 120_000 }, () => {
  it('gets a hub id and a DELIVRD receipt with that id for GSM7, UCS2 and long messages', async () => {
    const gsm7 = acceptedId((await customer().submitText(UK, 'Your code is 123456 @ £5'))[0]!);
    const ucs2 = await customer().submitText(UK, 'Код подтверждения: 4711 ✓');
    expect(ucs2).toHaveLength(1);
    const ucs2Id = acceptedId(ucs2[0]!);
    const long = await customer().submitText(UK, 'A long message. '.repeat(20));
    expect(long).toHaveLength(3);
    const longIds = long.map(acceptedId);

    const ids = [gsm7, ucs2Id, ...longIds];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const id of ids) {
      const receipt = await customer().receipt(id, 60_000);
      expect(receipt.id).toBe(id);
      expect(receipt.stat, receipt.text).toBe('DELIVRD');
    }
    accepted.push(...ids);
    expect(hub?.crashes()).toEqual([]);
  });

  it('gets a DELIVRD receipt from every country the README names, numbers outside the prefix table too', async () => {
    for (const [country, number] of Object.entries(README_COUNTRIES)) {
      const id = acceptedId((await customer().submitText(number, `Hello ${country}`))[0]!);
      elsewhere.set(id, country);
    }
    for (const [id, country] of elsewhere) {
      const receipt = await customer().receipt(id, 60_000);
      expect(receipt.stat, `${country}: ${receipt.text}`).toBe('DELIVRD');
    }
  });

  it('gets a REJECTD receipt for a text the firewall blocks, and the message is never dispatched', async () => {
    const blocked = acceptedId((await customer().submitText(UK, 'Win big at the casino tonight'))[0]!);
    const receipt = await customer().receipt(blocked);
    expect(receipt.stat).toBe('REJECTD');
    const rejection = await waitFor(() => rejected().byKey(blocked)[0], {
      what: 'the sms.rejected.v1 record',
    });
    expect(rejection.ruleId).toBe('demo-keyword-casino');
    accepted.push(blocked);

    // A message sent after it is dispatched; by then egress would have seen the blocked one too.
    const after = acceptedId((await customer().submitText(UK, 'After the blocked one'))[0]!);
    await waitFor(() => dispatched().records.some((r) => r.value.context?.messageId === after), {
      timeoutMs: 30_000,
      what: 'the dispatch of the next message',
    });
    expect((await customer().receipt(after)).stat).toBe('DELIVRD');
    accepted.push(after);
    expect(dispatched().records.filter((r) => r.value.context?.messageId === blocked)).toEqual([]);
  });
});

describe('an operator', { timeout: 120_000 }, () => {
  it('reads a message timeline with hubctl: submitted, routed, dispatched, delivered', async () => {
    const id = acceptedId((await customer().submitText(UK, 'Where did my message go?'))[0]!);
    expect((await customer().receipt(id)).stat).toBe('DELIVRD');
    accepted.push(id);
    // The timeline is written by dlr as it consumes; the receipt can overtake the last rows.
    const shown = await waitFor(
      async () => {
        const out = await hubctl(['messages', 'get', id, '--output', 'json']);
        const kinds = timelineKinds(out.json);
        return ['submitted', 'routed', 'dispatched', 'delivery'].every((k) => kinds.includes(k)) && out;
      },
      // Each try is a hubctl run from the sources (tsx): 13-16 s at load 34, so 30 s allowed only two.
      { timeoutMs: 90_000, intervalMs: 500, what: `hubctl to show the whole timeline of ${id}` },
    );
    const json = shown.json as {
      message?: { context?: { messageId?: string }; status?: string; connectorId?: string };
    };
    expect(json.message?.context?.messageId).toBe(id);
    expect(json.message?.status).toBe('DELIVERY_STATUS_DELIVERED');
    expect(json.message?.connectorId).toBe('sim-poor');
    const kinds = timelineKinds(shown.json);
    expect(kinds.indexOf('submitted')).toBeLessThan(kinds.indexOf('routed'));
    expect(kinds.indexOf('routed')).toBeLessThan(kinds.indexOf('dispatched'));
    expect(kinds.lastIndexOf('delivery')).toBeGreaterThan(kinds.indexOf('dispatched'));

    // The table form names the same message.
    const table = await hubctl(['messages', 'get', id]);
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain('sim-poor');
  });
});

describe('tracing', { timeout: 120_000 }, () => {
  it('one message is one trace, with spans from ingress, routing, egress, dlr and rating', async () => {
    const id = acceptedId((await customer().submitText(UK, 'Trace me'))[0]!);
    expect((await customer().receipt(id)).stat).toBe('DELIVRD');
    accepted.push(id);
    const submitted = await waitFor(() => submittedReader!.byKeyRecords(id)[0], {
      what: 'the sms.submitted.v1 record',
    });
    const traceId = submitted.traceId;
    expect(traceId, 'ingress put a traceparent header on sms.submitted.v1').toMatch(/^[0-9a-f]{32}$/);
    // The same trace travels on every record about this message.
    const rec = await waitFor(() => ratedReader?.byKeyRecords(id)[0], {
      timeoutMs: 30_000,
      what: 'the rated record',
    });
    expect(rec.traceId, 'billing.rated.v1 carries the trace of the submission').toBe(traceId);

    // service.name of each process's telemetry resource.
    const services = ['ingress', 'routing', 'egress', 'dlr', 'rating'].map((s) => `smshub-${s}`);
    // A span is exported when it ends, its parent later than its children: wait for every service and for
    // every parent (the assertions below then say which is missing, if one never comes).
    const complete = (got: ReturnType<typeof otlp.trace>) => {
      const have = new Set(got.map((s) => s.spanId));
      return got.every((s) => !s.parentSpanId || have.has(s.parentSpanId));
    };
    const spans = await waitFor(
      () => {
        const got = otlp.trace(traceId!);
        return services.every((s) => got.some((span) => span.service === s)) && complete(got) && got;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `spans of every service in trace ${traceId}` },
    ).catch((err: Error) => {
      const got = otlp.trace(traceId!);
      if (services.every((s) => got.some((span) => span.service === s))) return got; // a parent is missing
      throw new Error(
        `${err.message}; spans in the trace: ${got.map((s) => `${s.service}:${s.name}`).join(', ') || 'none'}; ` +
          `services that exported any span: ${[...new Set(otlp.spans.map((s) => s.service))].join(', ') || 'none'}`,
      );
    });
    expect(otlp.problems).toEqual([]);
    // One trace: exactly one root (the ingress span), every other span's parent is in the trace.
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => s.service)).toEqual(['smshub-ingress']);
    for (const s of spans)
      if (s.parentSpanId) expect(ids.has(s.parentSpanId), `${s.service}:${s.name}'s parent`).toBe(true);
  });
});

describe('finance', { timeout: 120_000 }, () => {
  it('billing.rated.v1 carries exactly one record per accepted message, with the demo prices', async () => {
    expect(accepted.length).toBeGreaterThan(0);
    // Every receipt is in (so rating has seen every final status); wait until rating has consumed all of
    // its input and the reader has read all of rating's output, then count.
    for (const id of [...accepted, ...elsewhere.keys()]) await customer().receipt(id);
    const group = `${hub!.namespace}.smshub-rating`;
    await waitFor(
      async () =>
        (await rated().groupConsumedAll(group, ns().delivery.name)) &&
        (await rated().groupConsumedAll(group, ns().dispatched.name)) &&
        (await rated().caughtUp()),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'rating to consume every delivery and the reader to catch up',
      },
    );
    expect(rated().undecodable).toEqual([]);
    const keys = rated().records.map((r) => r.key);
    expect(keys.sort()).toEqual([...accepted, ...elsewhere.keys()].sort());
    // Every README country is charged at its own demo rates: routing and rating agree on the country.
    for (const [id, country] of elsewhere)
      expect(rated().byKey(id)[0]).toMatchObject({
        status: RatedStatus.RATED_STATUS_CHARGED,
        destinationCountry: country,
        sellRateId: `demo-sell-${country.toLowerCase()}`,
        buyRateId: `${rated().byKey(id)[0]?.connectorId}-buy-${country.toLowerCase()}`,
      });

    // Rated amounts are whole cents (the currency's exponent, docs/finance.md).
    const euros = (cents: number) => ({ currencyCode: 'EUR', minorUnits: BigInt(cents), scale: 2 });
    for (const id of accepted) {
      const [record] = rated().byKey(id);
      expect(record?.messageId).toBe(id);
      expect(record?.accountId).toMatch(/^[0-9a-f-]{36}$/);
      const rejectedByHub = rejected().byKey(id).length > 0;
      if (rejectedByHub) {
        expect(record?.status).toBe(RatedStatus.RATED_STATUS_NOT_CHARGED);
        expect(record?.sell?.minorUnits ?? 0n).toBe(0n);
        expect(record?.buy?.minorUnits ?? 0n).toBe(0n);
        continue;
      }
      // Least cost: sim-poor (buy GB EUR 0.02) before sim-good (0.03); the account pays EUR 0.04 (ops demo rates).
      expect(record).toMatchObject({
        status: RatedStatus.RATED_STATUS_CHARGED,
        connectorId: 'sim-poor',
        supplierId: 'demo-poor-telecom',
        destinationCountry: 'GB',
        segments: 1,
        sell: euros(4),
        buy: euros(2),
        margin: euros(2),
        sellRateId: 'demo-sell-gb',
        buyRateId: 'sim-poor-buy-gb',
      });
    }
  });
});

describe('configuration through the admin API, while the hub runs', { timeout: 120_000 }, () => {
  it('a new firewall rule stops the next matching message (REJECTD), with no process restarted', async () => {
    const before = acceptedId((await customer().submitText(UK, 'You won the jackpot!'))[0]!);
    expect((await customer().receipt(before)).stat).toBe('DELIVRD');
    const firewallRules = await metric('routing', 'smshub_routing_tables_entries', { kind: 'firewallRules' });

    await api().call('createFirewallRule', {
      firewallRule: {
        id: 'e2e-keyword-jackpot',
        name: 'e2e: no jackpot offers',
        priority: 0,
        enabled: true,
        action: FirewallAction.FIREWALL_ACTION_BLOCK,
        accountIds: [],
        sourcePatterns: [],
        senders: [],
        destinationPrefixes: [],
        contentPatterns: [],
        trafficTypes: [],
        customerErrorCode: '',
        revision: 0n,
        kind: 'keyword',
        paramsJson: JSON.stringify({ keywords: ['jackpot'] }),
        accountGroups: [],
        countries: [],
        reason: 'e2e keyword rule: "jackpot"',
      },
    });
    // routing announces the tables in force on /metrics: wait until it holds one more firewall rule.
    await waitFor(
      async () =>
        (await metric('routing', 'smshub_routing_tables_entries', { kind: 'firewallRules' })) ===
        firewallRules + 1,
      { timeoutMs: 30_000, intervalMs: 200, what: 'routing to load the new firewall rule' },
    );

    const after = acceptedId((await customer().submitText(UK, 'You won the jackpot again!'))[0]!);
    expect((await customer().receipt(after)).stat).toBe('REJECTD');
    const rejection = await waitFor(() => rejected().byKey(after)[0], { what: 'the rejection' });
    expect(rejection.ruleId).toBe('e2e-keyword-jackpot');
    // Other traffic is unaffected.
    const other = acceptedId((await customer().submitText(UK, 'An ordinary message'))[0]!);
    expect((await customer().receipt(other)).stat).toBe('DELIVRD');
    expectNoRestart();
  });

  it('a failing connector ranked first: traffic fails over to the next one and is delivered', async () => {
    const first = acceptedId((await customer().submitText(UK, 'Which account am I?'))[0]!);
    const accountId = (await waitFor(() => submittedReader!.byKey(first)[0], { what: 'the submission' }))
      .accountId;
    const deadPort = await freePort(); // nobody listens there: the connector never binds
    await api().call('createConnector', {
      connector: {
        id: 'e2e-dead',
        name: 'e2e: a supplier that is down',
        supplierId: 'e2e-dead-telecom',
        enabled: true,
        binds: [
          {
            host: '127.0.0.1',
            port: deadPort,
            tls: false,
            systemId: 'e2e-dead',
            passwordSecretRef: '',
            systemType: '',
            interfaceVersion: 0x34,
            sessions: 1,
            transceiver: true,
            password: 'deadpass',
          },
        ],
        windowSize: 10,
        maxSubmitRate: 10,
        responseTimeoutMs: 2000,
        messageIdFormat: MessageIdFormat.MESSAGE_ID_FORMAT_VERBATIM,
        receiptTimeZone: '',
        supportsMessagePayload: false,
        currencyCode: 'EUR',
        revision: 0n,
      },
    });
    const rules = await metric('routing', 'smshub_routing_tables_entries', { kind: 'rules' });
    await api().call('createRoutingRule', {
      routingRule: {
        id: 'e2e-failover-de',
        name: 'e2e: Germany via the dead connector first, sim-good as failover',
        priority: 100,
        enabled: true,
        accountIds: [accountId],
        destinationPrefixes: [],
        mccMncs: [],
        trafficTypes: [],
        strategy: RouteStrategy.ROUTE_STRATEGY_PRIORITY,
        targets: [
          { connectorId: 'e2e-dead', weight: 1 },
          { connectorId: 'sim-good', weight: 1 },
        ],
        revision: 0n,
        accountGroups: [],
        countries: ['DE'],
        senders: [],
        strategyCurrency: '',
        block: false,
        blockReason: '',
      },
    });
    await waitFor(
      async () => (await metric('routing', 'smshub_routing_tables_entries', { kind: 'rules' })) === rules + 1,
      { timeoutMs: 30_000, intervalMs: 200, what: 'routing to load the new rule' },
    );

    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(acceptedId((await customer().submitText(DE, `Failover message ${i}`))[0]!));
    for (const id of ids) {
      const receipt = await customer().receipt(id, 60_000);
      expect(receipt.stat, receipt.text).toBe('DELIVRD');
      const routed = await waitFor(() => routedReader!.byKey(id)[0], { what: `the routing of ${id}` });
      expect(routed.candidates.map((c) => c.connectorId)).toEqual(['e2e-dead', 'sim-good']);
      // The operator's view: delivered through sim-good.
      const shown = await waitFor(
        async () => {
          const m = await getMessage(id);
          return m.message?.final && m.message.connectorId ? m : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 300, what: `the final state of ${id}` },
      );
      expect(shown.message?.connectorId).toBe('sim-good');
    }
    // UK traffic still takes the demo rule.
    const uk = acceptedId((await customer().submitText(UK, 'Still the demo route'))[0]!);
    expect((await customer().receipt(uk)).stat).toBe('DELIVRD');
    const ukRouted = await waitFor(() => routedReader!.byKey(uk)[0], {
      what: 'the routing of the UK message',
    });
    expect(ukRouted.candidates[0]?.connectorId).toBe('sim-poor');
    expectNoRestart();
  });

  it('an account with no credit (made through admin) is refused with ESME_RSUBMITFAIL once ingress knows its balance', async () => {
    const password = 'Br0ke123';
    const created = await api().call('createAccount', {
      account: {
        id: '',
        name: 'e2e: prepaid account without credit',
        state: AccountState.ACCOUNT_STATE_ACTIVE,
        billingMode: BillingMode.BILLING_MODE_PREPAID,
        currencyCode: 'EUR',
        smppCredentials: [
          {
            systemId: 'e2ebroke',
            passwordHash: '',
            allowedCidrs: [],
            maxBinds: 2,
            maxSubmitRate: 50,
            windowSize: 10,
            password,
          },
        ],
        defaultTrafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
        allowedSources: [],
        receiptIncludeText: false,
        messageIdFormat: '',
        revision: 0n,
        routingGroup: '',
        defaultCountry: 'GB',
        pricePlanId: '',
        defaultValiditySeconds: 0,
        chargeOn: ChargeOn.CHARGE_ON_SUBMIT,
        // This test is about credit: the account has no sell rate, which refuse_unrated (on by default for
        // new accounts) would answer with ESME_RINVDSTADR before ingress knows the balance.
        refuseUnrated: false,
      },
    });
    const accountId = created.account?.id ?? '';
    expect(accountId).toMatch(/^[0-9a-f-]{36}$/);
    // No top-up and no credit limit: spendable is zero, which admin announces on balances.v1.
    await api().call('setCreditLimit', {
      accountId,
      creditLimit: { currencyCode: 'EUR', minorUnits: 0n, scale: 2 },
    });

    const broke = await Esme.bind({ port: hub!.ports.smpp, systemId: 'e2ebroke', password });
    try {
      const refused = await waitFor(
        async () => {
          const out: SubmitOutcome = (await broke.submitText(UK, 'Can I send without credit?'))[0]!;
          return out.ok ? undefined : out;
        },
        { timeoutMs: 30_000, intervalMs: 300, what: 'ingress to refuse the account without credit' },
      );
      expect(refused.statusName).toBe('ESME_RSUBMITFAIL');
      expect(refused.commandStatus).toBe(0x45);

      // A top-up through admin lets the account submit again.
      await api().call('createTopUp', {
        accountId,
        amount: { currencyCode: 'EUR', minorUnits: 500n, scale: 2 },
        idempotencyKey: 'e2e-broke-topup-1',
        reference: 'e2e',
      });
      const accepted = await waitFor(
        async () => {
          const out = (await broke.submitText(UK, 'Now with credit'))[0]!;
          return out.ok ? out : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 300, what: 'ingress to accept the account after its top-up' },
      );
      expect(acceptedId(accepted)).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await broke.close();
    }
    expectNoRestart();
  });
});
