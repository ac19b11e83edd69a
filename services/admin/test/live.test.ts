// Live operations over real gRPC and Kafka: ListConnectorStates from egress.connector-state.v1 (fresh,
// stale after 3 silent intervals, forgotten at a tombstone), ListConsumerLag of groups with a known backlog,
// WhoAmI for the bootstrap token and an expiring customer token; the role limits of the three.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountState,
  AdminServiceClient,
  BillingMode,
  ConnectorState,
  SessionBindState,
  TokenRole,
  topics as registry,
} from '@smshub/contracts';
import { createKafka, type Kafka } from '@smshub/kafka';
import {
  createIsolatedTopics,
  createTestTopics,
  testKafkaAdmin,
  testKafkaBrokers,
  uniqueName,
  waitFor,
} from '@smshub/testing';
import { startAdmin } from '../src/admin.js';
import type { GrpcServer } from '../src/server.js';
import { AdminHarness, CONNECTOR_KEY, TOKEN } from './harness.js';

const h = new AdminHarness();
let live: GrpcServer;
let client: AdminServiceClient;
let topic: typeof registry.connectorState;
let kafka: Kafka;
const secrets: Record<'operations' | 'finance' | 'customer', string> = {
  operations: '',
  finance: '',
  customer: '',
};
let customerAccount = '';

function call<T>(method: string, req: unknown, token: string = TOKEN): Promise<T> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.bind(client);
  return new Promise((resolve, reject) =>
    fn(req, md, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))),
  );
}

function record(replicaId: string, o: Partial<ConnectorState> = {}): ConnectorState {
  return ConnectorState.fromPartial({
    connectorId: 'con_live',
    replicaId,
    reportedAt: new Date(),
    reportIntervalMs: 400,
    enabled: true,
    sessions: [
      {
        bindType: 'transceiver',
        index: 0,
        state: SessionBindState.SESSION_BIND_STATE_BOUND,
        since: new Date(),
        windowInUse: 1,
      },
    ],
    windowInUse: 1,
    windowSize: 10,
    submitsPerSecond: 12,
    maxSubmitRate: 50,
    tpsShare: 23.75,
    throttledLastMinute: 3,
    liveReplicas: 2,
    ...o,
  });
}

beforeAll(async () => {
  await h.setup();
  kafka = createKafka({ clientId: uniqueName('admin-live'), brokers: testKafkaBrokers() }, h.logger);
  ({ connectorState: topic } = await createIsolatedTopics({ connectorState: registry.connectorState }));
  // A record already there when admin starts, from a replica that died 10 s ago: stale at once.
  await h.producer.produce(topic, record('r-dead', { reportedAt: new Date(Date.now() - 10_000) }));
  live = await startAdmin({
    pool: h.pool,
    producer: h.producer,
    topics: { ...h.topics, connectorState: topic },
    kafka,
    logger: h.logger,
    token: TOKEN,
    connectorKey: CONNECTOR_KEY,
    server: { port: 0, host: '127.0.0.1' },
  });
  client = new AdminServiceClient(`127.0.0.1:${live.port}`, grpc.credentials.createInsecure());
  const acc = await h.call('createAccount', {
    account: {
      id: '',
      name: 'Live Test Ltd',
      state: AccountState.ACCOUNT_STATE_ACTIVE,
      billingMode: BillingMode.BILLING_MODE_PREPAID,
      currencyCode: 'EUR',
      smppCredentials: [
        {
          systemId: uniqueName('live').slice(0, 15),
          password: 'Init1Pw9',
          passwordHash: '',
          allowedCidrs: [],
          maxBinds: 2,
          maxSubmitRate: 50,
          windowSize: 20,
        },
      ],
      defaultTrafficType: 0,
      allowedSources: [],
      receiptIncludeText: false,
      messageIdFormat: '',
      revision: 0n,
      routingGroup: '',
      defaultCountry: '',
      pricePlanId: '',
      defaultValiditySeconds: 0,
      chargeOn: 0,
    },
  });
  customerAccount = acc.account!.id;
  const roles = { operations: TokenRole.TOKEN_ROLE_OPERATIONS, finance: TokenRole.TOKEN_ROLE_FINANCE };
  for (const [role, r] of Object.entries(roles))
    secrets[role as 'operations'] = (
      await h.call('createToken', { name: `${role}-live`, role: r, accountId: '' })
    ).secret;
  secrets.customer = (
    await h.call('createToken', {
      name: 'customer-live',
      role: TokenRole.TOKEN_ROLE_CUSTOMER,
      accountId: customerAccount,
      expireTime: new Date(Date.now() + 86_400_000),
    })
  ).secret;
}, 120_000);

afterAll(async () => {
  client?.close();
  await live?.stop(1_000).catch(() => undefined);
  await h.teardown();
});

interface States {
  connectors: Array<{
    connectorId: string;
    sessionsBound: number;
    throttledLastMinute: number;
    replicas: Array<{ state: ConnectorState; stale: boolean }>;
  }>;
  caughtUp: boolean;
}

describe('ListConnectorStates', () => {
  it('merges the replicas, shows a silent one stale and forgets one at its tombstone', async () => {
    const states = () => call<States>('listConnectorStates', { connectorId: 'con_live' }, secrets.operations);
    // The replicas report every 200 ms (their records say 400 ms: stale after 1.2 s of silence) for as long
    // as the test looks at them fresh. One record each was not enough on a busy machine: r-a could turn
    // stale before r-b's record arrived, and they were never seen fresh together.
    let reporting = ['r-a', 'r-b'];
    const report = () => {
      for (const id of reporting)
        void h.producer
          .produce(topic, record(id, id === 'r-b' ? { throttledLastMinute: 4 } : {}))
          .catch(() => undefined);
    };
    report();
    const beat = setInterval(report, 200);
    try {
      const both = await waitFor(
        async () => {
          const s = await states();
          const c = s.connectors[0];
          return c && c.replicas.length === 3 && c.replicas.filter((r) => !r.stale).length === 2
            ? s
            : undefined;
        },
        { what: 'two fresh replicas and the dead one', timeoutMs: 15_000 },
      );
      expect(both.caughtUp).toBe(true);
      const c = both.connectors[0]!;
      expect(c.replicas.map((r) => [r.state.replicaId, r.stale])).toEqual([
        ['r-a', false],
        ['r-b', false],
        ['r-dead', true],
      ]);
      // The stale replica's figures are not counted.
      expect(c.sessionsBound).toBe(2);
      expect(c.throttledLastMinute).toBe(7);

      // r-b stops reporting: stale after 3 intervals (1.2 s) while r-a keeps reporting; its figures then
      // leave the totals. Read from one answer in which r-b is stale and r-a fresh.
      reporting = ['r-a'];
      const now = await waitFor(
        async () => {
          const con = (await states()).connectors[0];
          const stale = (id: string) => con?.replicas.find((r) => r.state.replicaId === id)?.stale;
          return stale('r-b') === true && stale('r-a') === false ? con : undefined;
        },
        { what: 'r-b stale while r-a is fresh', timeoutMs: 15_000 },
      );
      expect(now.throttledLastMinute).toBe(3);
    } finally {
      clearInterval(beat);
    }

    // A tombstone (a replica stopping) removes it.
    await h.producer.produceRaw(topic.name, 'con_live/r-b', null);
    await waitFor(
      async () => !(await states()).connectors[0]?.replicas.some((r) => r.state.replicaId === 'r-b'),
      { what: 'r-b forgotten', timeoutMs: 10_000 },
    );
  });

  it('is refused to customers and allowed to finance (no money in it)', async () => {
    await expect(call('listConnectorStates', {}, secrets.finance)).resolves.toBeDefined();
    await expect(call('listConnectorStates', {}, secrets.customer)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
  });
});

describe('admin without the connector state topic', () => {
  it('starts anyway (an upgrade before ops setup) and answers with what it has', async () => {
    const other = await startAdmin({
      pool: h.pool,
      producer: h.producer,
      topics: { ...h.topics, connectorState: { ...topic, name: uniqueName('no-such-topic') } },
      kafka,
      logger: h.logger,
      token: TOKEN,
      connectorKey: CONNECTOR_KEY,
      server: { port: 0, host: '127.0.0.1' },
    });
    const c = new AdminServiceClient(`127.0.0.1:${other.port}`, grpc.credentials.createInsecure());
    try {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${TOKEN}`);
      const res = await new Promise<{ connectors: unknown[] }>((resolve, reject) =>
        c.listConnectorStates({ connectorId: '' }, md, (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(res.connectors).toEqual([]);
    } finally {
      c.close();
      await other.stop(1_000);
    }
  });
});

describe('ListConsumerLag', () => {
  it("reports a group's backlog per partition, topic and in total, and its members", async () => {
    const [topicName] = (await createTestTopics(['lag'], 2)) as [string];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topicName,
      messages: [
        ...Array.from({ length: 6 }, (_, i) => ({ partition: 0, value: `a${i}` })),
        ...Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `b${i}` })),
      ],
    });
    await producer.disconnect();
    const behind = uniqueName('behind');
    const admin = await testKafkaAdmin();
    try {
      // 2 of partition 0 consumed, nothing of partition 1 committed: 4 + 4 behind.
      await admin.setOffsets({
        groupId: behind,
        topic: topicName,
        partitions: [{ partition: 0, offset: '2' }],
      });
    } finally {
      await admin.disconnect();
    }
    // A live group that has read everything.
    const caughtUp = uniqueName('caught-up');
    const consumer = kafka.consumer({ groupId: caughtUp });
    let read = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: topicName, fromBeginning: true });
    await consumer.run({ eachMessage: async () => void read++ });
    try {
      await waitFor(() => read === 10, { what: 'the live group to read all', timeoutMs: 30_000 });
      const res = await waitFor(
        async () => {
          const r = await call<{
            groups: Array<{
              group: string;
              members: number;
              lag: bigint;
              topics: Array<{
                topic: string;
                lag: bigint;
                partitions: Array<{
                  partition: number;
                  committedOffset: bigint;
                  endOffset: bigint;
                  lag: bigint;
                }>;
              }>;
            }>;
            totalLag: bigint;
          }>('listConsumerLag', { groups: [behind, caughtUp] }, secrets.operations);
          const live = r.groups.find((g) => g.group === caughtUp);
          return live && live.topics.length === 1 && live.lag === 0n ? r : undefined;
        },
        { what: 'the live group committed', timeoutMs: 20_000 },
      );
      expect(res.groups.map((g) => g.group)).toEqual([behind, caughtUp]);
      const b = res.groups[0]!;
      expect(b.lag).toBe(8n);
      expect(b.members).toBe(0);
      expect(
        b.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset, p.endOffset, p.lag]),
      ).toEqual([
        [0, 2n, 6n, 4n],
        [1, -1n, 4n, 4n],
      ]);
      expect(res.groups[1]!.members).toBe(1);
      expect(res.totalLag).toBe(8n);
    } finally {
      await consumer.disconnect();
    }
  });

  it('refuses a malformed group name and customers', async () => {
    await expect(call('listConsumerLag', { groups: ['bad group!'] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    await expect(call('listConsumerLag', { groups: [] }, secrets.customer)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
  });
});

describe('WhoAmI', () => {
  it('describes the bootstrap token and an expiring customer token', async () => {
    const boot = await call<Record<string, unknown>>('whoAmI', {});
    expect(boot).toMatchObject({ tokenKind: 'bootstrap', roles: ['admin'], accountId: '', tokenId: '' });
    expect(boot['permissions']).toContain('config.write');
    const cust = await call<Record<string, unknown>>('whoAmI', {}, secrets.customer);
    expect(cust).toMatchObject({
      tokenKind: 'token',
      roles: ['customer'],
      accountId: customerAccount,
      tokenName: 'customer-live',
    });
    expect(cust['tokenId']).not.toBe('');
    expect((cust['expireTime'] as Date).getTime()).toBeGreaterThan(Date.now());
    expect(cust['permissions']).not.toContain('config.read');
    const fin = await call<Record<string, unknown>>('whoAmI', {}, secrets.finance);
    expect(fin).toMatchObject({ roles: ['finance'] });
    expect(fin['expireTime']).toBeUndefined();
  });
});
