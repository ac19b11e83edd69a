// DeadLetterService over real gRPC, Kafka and PostgreSQL: a consumer group dead-letters a record; the
// groups and letters are listed (coordinates, error, message id, size; no body), replayed into that group
// only once (a second replay is refused unless forced), audited, and limited to admin and operations.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeadLetterServiceClient,
  SmsSubmitted,
  TokenRole,
  topics as registry,
  type ListDeadLetterGroupsResponse,
  type ListDeadLettersResponse,
  type ReplayDeadLettersResponse,
} from '@smshub/contracts';
import { createKafka, KafkaLibError, TypedConsumer } from '@smshub/kafka';
import { createIsolatedTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { startAdmin } from '../src/admin.js';
import type { GrpcServer } from '../src/server.js';
import { AdminHarness, CONNECTOR_KEY, TOKEN } from './harness.js';

const h = new AdminHarness();
let server: GrpcServer;
let client: DeadLetterServiceClient;
let consumer: TypedConsumer;
let submittedTopic: typeof registry.submitted;
const group = uniqueName('dl-group');
let broken = true;
const handled: string[] = [];
const tokens: Record<'operations' | 'finance' | 'customer', string> = {
  operations: '',
  finance: '',
  customer: '',
};

type Client = DeadLetterServiceClient;
function call<Req, Res>(
  method: (
    c: Client,
  ) => (req: Req, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => void,
  req: Req,
  token = TOKEN,
): Promise<Res> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    method(client).call(client, req, md, (err, res) => (err ? reject(err) : resolve(res))),
  );
}
const listGroups = (token = TOKEN): Promise<ListDeadLetterGroupsResponse> =>
  call((c) => c.listDeadLetterGroups, { includeEmpty: false }, token);
const listLetters = (token = TOKEN): Promise<ListDeadLettersResponse> =>
  call(
    (c) => c.listDeadLetters,
    { group, pageSize: 0, beforeOffset: 0n, oldestFirst: false, fromOffset: 0n },
    token,
  );
const replay = (
  req: { offsets?: bigint[]; upToOffset?: bigint; force?: boolean },
  token = TOKEN,
): Promise<ReplayDeadLettersResponse> =>
  call(
    (c) => c.replayDeadLetters,
    { group, offsets: req.offsets ?? [], force: req.force ?? false, ...req },
    token,
  );

beforeAll(async () => {
  await h.setup();
  const isolated = await createIsolatedTopics({ submitted: registry.submitted });
  submittedTopic = isolated.submitted;
  const kafka = createKafka({ clientId: uniqueName('admin-dl'), brokers: testKafkaBrokers() }, h.logger);
  server = await startAdmin({
    pool: h.pool,
    producer: h.producer,
    topics: h.topics,
    kafka,
    registry: { ...registry, submitted: submittedTopic },
    logger: h.logger,
    token: TOKEN,
    connectorKey: CONNECTOR_KEY,
    server: { port: 0, host: '127.0.0.1' },
  });
  client = new DeadLetterServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  const accountId = (
    await h.call('createAccount', {
      account: {
        id: '',
        name: 'DL Ltd',
        state: 1,
        billingMode: 1,
        currencyCode: 'EUR',
        smppCredentials: [
          {
            systemId: uniqueName('dl').slice(0, 15),
            password: 'Init1Pw9',
            passwordHash: '',
            allowedCidrs: [],
            maxBinds: 1,
            maxSubmitRate: 10,
            windowSize: 10,
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
    })
  ).account!.id;
  const roles = {
    operations: TokenRole.TOKEN_ROLE_OPERATIONS,
    finance: TokenRole.TOKEN_ROLE_FINANCE,
    customer: TokenRole.TOKEN_ROLE_CUSTOMER,
  };
  for (const [role, r] of Object.entries(roles) as [keyof typeof roles, TokenRole][]) {
    const res = await h.call('createToken', {
      name: `dl-${role}`,
      role: r,
      accountId: role === 'customer' ? accountId : '',
    });
    tokens[role] = res.secret;
  }
  consumer = new TypedConsumer(kafka, h.logger, {
    groupId: group,
    producer: h.producer,
    retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
    commitIntervalMs: 100,
  }).on(submittedTopic, (r) => {
    if (broken && r.value.messageId === 'msg-bad') throw new KafkaLibError('no route', { retriable: false });
    handled.push(r.value.messageId);
  });
  await consumer.start();
  for (const id of ['msg-ok', 'msg-bad'])
    await h.producer.produce(
      submittedTopic,
      SmsSubmitted.fromPartial({ messageId: id, shortMessage: Buffer.from('secret text') }),
    );
  await waitFor(() => handled.includes('msg-ok'), { what: 'the good record handled' });
}, 120_000);

afterAll(async () => {
  client?.close();
  await consumer?.stop();
  await server?.stop(1_000);
  await h.teardown();
});

describe('dead letters', () => {
  it('lists the group and its dead letter with origin, error and message id, never the body', async () => {
    const groups = await waitFor(
      async () => (await listGroups()).groups.find((g) => g.group === group && g.count === 1n),
      { what: 'the group listed with one dead letter', timeoutMs: 30_000 },
    );
    expect(groups.topic).toBe(`${group}.dlq`);
    expect(groups.newestTime).toBeInstanceOf(Date);
    const { deadLetters, nextOffset } = await listLetters(tokens.operations);
    expect(nextOffset).toBe(-1n);
    expect(deadLetters).toHaveLength(1);
    const dl = deadLetters[0]!;
    expect(dl).toMatchObject({
      offset: 0n,
      sourceTopic: submittedTopic.name,
      errorType: 'KafkaLibError',
      errorMessage: 'no route',
      attempts: 1,
      key: 'msg-bad',
      messageId: 'msg-bad',
      decodable: true,
      replayedBy: '',
    });
    expect(dl.size).toBeGreaterThan(0);
    expect(
      JSON.stringify(deadLetters, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain('secret text');
  });

  it('refuses finance and customer tokens', async () => {
    for (const role of ['finance', 'customer'] as const) {
      await expect(listGroups(tokens[role])).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
      await expect(replay({ offsets: [0n] }, tokens[role])).rejects.toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
      });
    }
  });

  it('replays into the group once the fault is fixed; a second replay is refused unless forced; audited', async () => {
    broken = false;
    const first = await replay({ offsets: [0n] }, tokens.operations);
    expect(first).toMatchObject({ replayed: 1n, alreadyReplayedCount: 0n, replayTopic: `${group}.replay` });
    await waitFor(() => handled.includes('msg-bad'), { what: 'the replayed record handled' });

    const again = await replay({ upToOffset: -1n }, tokens.operations);
    expect(again).toMatchObject({ replayed: 0n, alreadyReplayed: [0n], alreadyReplayedCount: 1n });
    const listed = await listLetters();
    expect(listed.deadLetters[0]!.replayedBy).toBe('dl-operations');
    expect(listed.deadLetters[0]!.replayedAt).toBeInstanceOf(Date);
    expect(listed.group!.replayed).toBe(1n);

    const forced = await replay({ offsets: [0n, 5n], force: true });
    expect(forced).toMatchObject({ replayed: 1n, missing: [5n] });
    await waitFor(() => handled.filter((id) => id === 'msg-bad').length === 2, {
      what: 'the forced replay handled',
    });
    expect(handled.filter((id) => id === 'msg-ok')).toHaveLength(1);

    const audit = await waitFor(
      () => h.audits.filter((a) => a.method === 'ReplayDeadLetters' && a.resourceId === group),
      { what: 'audit events', timeoutMs: 15_000 },
    );
    await waitFor(() => h.audits.filter((a) => a.method === 'ReplayDeadLetters').length >= 3, {
      what: 'three audited replays',
    });
    expect(audit[0]!.resourceKind).toBe('dead_letters');
    expect(audit[0]!.role).toBe('operations');
  });

  it('answers NOT_FOUND for a group without dead-letter topic and INVALID_ARGUMENT for an ambiguous replay', async () => {
    await expect(
      call((c) => c.listDeadLetters, {
        group: 'no-such-group',
        pageSize: 0,
        beforeOffset: 0n,
        oldestFirst: false,
        fromOffset: 0n,
      }),
    ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(replay({ offsets: [0n], upToOffset: 0n })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });
});
