// Re-routing of fast failures (issue 21 item 2) over the running hub: admin, routing, egress, dlr, rating
// and ingress as real processes (libs/testing startHub, DEMO_PROFILE=bench: sim-good delivers everything
// at once), plus SMSC simulators in this process standing for suppliers that fail: one answers UNDELIV at
// once, one EXPIRED at once, one UNDELIV only after 2.5 s. A real SMPP client is the customer.
//
// What a customer, finance and an operator see: one DELIVRD receipt for a message whose first supplier
// failed fast (re-routed to sim-good); a single sale on billing.rated.v1; both dispatches and the
// re-route in GetMessage. And the failures that must stand: EXPIRED (may mean delivered), a rule with
// re-route off, a failure after the rule's window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  BillingRated,
  GetMessageRequest,
  MessageIdFormat,
  MessageServiceClient,
  namespacedTopics,
  RateDirection,
  RouteStrategy,
  SmsDelivery,
  topics,
  type GetMessageResponse,
} from '@smshub/contracts';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
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
import { acceptedId, Esme } from '../src/esme.js';
import { TopicReader } from '../src/topic-reader.js';

// UK numbers (demo sell rate GB: EUR 0.04), one prefix per rule below.
const ON = '447400100001';
const OFF = '447400200001';
const EXPIRED = '447400300001';
const SLOW = '447400400001';

let db: TestDatabase;
let hub: Hub | undefined;
let esme: Esme | undefined;
let admin: AdminApi | undefined;
let messages: MessageServiceClient | undefined;
let ratedReader: TopicReader<BillingRated> | undefined;
let deliveryReader: TopicReader<SmsDelivery> | undefined;
const sims: Simulator[] = [];

/** A supplier whose every accepted message gets the receipt `stat` after `delayMs`. */
async function failingSupplier(id: string, stat: 'UNDELIV' | 'EXPIRED', delayMs: number): Promise<void> {
  const sim = createSimulator({
    systemId: id,
    password: 'pw12345',
    seed: 21,
    acceptLatencyMs: { min: 1, max: 5 },
    receipts: { mix: { [stat]: 1 }, delayMs },
  });
  sims.push(sim);
  const { port } = await sim.listen(0);
  await api().call('createConnector', {
    connector: {
      id,
      name: `e2e: answers ${stat} after ${delayMs} ms`,
      supplierId: `${id}-telecom`,
      enabled: true,
      binds: [
        {
          host: '127.0.0.1',
          port,
          tls: false,
          systemId: id,
          passwordSecretRef: '',
          systemType: '',
          interfaceVersion: 0x34,
          sessions: 1,
          transceiver: true,
          password: 'pw12345',
        },
      ],
      windowSize: 10,
      maxSubmitRate: 50,
      responseTimeoutMs: 5000,
      messageIdFormat: MessageIdFormat.MESSAGE_ID_FORMAT_VERBATIM,
      receiptTimeZone: '',
      supportsMessagePayload: false,
      currencyCode: 'EUR',
      revision: 0n,
    },
  });
  // Its buy price for GB: EUR 0.01 per segment (sim-good's demo price differs).
  await api().call('createRate', {
    rate: {
      id: `${id}-buy-gb`,
      direction: RateDirection.RATE_DIRECTION_BUY,
      partyId: id,
      destinationPrefix: '',
      mccMnc: '',
      countryCode: 'GB',
      trafficType: 0,
      price: { currencyCode: 'EUR', minorUnits: 10_000n, scale: 6 },
      validFrom: new Date(Date.now() - 86_400_000),
      revision: 0n,
      pricePlanId: '',
      inbound: false,
    },
  });
}

async function rule(
  id: string,
  prefix: string,
  first: string,
  reroute: { enabled: boolean; windowMs?: number },
): Promise<void> {
  await api().call('createRoutingRule', {
    routingRule: {
      id,
      name: `e2e re-route: ${id}`,
      priority: 500,
      enabled: true,
      accountIds: [],
      destinationPrefixes: [prefix],
      mccMncs: [],
      trafficTypes: [],
      strategy: RouteStrategy.ROUTE_STRATEGY_PRIORITY,
      targets: [
        { connectorId: first, weight: 1 },
        { connectorId: 'sim-good', weight: 1 },
      ],
      revision: 0n,
      accountGroups: [],
      countries: [],
      senders: [],
      strategyCurrency: '',
      block: false,
      blockReason: '',
      reroute: { ...reroute, failures: [], exceptErrors: [] },
    },
  });
}

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    demoProfile: 'bench',
    services: ['admin', 'routing', 'egress', 'dlr', 'rating', 'ingress'],
    // routing's gRPC API (task B) on a free port: other hubs may run on this machine.
    envFor: { routing: { GRPC_PORT: String(await freePort()) } },
    // tsx compiles each service's sources at start: slow when the machine is busy.
    readyTimeoutMs: 300_000,
  });
  const ns = namespacedTopics(topics, hub.namespace);
  ratedReader = await TopicReader.start(testKafkaBrokers(), ns.rated);
  deliveryReader = await TopicReader.start(testKafkaBrokers(), ns.delivery);
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  messages = new MessageServiceClient(`127.0.0.1:${hub.ports.messages}`, credentials.createInsecure());
  await failingSupplier('e2e-undeliv', 'UNDELIV', 50);
  await failingSupplier('e2e-expired', 'EXPIRED', 50);
  await failingSupplier('e2e-slow', 'UNDELIV', 2500);
  await rule('e2e-reroute-on', '4474001', 'e2e-undeliv', { enabled: true });
  await rule('e2e-reroute-off', '4474002', 'e2e-undeliv', { enabled: false });
  await rule('e2e-reroute-expired', '4474003', 'e2e-expired', { enabled: true });
  await rule('e2e-reroute-window', '4474004', 'e2e-slow', { enabled: true, windowMs: 1000 });
  esme = await Esme.bind({
    port: hub.ports.smpp,
    systemId: hub.secrets.demoSystemId,
    password: hub.secrets.demoPassword,
  });
}, 400_000);

afterAll(async () => {
  await esme?.close();
  admin?.close();
  messages?.close();
  await ratedReader?.stop();
  await deliveryReader?.stop();
  await hub?.stop();
  await Promise.all(sims.map((s) => s.close()));
  await db?.drop();
}, 120_000);

function api(): AdminApi {
  if (!admin) throw new Error('no admin client');
  return admin;
}
function customer(): Esme {
  if (!esme) throw new Error('no SMPP bind');
  return esme;
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

/** The message's timeline once its final delivery and its rated record are in it. */
function settledTimeline(id: string): Promise<GetMessageResponse> {
  return waitFor(
    async () => {
      const m = await getMessage(id).catch(() => undefined);
      const events = m?.timeline ?? [];
      const final = events.some((e) => e.event?.$case === 'delivery' && e.event.value.final);
      const rated = events.some((e) => e.event?.$case === 'rated');
      return final && rated ? m : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 300, what: `the settled timeline of ${id}` },
  );
}

/** Sends `to` a message; waits for its routing rule to be loaded (a message routed by the demo rule is resent). */
async function send(to: string, expectedFirst: string): Promise<string> {
  return waitFor(
    async () => {
      const id = acceptedId((await customer().submitText(to, 'Your code is 424242'))[0]!);
      const routed = await waitFor(
        async () => {
          const t = (await getMessage(id).catch(() => undefined))?.timeline ?? [];
          const r = t.find((e) => e.event?.$case === 'routed');
          return r?.event?.$case === 'routed' ? r.event.value : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: `the routing of ${id}` },
      );
      return routed.candidates[0]?.connectorId === expectedFirst ? id : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `routing to pick ${expectedFirst} first (rule loaded)` },
  );
}

const kinds = (m: GetMessageResponse) => m.timeline.map((e) => e.event?.$case ?? 'unknown');
const dispatchedVia = (m: GetMessageResponse) =>
  m.timeline.flatMap((e) => (e.event?.$case === 'dispatched' ? [e.event.value.connectorId] : []));

describe('re-routing fast failures', { timeout: 300_000 }, () => {
  it('an UNDELIV within the window goes once more through the next candidate: one DELIVRD receipt, one sale, both attempts in the timeline', async () => {
    const id = await send(ON, 'e2e-undeliv');
    const receipt = await customer().receipt(id, 60_000);
    expect(receipt.stat, receipt.text).toBe('DELIVRD');
    const m = await settledTimeline(id);
    expect(m.message).toMatchObject({ final: true, connectorId: 'sim-good' });
    expect(dispatchedVia(m)).toEqual(['e2e-undeliv', 'sim-good']);
    const order = kinds(m);
    // dispatch 1, its failing receipt, the re-route, dispatch 2, its receipt, one final delivery
    const at = (k: (typeof order)[number], from = 0) => order.indexOf(k, from);
    const d1 = at('dispatched');
    const r1 = at('receipt', d1);
    const rr = at('rerouted', r1);
    const d2 = at('dispatched', rr);
    const r2 = at('receipt', d2);
    expect(
      [d1, r1, rr, d2, r2].every((i) => i >= 0),
      order.join(' '),
    ).toBe(true);
    const rerouted = m.timeline[rr]!.event;
    expect(rerouted?.$case === 'rerouted' && rerouted.value.reason).toMatch(
      /^UNDELIV err \d{3} from e2e-undeliv/,
    );
    const finals = m.timeline.filter((e) => e.event?.$case === 'delivery' && e.event.value.final);
    expect(finals).toHaveLength(1);

    // The failures that must stand; their receipts are also the later records the counts below wait for.
    const off = await send(OFF, 'e2e-undeliv');
    const expired = await send(EXPIRED, 'e2e-expired');
    const slow = await send(SLOW, 'e2e-slow');
    expect((await customer().receipt(off, 60_000)).stat).toBe('UNDELIV');
    expect((await customer().receipt(expired, 60_000)).stat).toBe('EXPIRED');
    expect((await customer().receipt(slow, 60_000)).stat).toBe('UNDELIV');
    for (const other of [off, expired, slow]) {
      const t = await settledTimeline(other);
      expect(kinds(t)).not.toContain('rerouted');
      expect(dispatchedVia(t)).toHaveLength(1);
    }

    // Seen after every later message's receipt and rated record: still exactly one of each for `id`.
    expect(customer().receiptCount(id)).toBe(1);
    const deliveries = deliveryReader!.byKey(id).filter((d) => d.final);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.connectorId).toBe('sim-good');
    await waitFor(() => ratedReader!.byKey(slow).length > 0, { what: 'the last message rated' });
    const sales = ratedReader!.byKey(id).filter((r) => !r.internal);
    expect(sales).toHaveLength(1);
    const sell = sales[0]!.sell!;
    expect([sell.currencyCode, Number(sell.minorUnits) / 10 ** sell.scale]).toEqual(['EUR', 0.04]);
    // Both supplier costs: the sale names one connector, an internal record (zero sell) the other.
    const cost = await waitFor(
      () => ratedReader!.records.find((r) => r.value.reroutedMessageId === id)?.value,
      { what: 'the internal record of the other supplier attempt' },
    );
    expect(cost.internal).toBe(true);
    expect(cost.sell?.minorUnits ?? 0n).toBe(0n);
    expect(cost.buy?.minorUnits ?? 0n).toBeGreaterThan(0n);
    expect(sales[0]!.buy?.minorUnits ?? 0n).toBeGreaterThan(0n);
    expect([sales[0]!.connectorId, cost.connectorId].sort()).toEqual(['e2e-undeliv', 'sim-good']);
    // A message that was not re-routed has no such record.
    expect(ratedReader!.records.some((r) => r.value.reroutedMessageId === off)).toBe(false);
    expect(hub!.crashes()).toEqual([]);
  });
});
