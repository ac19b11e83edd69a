// End-to-end over the whole running hub (issue #8): configuration changed through the admin API while the
// hub runs takes effect for the next messages with no process restarted — a new firewall rule, a failing
// connector ranked first (traffic fails over around it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountState,
  BillingMode,
  ChargeOn,
  FirewallAction,
  GetMessageRequest,
  MessageIdFormat,
  MessageServiceClient,
  namespacedTopics,
  RouteStrategy,
  TrafficType,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  topics,
  type GetMessageResponse,
} from '@smshub/contracts';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  createTestDatabase,
  freePort,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { AdminApi } from '../src/admin-client.js';
import { acceptedId, Esme, type SubmitOutcome } from '../src/esme.js';
import { TopicReader } from '../src/topic-reader.js';

const UK = '447400123456';
// A German number (Telekom, prefix 49151): the failover rule below is scoped to Germany.
const DE = '4915112345678';

let db: TestDatabase;
let hub: Hub | undefined;
let esme: Esme | undefined;
let admin: AdminApi | undefined;
let messages: MessageServiceClient | undefined;
let submittedReader: TopicReader<SmsSubmitted> | undefined;
let routedReader: TopicReader<SmsRouted> | undefined;
let rejectedReader: TopicReader<SmsRejected> | undefined;
/** pid of every hub process right after start: none may change. */
let pids: Record<string, number | undefined> = {};

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    demoProfile: 'bench',
  });
  pids = Object.fromEntries([...hub.processes.values()].map((p) => [p.name, p.pid]));
  const ns = namespacedTopics(topics, hub.namespace);
  submittedReader = await TopicReader.start(testKafkaBrokers(), ns.submitted);
  routedReader = await TopicReader.start(testKafkaBrokers(), ns.routed);
  rejectedReader = await TopicReader.start(testKafkaBrokers(), ns.rejected);
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  messages = new MessageServiceClient(`127.0.0.1:${hub.ports.messages}`, credentials.createInsecure());
  esme = await Esme.bind({
    port: hub.ports.smpp,
    systemId: hub.secrets.demoSystemId,
    password: hub.secrets.demoPassword,
  });
}, 240_000);

afterAll(async () => {
  await esme?.close();
  admin?.close();
  messages?.close();
  await submittedReader?.stop();
  await routedReader?.stop();
  await rejectedReader?.stop();
  await hub?.stop();
  await db?.drop();
}, 120_000);

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

describe('configuration through the admin API, while the hub runs', () => {
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
    const rejection = await waitFor(() => rejectedReader!.byKey(after)[0], { what: 'the rejection' });
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
